"""The Voice of Korea parser on hand-written pages (tests/pages/vok/) that follow docs/design.md,
and on hand-written variants with markup the parser has not been told about."""

import json
from pathlib import Path

import pytest
from lxml import etree

from dprk_archive import html_text
from dprk_archive.models import Article, ListingEntry, MediaItem
from dprk_archive.parse import ParseError, parse_listing, parse_page
from dprk_archive.text import canonical_text

PAGES = Path(__file__).parent / "pages" / "vok"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MIRROR = "http://127.0.0.1:8765"


def page(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


def text_page(name: str) -> str:
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


# --- article pages -------------------------------------------------------------------------------

COMDE_BODY = [
    "Joint rallies of working people's organizations were held in Pyongyang City, North and South Phyongan, "
    "North and South Hwanghae, Jagang, Kangwon, North and South Hamgyong and Ryanggang Provinces and Nampho, "
    "Rason and Kaesong Cities.",
    "At the rallies, speakers said the respected Kim Jong Un clearly indicated the most correct and detailed plan of struggle.",
    "Letters of pledge to Kim Jong Un were adopted at the rallies. A sentence broken in the middle.",
    "Then, there were mass processions.",
]


def test_comde_article_on_the_mirror():
    article = parse_page(page("comde_ien261006004"), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")
    assert article == Article(
        source="Voice of Korea",
        id="ien261006004",
        url="http://vok.rep.kp/index.php/detail_com/comde/ien261006004/18/en",
        title="Joint rallies held across the country",
        subtitle="Working people pledge to carry out first-year tasks",
        published="2026-10-07",  # p.article-date, not the heading's dateline (September 30) nor the id (261006)
        published_raw="2026.10.7",
        body="\n\n".join(COMDE_BODY),
        category="18",
        family="comde",
        via=None,
        extraction="selector",
        warnings=[],
        encoding="utf-8",
        encoding_decided_by="meta",
    )


def test_leader_name_in_its_own_element_joins_the_words_around_it():
    body = parse_page(page("comde_ien261006004"), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en").body
    assert "Letters of pledge to Kim Jong Un were adopted at the rallies." in body
    assert "toKim" not in body and "Unwere" not in body and "Un\n" not in body


def test_body_survives_the_canonical_text_round_trip():
    body = parse_page(page("comde_ien261006004"), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en").body
    assert canonical_text(body) == canonical_text("\n\n".join(COMDE_BODY))
    for paragraph in body.split("\n\n"):
        assert paragraph == paragraph.strip() and "\n" not in paragraph and "\u00a0" not in paragraph


def test_revo_de_with_br_br_paragraphs_and_a_three_line_heading():
    article = parse_page(
        page("revo_de_ien261001002"), "http://www.vok.rep.kp/index.php/revo_de/getDetail/ien261001002/en"
    )
    assert (article.id, article.family, article.category) == ("ien261001002", "revo_de", None)
    assert article.url == "http://vok.rep.kp/index.php/revo_de/getDetail/ien261001002/en"
    assert article.title == '"Respects to the Glorious 80-Year-Long History of Kim Il Sung University"'
    assert (
        article.subtitle
        == "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung University"
    )
    assert (article.published, article.published_raw) == ("2026-10-01", "2026.10.1")
    assert article.body.split("\n\n") == [
        "The celebration of the 80th founding anniversary of Kim Il Sung University took place on September 30.",
        "The respected Comrade Kim Jong Un made a speech at the celebration.",
        "He said that the university has trained a great many talents for the country over eight decades.",
        "\u201cWe will always remember your devotion,\u201d he said.",
    ]
    # no <meta charset> on this page, served as bare text/html: still UTF-8, decided by the bytes
    assert (article.encoding, article.encoding_decided_by) == ("utf-8", "utf-8")


def test_revo_de_served_with_a_contradicting_latin1_header():
    article = parse_page(
        page("revo_de_ien261001002"),
        f"{MIRROR}/index.php/revo_de/getDetail/ien261001002/en",
        "text/html; charset=iso-8859-1",
    )
    assert article.body.endswith("\u201cWe will always remember your devotion,\u201d he said.")
    assert (article.encoding, article.encoding_decided_by) == ("utf-8", "utf-8")


def test_gude_question_and_answer_keeps_curly_quotes():
    article = parse_page(page("gude_iee260930006"), f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en/")
    assert (article.id, article.family, article.category) == ("iee260930006", "gude", "95")
    assert article.url == "http://vok.rep.kp/index.php/detail_com/gude/iee260930006/95/en"
    assert (article.title, article.subtitle) == ("Answer: About Famous Libraries in the DPRK", None)
    assert article.body == (
        "Dear listener, thank you for your question about the \u201cGrand People\u2019s Study House\u201d.\n\n"
        "The Grand People\u2019s Study House in Pyongyang is a centre of learning for all people."
    )
    assert article.encoding_decided_by == "meta"


def test_windows_1252_page_with_a_header_charset():
    html = text_page("gude_iee260930006").replace(
        'content="text/html; charset=utf-8"', 'content="text/html; charset=windows-1252"'
    )
    article = parse_page(
        html.encode("cp1252", "xmlcharrefreplace"),
        f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en",
        "text/html; charset=windows-1252",
    )
    assert (article.encoding, article.encoding_decided_by) == ("cp1252", "header")
    assert "\u201cGrand People\u2019s Study House\u201d" in article.body


def test_dateline_glued_to_a_single_line_heading_is_removed():
    heading = (
        '<h2 class="article-title">"Respects to the Glorious 80-Year-Long History of Kim Il Sung University"'
        "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung UniversitySeptember 30, 2026</h2>"
    )
    html = text_page("comde_ien261006004").replace(
        '<h2 class="article-title">Joint rallies held across the country<br>Working people pledge to carry out first-year tasks<br>September 30, 2026</h2>',
        heading,
    )
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")
    assert article.title == (
        '"Respects to the Glorious 80-Year-Long History of Kim Il Sung University"'
        "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung University"
    )
    assert article.subtitle is None


def test_date_falls_back_to_the_heading_dateline():
    html = text_page("comde_ien261006004").replace('<p class="article-date">2026.10.7</p>', "")
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")
    assert (article.published, article.published_raw) == ("2026-09-30", "September 30, 2026")
    assert article.warnings == []


def test_no_date_at_all_is_a_warning_not_an_error():
    html = text_page("gude_iee260930006").replace('<p class="article-date">2026.10.7</p>', "")
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en")
    assert (article.published, article.published_raw) == (None, None)
    assert article.warnings == ["no date on the page"]


def test_future_date_keeps_the_article_and_the_raw_date_with_a_warning():
    html = text_page("gude_iee260930006").replace("2026.10.7", "2999.10.7")
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en")
    assert (article.published, article.published_raw) == (None, "2999.10.7")
    assert len(article.warnings) == 1 and article.warnings[0].startswith("date 2999-10-07 is in the future")


def test_invalid_utf8_is_replaced_and_reported():
    body = page("gude_iee260930006").replace(b"Dear listener", b"Dear \xff listener")
    article = parse_page(body, f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en", "text/html; charset=utf-8")
    assert article.body.startswith("Dear \ufffd listener")
    assert article.warnings == ["1 undecodable bytes replaced by U+FFFD (utf-8)"]


# --- media pages ---------------------------------------------------------------------------------


def test_video_page_is_a_media_item():
    item = parse_page(page("vi_video_ien261005004"), f"{MIRROR}/index.php/detail_com/vi_video/ien261005004")
    assert item == MediaItem(
        source="Voice of Korea",
        id="ien261005004",
        url="http://vok.rep.kp/index.php/detail_com/vi_video/ien261005004",
        kind="video",
        title="Scientific symposium held to mark first anniversary of establishment of Pyongyang General Hospital",
        published="2026-10-07",
        published_raw="2026.10.7",
        encoding="utf-8",
        encoding_decided_by="meta",
    )


def test_audio_page_is_a_media_item():
    item = parse_page(page("vi_audio_iee260921012"), "http://www.vok.rep.kp/index.php/detail_com/vi_audio/iee260921012")
    assert isinstance(item, MediaItem)
    assert (item.kind, item.id, item.title, item.published) == (
        "audio",
        "iee260921012",
        "Precious Wealth",
        "2026-10-04",
    )
    assert item.url == "http://vok.rep.kp/index.php/detail_com/vi_audio/iee260921012"


def test_media_page_without_a_heading_but_with_a_player_is_still_media():
    html = text_page("vi_audio_iee260921012").replace('<h2 class="article-title">Precious Wealth</h2>', "")
    item = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/vi_audio/iee260921012")
    assert isinstance(item, MediaItem) and item.title is None and item.published == "2026-10-04"


def test_media_url_serving_a_not_found_page_is_an_error():
    with pytest.raises(ParseError, match="soft 404"):
        parse_page(page("not_found"), f"{MIRROR}/index.php/detail_com/vi_video/ien261005004")


# --- pages that must not become records ------------------------------------------------------------


def test_parse_error_names_the_url_and_the_reason():
    url = f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en"
    with pytest.raises(ParseError) as caught:
        parse_page(b"", url)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.url, caught.value.reason) == (url, "empty body")
    assert str(caught.value) == f"{url}: empty body"


@pytest.mark.parametrize("body", [b"", b"   \r\n\t "])
def test_empty_body(body):
    with pytest.raises(ParseError, match="empty body"):
        parse_page(body, f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_page_is_an_error(cut):
    body = page("comde_ien261006004")
    with pytest.raises(ParseError, match="truncated"):
        parse_page(body[: int(len(body) * cut)], f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")
    with pytest.raises(ParseError, match="truncated"):
        parse_listing(page("home_en")[: int(len(page("home_en")) * cut)], f"{MIRROR}/index.php/home/main/en")


def test_page_ending_in_body_without_html_is_complete():
    body = page("gude_iee260930006").replace(b"</html>", b"")
    assert parse_page(body, f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en").id == "iee260930006"


def test_not_found_page_served_with_200_is_a_soft_404():
    with pytest.raises(ParseError, match="soft 404"):
        parse_page(page("not_found"), f"{MIRROR}/index.php/detail_com/comde/ien261006009/18/en")


@pytest.mark.parametrize("name", ["home_en", "listing_newslist_18_en_2"])
def test_home_page_or_listing_at_an_article_url_is_a_soft_404(name):
    with pytest.raises(ParseError, match="soft 404: an article URL served a listing or the home page"):
        parse_page(page(name), f"{MIRROR}/index.php/detail_com/comde/ien261006009/18/en")


def test_no_title_is_an_error():
    html = text_page("gude_iee260930006").replace("Answer: About Famous Libraries in the DPRK", "")
    with pytest.raises(ParseError, match="no title"):
        parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en")


def test_site_wide_title_is_never_the_article_title():
    # No heading anywhere but <title>Voice of Korea</title>: no title, not "Voice of Korea".
    html = (
        text_page("gude_iee260930006")
        .replace('<h2 class="article-title">Answer: About Famous Libraries in the DPRK</h2>', "")
        .replace('class="article-body"', 'class="text"')
    )
    with pytest.raises(ParseError, match="no title"):
        parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en")


def test_empty_body_container_is_an_error():
    html = text_page("vi_audio_iee260921012").replace(
        '<iframe src="/hls/player/iee260921012"></iframe>', '<div class="article-body">\n&nbsp;<br>\n</div>'
    )
    with pytest.raises(ParseError, match="no text"):
        parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/comde/iee260921012/57/en")


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://vok.rep.kp/index.php/home/main/en", "a listing page"),
        ("http://vok.rep.kp/index.php/Colist/newslist/18/en", "a listing page"),
        ("http://vok.rep.kp/index.php/detail_com/unknown/ien261006004", "not a page of an outlet the archive reads"),
    ],
)
def test_urls_that_are_not_article_pages(url, reason):
    with pytest.raises(ParseError, match=reason):
        parse_page(page("comde_ien261006004"), url)


# --- markup we have not seen: the content-density fallback ------------------------------------------


def test_variant_with_other_class_names():
    article = parse_page(page("variant_classes"), f"{MIRROR}/index.php/detail_com/comde/ien261006002/18/en")
    assert article.extraction == "density"
    assert (article.title, article.subtitle) == ("Successes made in construction of minor power stations", None)
    assert (article.published, article.published_raw) == ("2026-10-06", "2026.10.6")
    assert article.body.split("\n\n") == [
        "Successes are being made in the construction of minor power stations across the country.",
        "Builders of North Phyongan Province completed three stations on the Chongchon River, ahead of schedule.",
        "The stations will supply electricity to farms and local factories in the area.",
    ]
    assert article.warnings == [
        "div.article-body not found: body taken from the densest block <div>",
        "title container not found: title taken from <h1>",
        "date container not found: date taken from <span>",
    ]


def test_variant_with_a_table_layout_and_br_paragraphs():
    article = parse_page(page("variant_table"), f"{MIRROR}/index.php/detail_com/comde/iee260819015/69/en")
    assert article.extraction == "density"
    assert (article.title, article.published) == ("Eyesight Restored", "2026-10-04")
    assert article.body.split("\n\n") == [
        "Ri Myong Sil, a worker in Kaechon, lost her eyesight in an accident at work last spring.",
        "Doctors of the Ryugyong Ophthalmic Hospital performed several operations on her free of charge.",
        "Now she can see again and has returned to her workplace.",
    ]


def test_variant_with_deep_nesting_and_div_paragraphs():
    article = parse_page(page("variant_nested"), f"{MIRROR}/index.php/detail_com/comde/iee260922004/69/en")
    assert article.extraction == "density"
    assert (article.title, article.published) == ("Mausoleum of King Tangun", "2026-10-03")
    assert article.body.split("\n\n") == [
        "The Mausoleum of King Tangun stands at the foot of Mt. Taebak in Kangdong County, Pyongyang.",
        "King Tangun is the founder of Kojoson, the first ancient state of the Korean nation.",
        "The mausoleum was rebuilt in 1994 on a grand scale.",
    ]


def test_density_fallback_on_the_design_page_without_its_body_class():
    # Only the body container's class changed: title and date still come from their selectors.
    html = text_page("comde_ien261006004").replace('class="article-body"', 'class="article-text"')
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")
    assert article.extraction == "density"
    assert article.body == "\n\n".join(COMDE_BODY)
    assert (article.title, article.published) == ("Joint rallies held across the country", "2026-10-07")
    assert article.warnings == ["div.article-body not found: body taken from the densest block <div>"]


def test_related_block_moved_inside_the_body_stays_out():
    html = (
        text_page("comde_ien261006004")
        .replace(
            '<p>Then, there were mass processions.</p>\n  </div>\n  <div class="related">',
            '<p>Then, there were mass processions.</p>\n  <div class="related">',
        )
        .replace("</ul></div>\n</div>", "</ul></div></div>\n</div>")
    )
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/comde/ien261006004/18/en")
    assert article.body == "\n\n".join(COMDE_BODY)


# --- KCNA's leader-name markup (real data: fixtures-real/kcna-rb-xml/ar0099775_ja.xml) -----------------


def kcna_fixture():
    path = FIXTURES / "ar0099775_ja.xml"
    data = etree.fromstring(path.read_bytes()).find("NData")
    return data.findtext("mainTitle"), data.findtext("content")


def test_kcna_leader_name_markup_and_single_br_paragraphs():
    title, content = kcna_fixture()
    html = text_page("comde_ien261006004")
    start, end = html.index('<h2 class="article-title">'), html.index('<div class="related">')
    html = (
        html[:start]
        + f'<h2 class="article-title">{title}</h2><p class="article-date">2017.07.05</p></div>'
        + f'<div class="article-body">{content}</div>'
        + html[end:]
    )
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/comde/ijp170705001/18/en")
    assert article.title == "金日成主席回顧インドネシア委を結成"
    assert article.published == "2017-07-05"
    # the name's own element adds no space ("】金日成主席"), and "。<br>" ends a paragraph
    assert article.body.split("\n\n") == [
        "【平壌７月５日発朝鮮中央通信】金日成主席回顧インドネシア委員会が、６月２２日に結成された。",
        "同回顧委員会の委員長にインドネシア先鋒者党中央指導理事会書記長のリスティヤント氏が選出された。",
        "回顧委員会は、６月２５日から７月１０日までを回顧期間に定め、この期間に金日成主席の革命的生涯と業績をたたえる政治・文化行事を催すことにした。－－－",
    ]


# --- listings --------------------------------------------------------------------------------------


def test_home_page_entries_in_order_without_chrome_or_duplicates():
    listing = parse_listing(page("home_en"), f"{MIRROR}/index.php/home/main/en")
    assert listing.entries == [
        ListingEntry(
            f"{MIRROR}/index.php/revo_de/getDetail/ien261003020/en",
            "ien261003020",
            "revo_de",
            "Strategic missile launching drill conducted in eastern region of DPRK",
            "2026.10.4",
        ),
        ListingEntry(
            "http://www.vok.rep.kp/index.php/revo_de/getDetail/ien261001002/en",
            "ien261001002",
            "revo_de",
            '"Respects to the Glorious 80-Year-Long History of Kim Il Sung University" '
            "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung University",
            "2026.10.1",
        ),
        # first seen as an image link: position and URL of the first, title and date of the text link
        ListingEntry(
            "http://vok.rep.kp/index.php/detail_com/comde/ien261006004/18/en",
            "ien261006004",
            "comde",
            "Respected Comrade Kim Jong Un sends congratulatory message to President of Russian Federation",
            "2026.10.7",
        ),
        ListingEntry(
            "http://www.vok.rep.kp/index.php/detail_com/vi_video/ien261005004",
            "ien261005004",
            "vi_video",
            "Scientific symposium held to mark first anniversary of establishment of Pyongyang General Hospital",
            "2026.10.7",
        ),
        ListingEntry(
            f"{MIRROR}/index.php/detail_com/vi_audio/iee260921012",
            "iee260921012",
            "vi_audio",
            "Precious Wealth",
            "2026.10.4",
        ),
        # date after the link instead of inside it
        ListingEntry(
            f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en",
            "iee260930006",
            "gude",
            "Answer: About Famous Libraries in the DPRK",
            "2026.10.7",
        ),
        ListingEntry(
            f"{MIRROR}/index.php/detail_com/comde/iee260819022/87/en",
            "iee260819022",
            "comde",
            'Orchestral Music "The Blue Sky over My Country"',
            "2026.9.22",
        ),
    ]
    assert listing.next_url is None
    assert listing.listing_urls == [
        f"{MIRROR}/index.php/Colist/newslist/18/en",
        "http://www.vok.rep.kp/index.php/Colist/newslist1/48/en",
        f"{MIRROR}/index.php/Colist/revolist/1/en",
        f"{MIRROR}/index.php/Colist/pclist/43/en",
    ]


def test_listing_page_entries_next_page_and_menu():
    listing = parse_listing(page("listing_newslist_18_en_2"), f"{MIRROR}/index.php/Colist/newslist/18/en/2")
    assert [(entry.id, entry.family, entry.title, entry.date_raw) for entry in listing.entries] == [
        ("ien261003007", "comde", "Planned construction projects concluded in succession", "2026.10.7"),
        ("ien261005008", "comde", "Premier Pak Thae Song makes field survey of different sectors", "2026.10.6"),
        ("iee260730001", "vi_video", "The Most Important Work", "2026.10.7"),
        ("iee260910011", "comde", "Strong Root", "2026.10.6"),
    ]
    assert listing.entries[1].url == "http://127.0.0.1:8765/index.php/detail_com/comde/ien261005008/48/en"
    assert listing.next_url == f"{MIRROR}/index.php/Colist/newslist/18/en/3"
    # the menu's listings, page 1 of this one included; paging links (page 3) are reached through next_url
    assert listing.listing_urls == [
        f"{MIRROR}/index.php/Colist/newslist/18/en",
        f"{MIRROR}/index.php/Colist/newslist1/48/en",
        f"{MIRROR}/index.php/Colist/plist/57/en",
    ]


@pytest.mark.parametrize(
    "paging",
    [
        '<a href="/index.php/Colist/newslist/18/en/3">다음</a>',
        '<a href="/index.php/Colist/newslist/18/en/3">Next</a>',
        '<a href="/index.php/Colist/newslist/18/en/3"> » </a>',
        '<a href="/index.php/Colist/newslist/18/en/3">›</a>',
        '<a class="btn-next" href="/index.php/Colist/newslist/18/en/3"><img src="/img/arrow.png" alt=""></a>',
        '<a href="#">1</a> <a class="next disabled">다음</a> <a href="/index.php/Colist/newslist/18/en/3" class="pg next">다음</a>',
    ],
)
def test_next_page_link_by_class_or_text(paging):
    html = text_page("listing_newslist_18_en_2")
    start, end = html.index('<div class="paging">'), html.index("</div>\n</div>")
    html = html[:start] + f'<div class="paging">{paging}' + html[end:]
    listing = parse_listing(html.encode(), f"{MIRROR}/index.php/Colist/newslist/18/en/2")
    assert listing.next_url == f"{MIRROR}/index.php/Colist/newslist/18/en/3"


def test_last_listing_page_has_no_next():
    html = text_page("listing_newslist_18_en_2").replace(
        '<a class="next" href="/index.php/Colist/newslist/18/en/3">다음</a>', ""
    )
    assert parse_listing(html.encode(), f"{MIRROR}/index.php/Colist/newslist/18/en/2").next_url is None


def test_listing_not_found_is_an_error():
    html = text_page("listing_newslist_18_en_2").replace(
        "<title>Voice of Korea</title>", "<title>404 Not Found</title>"
    )
    with pytest.raises(ParseError, match="soft 404"):
        parse_listing(html.encode(), f"{MIRROR}/index.php/Colist/newslist/18/en/2")


def dispatches():
    path = FIXTURES / "vok_dispatches.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_real_home_page_links_from_vok_dispatches():
    # 72 real links from the VOK English home page: 9 language names, then 63 items of every family.
    items = dispatches()
    anchors = []
    for number, item in enumerate(items):
        marker = "·" if number % 2 else "-"
        text = f"{marker}{item['title']} ({item['date']})" if item["date"] else item["title"]
        anchors.append(f'<li><a href="{item["url"]}">{text.replace("&", "&amp;").replace("<", "&lt;")}</a></li>')
    html = text_page("home_en")
    start, end = html.index('<div class="block">'), html.index('<div class="footer">')
    html = html[:start] + '<div class="block"><h3>News</h3><ul>' + "\n".join(anchors) + "</ul></div>\n" + html[end:]
    listing = parse_listing(html.encode(), "http://vok.rep.kp/index.php/home/main/en")

    assert len(listing.entries) == 63
    families = {}
    for entry in listing.entries:
        families[entry.family] = families.get(entry.family, 0) + 1
    assert families == {"revo_de": 5, "comde": 23, "vi_video": 25, "vi_audio": 7, "gude": 3}
    first, fourth, last = listing.entries[0], listing.entries[3], listing.entries[-1]
    assert (first.id, first.family, first.title, first.date_raw) == (
        "ien261003020",
        "revo_de",
        "Strategic missile launching drill conducted in eastern region of DPRK",
        "2026.10.4",
    )
    # the real flattened heading: headline and subtitle glued, dateline glued at the end and removed
    assert (fourth.id, fourth.title, fourth.date_raw) == (
        "ien261001002",
        '"Respects to the Glorious 80-Year-Long History of Kim Il Sung University"'
        "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung University",
        "2026.10.1",
    )
    assert (last.id, last.family, last.title, last.date_raw) == (
        "iee260904005",
        "vi_audio",
        "First E-mail from Raffaello Bisso",
        "2026.9.12",
    )
    by_id = {entry.id: entry for entry in listing.entries}
    assert by_id["iee260819030"].title == 'Incident of Intrusion by the US Aggressor Ship "General Sherman"'
    assert by_id["iee250905003"].title == "Wonsan Kalma Coastal Tourist Area (4)"  # "(4)" is not a date
    assert by_id["iee260717040"].title == "Health Care in Sultry Weather--Nutrition Administration--"
    assert by_id["iee260612010"].title == 'Song "Traces of Soldier"-Requested by Jorge Assis Meltan of Brazil-'
    # every title and date as harvested, except the one with the glued dateline
    for item in items[9:]:
        entry = next(entry for entry in listing.entries if entry.url == item["url"])
        assert entry.date_raw == item["date"]
        if entry.id != "ien261001002":
            assert entry.title == item["title"]


# --- element -> text rules (html_text) ----------------------------------------------------------------


def element(html: str):
    return etree.fromstring(f"<html><body><div>{html}</div></body></html>", etree.HTMLParser()).find(".//div")


@pytest.mark.parametrize(
    "html, expected",
    [
        ("First.<br><br>Second.", ["First.", "Second."]),
        ("First.<br>\n&nbsp;<br/>Second.", ["First.", "Second."]),
        ("A sentence broken<br>in the middle.", ["A sentence broken in the middle."]),
        ("A sentence broken\n   in the source.", ["A sentence broken in the source."]),
        ("It ended.<br>A new paragraph.", ["It ended.", "A new paragraph."]),
        ("He said \u201cIt ended.\u201d<br>Next.", ["He said \u201cIt ended.\u201d", "Next."]),
        ("<p>One</p>Two <span>and</span> three<p>Four</p>", ["One", "Two and three", "Four"]),
        ("<table><tr><td>Cell one</td><td>Cell two</td></tr></table>", ["Cell one", "Cell two"]),
        ("Kept<script>var hidden = 1;</script> text<style>p {}</style>.", ["Kept text."]),
        ("&nbsp;&nbsp;&nbsp;Indented&nbsp;text\u00a0here  ", ["Indented text here"]),
        ("Zero\u200bwidth\ufeff", ["Zerowidth"]),
        ("Cafe\u0301", ["Caf\u00e9"]),
        (
            "to\n<nobr><strong><font style='font-size:11pt;'>Kim Jong Un</font></strong></nobr>\nwere",
            ["to Kim Jong Un were"],
        ),
        (
            "\u3011<nobr><strong>\u91d1\u65e5\u6210</strong></nobr>\u4e3b\u5e2d",
            ["\u3011\u91d1\u65e5\u6210\u4e3b\u5e2d"],
        ),
    ],
)
def test_paragraph_rules(html, expected):
    assert html_text.paragraphs(element(html)) == expected


def test_lines_end_at_every_br():
    assert html_text.lines(element("Headline<br>Subtitle<br>\n September 30, 2026 ")) == [
        "Headline",
        "Subtitle",
        "September 30, 2026",
    ]
    assert html_text.inline_text(element("·Title<br>more (2026.10.4)")) == "·Title more (2026.10.4)"


def test_linked_heading_from_the_selector_is_still_the_title():
    html = text_page("gude_iee260930006").replace(
        "Answer: About Famous Libraries in the DPRK",
        '<a href="/index.php/detail_com/gude/iee260930006/95/en">Answer: About Famous Libraries in the DPRK</a>',
    )
    article = parse_page(html.encode(), f"{MIRROR}/index.php/detail_com/gude/iee260930006/95/en")
    assert article.title == "Answer: About Famous Libraries in the DPRK" and article.warnings == []


def test_listing_links_resolve_against_base_href():
    html = text_page("listing_newslist_18_en_2").replace("<title>", '<base href="http://www.vok.rep.kp/"><title>')
    listing = parse_listing(html.encode(), f"{MIRROR}/index.php/Colist/newslist/18/en/2")
    assert listing.entries[0].url == "http://www.vok.rep.kp/index.php/detail_com/comde/ien261003007/18/en"
    assert listing.next_url == "http://www.vok.rep.kp/index.php/Colist/newslist/18/en/3"
