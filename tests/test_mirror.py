"""The offline mirror over real HTTP on loopback: URL families, quirks, proxy use, truth, days, caching, scale."""

import re
import resource
import socket
import time
from datetime import date
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html
import pytest

from dprk_archive.mirror.content import DPRK_PLACES, REGIONS, Writer, plain_text
from dprk_archive.mirror.render import LANGUAGES
from dprk_archive.mirror.site import LISTINGS, PAGE_SIZE, MirrorSite, new_per_day
from dprk_archive.sources.vok import UrlInfo, canonical_url, classify_url
from dprk_archive.text import canonical_text, text_hash

HOME = "/index.php/home/main/en"
ANCHOR = re.compile(r"^[·-]?(?P<title>.+) \((?P<y>\d{4})\.(?P<m>[1-9]\d?)\.(?P<d>[1-9]\d?)\)$")
DATELINE = re.compile(r"^(January|February|March|April|May|June|July|August|September|October|November|December) \d{1,2}, \d{4}$")
ITEM_FAMILIES = {"comde", "revo_de", "gude", "vi_video", "vi_audio"}


# --- helpers ---------------------------------------------------------------------------------------


# one client for the module: keep-alive connections, and httpx's per-client set-up paid once
CLIENT = httpx.Client(timeout=120)


def get(mirror, path, **options):
    return CLIENT.get(mirror.base_url + path, **options)


def truth_of(mirror):
    return get(mirror, "/_mirror/truth.json").json()


def tree(response):
    # always UTF-8, whatever the page says or does not say about it
    return lxml.html.fromstring(response.content.decode("utf-8"))


def item_links(response):
    """(absolute URL, anchor text) of every item link on a page, in order."""
    out = []
    for anchor in tree(response).iter("a"):
        url = urljoin(str(response.url), anchor.get("href"))
        info = classify_url(url)
        if info is not None and info.family in ITEM_FAMILIES:
            out.append((url, anchor.text_content()))
    return out


def extract_article(response):
    """Title, subtitle and body of an article page, read the way docs/design.md describes it."""
    root = tree(response)
    heading = root.xpath('//h2[@class="article-title"]')[0]
    lines = [heading.text or ""] + [br.tail or "" for br in heading.iter("br")]
    lines = [line.strip() for line in lines]
    if len(lines) > 1 and DATELINE.match(lines[-1]):
        lines.pop()
    body = root.xpath('//div[@class="article-body"]')[0]
    for br in body.iter("br"):
        br.tail = " " + (br.tail or "")  # <br> is whitespace, never glue
    return lines[0], (lines[1] if len(lines) > 1 else None), body.text_content()


def crawl_listing(mirror, listing, host_headers=None):
    """Follow a listing's "next" links from page 1; return the pages' item URLs and anchor texts."""
    url, pages = mirror.base_url + listing.path(), []
    while url:
        response = CLIENT.get(url, headers=host_headers or {})
        assert response.status_code == 200, url
        pages.append(item_links(response))
        following = tree(response).xpath('//div[@class="paging"]/a[@class="next"]')
        url = urljoin(url, following[0].get("href")) if following else None
        if url and host_headers is None:
            assert urlsplit(url).netloc in ("", urlsplit(mirror.base_url).netloc)
    return pages


def anchor_date(text):
    match = ANCHOR.match(text)
    assert match, text
    return date(int(match["y"]), int(match["m"]), int(match["d"]))


# --- URL families and page structure ----------------------------------------------------------------


def test_home_page_has_the_chrome_menu_notice_and_blocks(mirror):
    response = get(mirror, HOME)
    assert response.status_code == 200
    root = tree(response)
    top = [a.text_content() for a in root.xpath('//div[@class="top-bar"]/a')]
    assert [name for _, name in LANGUAGES] == top[:9]
    assert {"Русский", "العربية", "汉 语", "조선어"} <= set(top)
    assert top[9:] == ["첫페지로", "어종선택", "오늘의 방송"]
    menu = [a.get("href") for a in root.xpath('//div[@class="menu"]//a')]
    assert menu == [listing.path() for listing in LISTINGS]
    assert "Synthetic sample data" in root.xpath('//div[@class="notice"]')[0].text_content()
    assert "synthetic sample data" in root.xpath('//div[@class="footer"]')[0].text_content()
    assert root.xpath("//title")[0].text == "Voice of Korea"
    blocks = root.xpath('//div[@class="block"]')
    assert len(blocks) >= 8
    seen, repeated = set(), set()
    for block in blocks:
        for anchor in block.iter("a"):
            assert ANCHOR.match(anchor.text_content()), anchor.text_content()
            info = classify_url(urljoin(str(response.url), anchor.get("href")))
            (repeated if info.id in seen else seen).add(info.id)
    assert repeated, "the same article should appear in more than one home block"


