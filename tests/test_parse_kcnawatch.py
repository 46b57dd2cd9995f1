"""The aggregator layout (KCNA Watch) on hand-written pages built from the seed text (tests/fixtures/, from shared/seed/)."""

from pathlib import Path

import pytest

from dprk_archive.parse import ParseError, parse_page
from dprk_archive.sources import classify_url, kcnawatch
from dprk_archive.text import canonical_text

PAGES = Path(__file__).parent / "pages" / "kcnawatch"
SEED = Path(__file__).resolve().parent / "fixtures" / "seed_000_ffc4652c616b7d12.txt"
URL = "https://kcnawatch.org/newstream/1763540000-123/joint-rallies-held/"

SEED_BODY = [
    "Joint rallies of working people's organizations were held in Pyongyang City, North and South Phyongan, "
    "North and South Hwanghae, Jagang, Kangwon, North and South Hamgyong and Ryanggang Provinces and Nampho, "
    "Rason and Kaesong Cities to carry through the first-year tasks of the five-year plan set forth at the "
    "Eighth Congress of the Workers' Party of Korea.",
    "At the rallies, speakers said the respected Kim Jong Un clearly indicated the most correct and detailed plan "
    "of struggle for implementing the decisions of the Eighth Party Congress at the Second Plenary Meeting of the "
    "Eighth Central Committee of the WPK.",
    "They stressed the need to adorn the first-year drive of implementing the decisions of the Party Congress with "
    "proud innovations and progress in the indomitable revolutionary spirit and through death-defying struggle and "
    "thus implement the decision of the Second Plenary Meeting of the Eighth Party Central Committee most "
    "wonderfully and perfectly.",
    "Letters of pledge to Kim Jong Un were adopted at the rallies.",
    "Then, there were mass processions.",
]


def page(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


def test_article_keeps_its_outlet_and_says_it_came_via_kcna_watch():
    article = parse_page(page("newstream_joint_rallies"), URL)
    assert (article.source, article.via) == ("Voice of Korea", "KCNA Watch")
    assert (article.id, article.family, article.category) == ("kcnawatch-1763540000-123", "newstream", None)
    assert article.url == URL
    assert (article.title, article.subtitle) == ("Joint Rallies Held", None)
    # the article header's date, not the teasers' p.articled-date after the body
    assert (article.published, article.published_raw) == ("2025-11-19", "November 19, 2025")
    assert article.extraction == "selector"
    assert article.warnings == []
    assert article.body.split("\n\n") == SEED_BODY


def test_body_equals_the_seed_text():
    seed = SEED.read_text(encoding="utf-8").splitlines()
    seed_body = seed[: seed.index("More From Voice of Korea (EN)")]
    article = parse_page(page("newstream_joint_rallies"), URL)
    assert canonical_text(article.body) == canonical_text(" ".join(seed_body))


def test_more_from_teasers_navigation_other_news_and_footer_never_leak_into_the_body():
    body = parse_page(page("newstream_joint_rallies"), URL).body
    for leak in (
        "More From",
        "More Articles",
        "The respected Comrade Kim Jong Un, General Secretary",
        "Kalma Foodstuff Factory",
        "November 18, 2025",
        "Other News",
        "Kim Yo Jong",
        "Newstream",
        "KCTV Archive",
        "Share on",
        "Korea Risk Group",
        "dataLayer",
    ):
        assert leak not in body


def test_leader_name_on_its_own_line_in_its_own_element_is_rejoined():
    body = parse_page(page("newstream_joint_rallies"), URL).body
    assert "speakers said the respected Kim Jong Un clearly indicated" in body
    assert "Letters of pledge to Kim Jong Un were adopted at the rallies." in body


def test_unknown_container_falls_back_to_density_and_reads_the_outlet_from_more_from():
    # article-content renamed and the source badge gone: body by density, outlet from "More From … (EN)"
    article = parse_page(page("newstream_unknown_container"), URL + "?utm_source=feed#top")
    assert article.extraction == "density"
    assert article.body.split("\n\n") == SEED_BODY
    assert (article.source, article.via, article.url) == ("Voice of Korea", "KCNA Watch", URL)
    assert (article.title, article.published) == ("Joint Rallies Held", "2025-11-19")
    assert article.warnings == ["div.article-content not found: body taken from the densest block <div>"]


def test_outlet_not_shown_anywhere_is_a_warning():
    html = page("newstream_joint_rallies").decode()
    html = html.replace(
        '<span class="article-source"><a href="https://kcnawatch.org/article/163/">Voice of Korea (EN)</a></span>', ""
    )
    html = html.replace("<h3>More From Voice of Korea (EN)</h3>", "<h3>Related</h3>")
    article = parse_page(html.encode(), URL)
    assert (article.source, article.via) == ("KCNA Watch", "KCNA Watch")
    assert article.warnings == ["original outlet not shown on the page"]


def test_truncated_aggregator_page_is_an_error():
    body = page("newstream_joint_rallies")
    with pytest.raises(ParseError, match="truncated"):
        parse_page(body[: body.index(b"More From")], URL)


@pytest.mark.parametrize(
    "url, expected_id",
    [
        (URL, "kcnawatch-1763540000-123"),
        ("http://www.kcnawatch.org/newstream/1763540000-123/joint-rallies-held", "kcnawatch-1763540000-123"),
        ("https://kcnawatch.org/newstream/1600000000-7/a-title-that-was-edited/?p=1", "kcnawatch-1600000000-7"),
    ],
)
def test_classify_kcnawatch_urls(url, expected_id):
    info = classify_url(url)
    assert (info.source, info.family, info.id, info.category) == ("KCNA Watch", "newstream", expected_id, None)
    assert info.is_article and not info.is_media and not info.is_listing


@pytest.mark.parametrize(
    "url",
    [
        "https://kcnawatch.org/",
        "https://kcnawatch.org/newstream/",
        "https://kcnawatch.org/article/163/",
        "https://kcnawatch.org/kctv-archive/",
    ],
)
def test_other_kcnawatch_urls_are_not_ours(url):
    assert classify_url(url) is None


def test_canonical_url():
    assert (
        kcnawatch.canonical_url("http://www.kcnawatch.org/newstream/1763540000-123/joint-rallies-held?x=1")
        == "https://kcnawatch.org/newstream/1763540000-123/joint-rallies-held/"
    )


@pytest.mark.parametrize(
    "label, name",
    [
        ("Voice of Korea (EN)", "Voice of Korea"),
        ("Rodong Sinmun (EN)", "Rodong Sinmun"),
        ("KCNA (English)", "KCNA"),
        ("Pyongyang Times", "Pyongyang Times"),
    ],
)
def test_outlet_names(label, name):
    assert kcnawatch.outlet_name(label) == name