def test_every_page_says_it_is_synthetic(mirror):
    truth = truth_of(mirror)
    paths = [HOME, LISTINGS[0].path(), urlsplit(truth["articles"][0]["url"]).path]
    media = mirror.site.find(truth["media"][0])
    paths.append(media.path)
    for path in paths:
        text = get(mirror, path).text
        assert '<div class="notice">Synthetic sample data' in text and "(synthetic sample data" in text, path


def test_listing_pages_cover_every_live_item_once_newest_first(mirror):
    truth = truth_of(mirror)
    expected = {a["id"] for a in truth["articles"]} | set(truth["media"])
    everything = []
    for listing in LISTINGS:
        pages = crawl_listing(mirror, listing)
        items = [link for page in pages for link in page]
        assert all(len(page) == PAGE_SIZE for page in pages[:-1]) and 1 <= len(pages[-1]) <= PAGE_SIZE
        ids = [classify_url(url).id for url, _ in items]
        assert len(ids) == len(set(ids)), f"{listing.name}/{listing.cat_id} lists an item twice"
        dates = [anchor_date(text) for _, text in items]
        assert dates == sorted(dates, reverse=True), f"{listing.name}/{listing.cat_id} is not newest first"
        for url, _ in items:
            info = classify_url(url)
            if info.family in ("comde", "gude"):
                assert info.category == listing.cat_id
        everything.extend(ids)
    assert len(everything) == len(set(everything)) and set(everything) == expected
    assert any(len(crawl_listing(mirror, listing)) > 2 for listing in LISTINGS)


def test_listing_paging_links_and_out_of_range_pages(mirror):
    listing = LISTINGS[1]
    root = tree(get(mirror, listing.path(2)))
    paging = root.xpath('//div[@class="paging"]')[0]
    assert paging.xpath('a[@class="prev"]')[0].text == "이전"
    assert paging.xpath('span[@class="cur"]')[0].text == "2"
    assert paging.xpath('a[@class="next"]')[0].text == "다음"
    assert urlsplit(paging.xpath('a[@class="next"]')[0].get("href")).path == listing.path(3)
    assert root.xpath('//div[@class="list-box"]/ul[@class="list"]/li/a')
    pages = mirror.site.page_count(listing)
    assert get(mirror, listing.path(pages)).status_code == 200
    assert get(mirror, listing.path(pages + 1)).status_code == 404
    assert get(mirror, "/index.php/Colist/nosuchlist/18/en").status_code == 404


def test_article_pages_match_the_truth_text_hash(mirror):
    truth = truth_of(mirror)
    families = set()
    for article in truth["articles"]:
        response = get(mirror, urlsplit(article["url"]).path)
        assert response.status_code == 200, article["id"]
        root = tree(response)
        assert root.xpath('//div[@class="content-area"]/div[@class="article-head"]/p[@class="article-date"]')
        title, subtitle, body = extract_article(response)
        assert (title, subtitle) == (article["title"], article["subtitle"]), article["id"]
        assert text_hash(title, subtitle, body) == article["text_hash"], article["id"]
        date_text = root.xpath('//p[@class="article-date"]')[0].text
        assert date.fromisoformat(article["published"]) == anchor_date(f"x ({date_text})")
        families.add(classify_url(article["url"]).family)
    assert families == {"comde", "revo_de", "gude"}


def test_media_pages_have_a_player_and_no_text(mirror):
    truth = truth_of(mirror)
    site = mirror.site
    kinds = set()
    for media_id in truth["media"]:
        item = site.find(media_id)
        response = get(mirror, item.path)
        assert response.status_code == 200
        root = tree(response)
        assert root.xpath("//iframe")[0].get("src") == f"/hls/player/{media_id}"
        assert not root.xpath('//div[@class="article-body"]')
        assert root.xpath('//h2[@class="article-title"]')[0].text_content()
        assert root.xpath('//p[@class="article-date"]')
        kinds.add(item.family)
    assert kinds == {"vi_video", "vi_audio"}
    share = len(truth["media"]) / (len(truth["media"]) + len(truth["articles"]))
    assert 0.08 < share < 0.25


def test_robots_txt_and_404s(mirror):
    robots = get(mirror, "/robots.txt")
    assert robots.status_code == 200 and "Disallow: /hls/" in robots.text and "User-agent: *" in robots.text
    article = truth_of(mirror)["articles"][0]
    path = urlsplit(article["url"]).path
    for missing in (
        "/hls/player/ien261005004",
        "/index.php/home/main/ko",
        "/nothing/here",
        "/index.php/detail_com/comde/ien999999999/18/en",
        path.replace("/en", "/xx"),
    ):
        assert get(mirror, missing).status_code == 404, missing
    info = classify_url(article["url"])
    if info.family == "comde":
        wrong = "48" if info.category != "48" else "18"
        assert get(mirror, path.replace(f"/{info.category}/en", f"/{wrong}/en")).status_code == 404


# --- ids, dates and quirks ---------------------------------------------------------------------------


def test_ids_embed_a_date_that_is_not_the_publication_date():
    site = MirrorSite(3000, 1)
    news_gaps, feature_gaps = set(), []
    for index in range(site.total):
        item = site.item(index)
        assert re.fullmatch(r"i(en|ee)\d{9}", item.id)
        embedded = date(2000 + int(item.id[3:5]), int(item.id[5:7]), int(item.id[7:9]))
        gap = (item.published - embedded).days
        if item.id.startswith("ien"):
            news_gaps.add(gap)
        else:
            feature_gaps.append(gap)
        assert date(2019, 1, 1) <= item.published <= date(2026, 11, 27)
    assert news_gaps <= {0, 1, 2, 3, 4} and len(news_gaps) >= 4
    assert min(feature_gaps) >= 7 and max(feature_gaps) > 365
    ids = [site.item(i).id for i in range(site.total)]
    assert len(ids) == len(set(ids))


def test_the_quirks_of_the_real_site_are_present(mirror):
    truth = truth_of(mirror)
    headers, metas, texts = [], [], []
    for article in truth["articles"][:150]:
        response = get(mirror, urlsplit(article["url"]).path)
        headers.append(response.headers["content-type"])
        metas.append('<meta charset="utf-8">' in response.text)
        texts.append(response.text)
    assert "text/html" in headers and "text/html; charset=utf-8" in headers
    assert 0.1 < metas.count(False) / len(metas) < 0.35
    everything = "\n".join(texts)
    assert "\n<nobr><strong><font style='font-size:11pt;'>Kim Jong Un</font></strong></nobr>\n" in everything
    assert re.search(r"[a-z,]<br>\n?[a-z]", everything), "no <br> in the middle of a sentence"
    assert "<p>&nbsp;&nbsp;&nbsp;" in everything
    assert re.search(r"\.<br><br>\n", everything), "no page with <br><br> paragraphs"
    assert re.search(r'<h2 class="article-title">[^<]+<br>[^<]+<br>[A-Z][a-z]+ \d{1,2}, \d{4}</h2>', everything)
    assert '<div class="related"><h4>Other articles</h4>' in everything
    anchors = [text for path in (HOME, LISTINGS[1].path()) for _, text in item_links(get(mirror, path))]
    assert any(text.startswith("·") for text in anchors) and any(text.startswith("-") for text in anchors)
    assert any(text[0].isalpha() or text[0] == '"' for text in anchors)
    assert any(re.search(r"\(\d{4}\.[1-9]\.", text) for text in anchors), "months are not zero-padded"


def test_bodies_are_150_to_800_words_and_dated_across_years():
    site = MirrorSite(300, 1, 20)
    years = set()
    for index in range(site.total):
        item = site.item(index)
        years.add(item.published.year)
        if not item.is_media:
            words = len(site.article(index).body_text.split())
            assert 150 <= words <= 800, (item.id, words)
    assert years >= set(range(2019, 2027))


def test_regions_are_the_provinces_of_the_places_mentioned():
    writer = Writer(1)
    names = {region: [region] for region in REGIONS}
    for place in DPRK_PLACES:
        names[place.region].append(place.name.removeprefix("the "))
    names["Pyongyang"].append("Kim Il Sung University")
    counts = {"none": 0, "south only": 0, "all": 0}
    for index in range(3000):
        kind = ("news", "leader", "feature", "qa", "letters", "music", "history", "culture", "mainnews")[index % 9]
        head = writer.head(index, kind, date(2025, 5, 5))
        text = plain_text(" ".join([head.title, head.subtitle or "", *writer.body(index, kind, head).sentences]))
        assert list(head.regions) == sorted(head.regions, key=REGIONS.index)
        for region in head.regions:
            assert any(name in text for name in names[region]) or "North and South" in text, (index, region)
        counts["none"] += not head.regions
        counts["all"] += len(head.regions) == len(REGIONS)
        if "of south Korea" in text and not head.regions:
            counts["south only"] += 1
    assert all(counts.values()), counts


# --- host names and proxy use ------------------------------------------------------------------------


def test_absolute_form_request_as_a_proxy(mirror):
    with httpx.Client(proxy=mirror.base_url, timeout=30) as client:
        response = client.get("http://vok.rep.kp" + HOME)
        assert response.status_code == 200
        hosts = {urlsplit(url).netloc for url, _ in item_links(response)}
        assert hosts == {"vok.rep.kp", "www.vok.rep.kp"}, hosts
        hrefs = [a.get("href") for a in tree(response).iter("a")]
        assert any(href.startswith("/index.php/detail_com") for href in hrefs)
        assert not any("127.0.0.1" in href for href in hrefs)
        assert client.get("http://www.vok.rep.kp/robots.txt").status_code == 200
        assert client.get("http://www.kcna.kp/en/").status_code == 502


def test_raw_absolute_form_request_line(mirror):
    port = urlsplit(mirror.base_url).port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET http://vok.rep.kp/robots.txt HTTP/1.1\r\nHost: vok.rep.kp\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b"Disallow: /hls/" in answer


@pytest.mark.parametrize("host", ["vok.rep.kp", "www.vok.rep.kp", "vok.rep.kp:80"])
def test_host_header_variants(mirror, host):
    response = get(mirror, LISTINGS[1].path(), headers={"Host": host})
    assert response.status_code == 200
    netlocs = {urlsplit(url).netloc for url, _ in item_links(response)}
    assert netlocs <= {"127.0.0.1:" + str(mirror.port), "vok.rep.kp", "www.vok.rep.kp"}
    absolute = [a.get("href") for a in tree(response).iter("a") if a.get("href").startswith("http")]
    assert absolute and all(urlsplit(href).netloc in ("vok.rep.kp", "www.vok.rep.kp") for href in absolute)


def test_own_address_links_stay_on_the_mirror(mirror):
    response = get(mirror, HOME)
    netlocs = {urlsplit(url).netloc for url, _ in item_links(response)}
    assert netlocs == {urlsplit(mirror.base_url).netloc}
    hrefs = [a.get("href") for a in tree(response).iter("a")]
    assert any(h.startswith("/") for h in hrefs) and any(h.startswith(mirror.base_url) for h in hrefs)


# --- ground truth -----------------------------------------------------------------------------------


def test_truth_json_has_exactly_the_agreed_shape(mirror):
    truth = truth_of(mirror)
    assert set(truth) == {"day", "articles", "removed", "media", "edited"}
    assert truth["day"] == 0 and truth["removed"] == [] and truth["edited"] == {}
    assert len(truth["articles"]) + len(truth["media"]) == 300
    for article in truth["articles"]:
        assert list(article) == ["id", "url", "title", "subtitle", "published", "regions", "text_hash"]
        info = classify_url(article["url"])
        assert info.id == article["id"]
        assert article["url"] == canonical_url(UrlInfo(info.source, info.family, info.id, info.category))
        assert article["url"].startswith("http://vok.rep.kp/index.php/")
        assert isinstance(article["title"], str) and article["title"] and DATELINE.search(article["title"]) is None
        assert article["subtitle"] is None or isinstance(article["subtitle"], str)
        date.fromisoformat(article["published"])
        assert article["regions"] == sorted(set(article["regions"]), key=REGIONS.index)
        assert re.fullmatch(r"[0-9a-f]{64}", article["text_hash"])
    assert any(a["subtitle"] for a in truth["articles"]) and any(a["subtitle"] is None for a in truth["articles"])
    assert any(a["regions"] == [] for a in truth["articles"]) and any(len(a["regions"]) > 1 for a in truth["articles"])


def test_truth_hash_is_text_hash_of_the_pristine_text(mirror):
    site = mirror.site
    truth = {a["id"]: a for a in truth_of(mirror)["articles"]}
    for item_id, article in list(truth.items())[:40]:
        text = site.article(site.find(item_id).index)
        assert article["text_hash"] == text_hash(text.title, text.subtitle, text.body_text)
        assert "\x01" not in text.body_text and "\n\n" in text.body_text


# --- days -------------------------------------------------------------------------------------------


def test_the_site_evolves_day_by_day(mirror_factory):
    running = mirror_factory(articles=300, seed=1)
    site = running.site
    day0 = truth_of(running)
    for day in range(1, 6):
        running.set_day(day)
        truth = truth_of(running)
        assert truth["day"] == day
        before = {a["id"]: a for a in day0["articles"]}
        now = {a["id"]: a for a in truth["articles"]}
        added = set(now) - set(before)
        newest_before = max(a["published"] for a in day0["articles"])
        assert added and all(now[i]["published"] > newest_before for i in added)
        added_media = set(truth["media"]) - set(day0["media"])
        assert len(added) + len(added_media) == new_per_day(300) == 5
        for item_id in set(truth["removed"]) - set(day0["removed"]):
            item = site.find(item_id)
            assert get(running, item.path).status_code == 404
            assert item_id not in now and item_id not in truth["media"]
        for item_id in set(before) - set(now):
            assert item_id in truth["removed"]
        day0 = truth
    assert day0["removed"] and day0["edited"]
    listed = {classify_url(url).id for listing in LISTINGS for page in crawl_listing(running, listing) for url, _ in page}
    assert listed == {a["id"] for a in day0["articles"]} | set(day0["media"])


def test_edits_change_the_hash_and_cosmetic_changes_do_not(mirror_factory):
    running = mirror_factory(articles=300, seed=1)
    edited = cosmetic = 0
    for day in range(1, 8):
        previous = {a["id"]: a for a in truth_of(running)["articles"]}
        pages_before = {i: get(running, urlsplit(a["url"]).path, headers={"Host": "vok.rep.kp"}) for i, a in previous.items()}
        running.set_day(day)
        site = running.site
        current = {a["id"]: a for a in truth_of(running)["articles"]}
        for item_id in set(previous) & set(current):
            history = site.history(site.find(item_id).index)
            after = get(running, urlsplit(current[item_id]["url"]).path, headers={"Host": "vok.rep.kp"})
            if day in history.edit_days:
                edited += 1
                assert current[item_id]["text_hash"] != previous[item_id]["text_hash"]
                assert text_hash(*extract_article(after)) == current[item_id]["text_hash"]
            elif history.cosmetic_day == day:
                cosmetic += 1
                assert current[item_id]["text_hash"] == previous[item_id]["text_hash"]
                assert after.content != pages_before[item_id].content
                old, new = extract_article(pages_before[item_id]), extract_article(after)
                assert old[2] != new[2] and canonical_text(old[2]) == canonical_text(new[2])
                assert text_hash(*new) == current[item_id]["text_hash"]
            else:
                assert current[item_id]["text_hash"] == previous[item_id]["text_hash"]
    assert edited >= 3 and cosmetic >= 3


def test_an_edit_can_restore_an_earlier_text():
    base = MirrorSite(2000, 1)
    for index in range(base.total):
        if base.item(index).is_media:
            continue
        history = base.at_day(400).history(index)
        days = (0, *history.edit_days)
        versions = [base.at_day(day).history(index).version for day in days]
        if len(set(versions)) < len(versions):
            break
    else:
        pytest.fail("no article went back to an earlier text in 400 days")
    hashes = [base.at_day(day).article(index).text_hash for day in days]
    assert all(hashes[n] != hashes[n - 1] for n in range(1, len(hashes))), "every edit changes the text"
    for version in set(versions):
        assert len({h for h, v in zip(hashes, versions) if v == version}) == 1, "A -> B -> A restores A exactly"
    assert len(set(hashes)) == len(set(versions)) == history.distinct_versions


def test_same_seed_same_bytes_other_seed_other_text(mirror_factory):
    one, two, other = (mirror_factory(articles=500, seed=seed) for seed in (7, 7, 8))
    site = one.site
    paths = [HOME, LISTINGS[3].path(2), *(site.item(i).path for i in (0, 1, 2, 250, 499))]
    for path in paths:
        first = get(one, path, headers={"Host": "vok.rep.kp"})
        second = get(two, path, headers={"Host": "vok.rep.kp"})
        assert first.content == second.content and first.headers["etag"] == second.headers["etag"], path
    assert get(one, HOME, headers={"Host": "vok.rep.kp"}).content != get(other, HOME, headers={"Host": "vok.rep.kp"}).content
    assert truth_of(one) == truth_of(two)


# --- conditional GET and stats ------------------------------------------------------------------------


def test_conditional_get_answers_304(mirror_factory):
    running = mirror_factory(articles=300, seed=1)
    article = truth_of(running)["articles"][10]
    paths = [urlsplit(article["url"]).path, LISTINGS[1].path(), HOME, running.site.find(truth_of(running)["media"][0]).path]
    for path in paths:
        first = get(running, path)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert get(running, path, headers={"If-None-Match": etag}).status_code == 304
        assert get(running, path, headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
        assert get(running, path, headers={"If-Modified-Since": modified}).status_code == 304
        assert get(running, path, headers={"If-None-Match": '"stale"'}).status_code == 200
        assert get(running, path, headers={"If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"}).status_code == 200
    # a page edited on a later day is no longer "not modified"
    site = running.site
    day, index = next(
        (history.edit_days[0], i)
        for i in range(site.total)
        if not site.item(i).is_media and (history := site.at_day(30).history(i)).edit_days
    )
    path = site.item(index).path
    running.set_day(day - 1)
    before = get(running, path)
    running.set_day(day)
    after = get(running, path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert get(running, path, headers={"If-Modified-Since": before.headers["last-modified"]}).status_code == 200


def test_stats_count_requests_by_kind(mirror_factory):
    running = mirror_factory(articles=300, seed=2)
    site = running.site
    text = next(site.item(i) for i in range(site.total) if not site.item(i).is_media)
    media = next(site.item(i) for i in range(site.total) if site.item(i).is_media)
    assert httpx.get(running.base_url + "/_mirror/stats.json").json() == {
        "requests": {"listing": 0, "article": 0, "media": 0, "robots": 0, "other": 0}
    }
    for path in (HOME, LISTINGS[0].path(), LISTINGS[0].path(2), text.path, text.path, media.path, "/robots.txt", "/x", "/hls/player/1"):
        get(running, path)
    expected = {"listing": 3, "article": 2, "media": 1, "robots": 1, "other": 2}
    assert httpx.get(running.base_url + "/_mirror/stats.json").json() == {"requests": expected}
    assert running.stats() == {"requests": expected}


def test_head_requests_send_headers_only(mirror):
    response = httpx.head(mirror.base_url + HOME)
    assert response.status_code == 200 and response.content == b"" and int(response.headers["content-length"]) > 1000


# --- scale ------------------------------------------------------------------------------------------


def test_a_300000_article_site_starts_fast_and_serves_fast(mirror_factory):
    started = time.monotonic()
    running = mirror_factory(articles=300_000, seed=1)
    startup = time.monotonic() - started
    assert startup < 20, f"startup took {startup:.1f} s"
    site = running.site
    deep = max(LISTINGS, key=site.page_count)
    pages = site.page_count(deep)
    with httpx.Client(base_url=running.base_url, timeout=30) as client:
        client.get(HOME)
        started = time.monotonic()
        listing = client.get(deep.path(pages - 1))
        article = client.get(site.item(123_456).path)
        media = next(site.item(i) for i in range(200_000, 300_000) if site.item(i).is_media and site.is_live(i))
        assert client.get(media.path).status_code == 200
        elapsed = time.monotonic() - started
    assert listing.status_code == 200 and len(item_links(listing)) == PAGE_SIZE
    assert article.status_code in (200, 404) and (article.status_code == 200) == site.is_live(123_456)
    assert elapsed < 2, f"three pages took {elapsed:.2f} s"
    assert pages > 1000
    # the per-item arrays are small: the whole test process stays well under a gigabyte
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1024 * 1024
