"""The public site refuses writes and runaway queries, has no open redirect, and escapes scraped HTML."""

from __future__ import annotations

import hashlib
import time
import urllib.parse

import lxml.html
import pytest

from dprk_archive import serve
from faultserver import record
from site_fixtures import XSS, XSS_TITLE, plugin_module, site  # noqa: F401  (site is a fixture)

RAW_MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>bold</b>", '<a href="javascript:alert(2)">']


def hardening():
    return plugin_module("hardening")


def refused(response) -> bool:
    return response.status_code >= 400 and response.json().get("ok") is False


@pytest.mark.parametrize(
    "sql",
    [
        "insert into builds (version) values ('x')",
        "update articles set title = 'x'",
        "delete from articles",
        "drop table articles",
        "create table t (x)",
        "with x as (select 1) insert into builds (version) select * from x",
        "attach database '/tmp/evil.db' as evil",
        "select * from pragma_database_list",
        "select load_extension('/tmp/evil.so')",
        "select 1; select 2",
        "select 1; delete from articles",
        "pragma writable_schema = 1",
    ],
)
def test_writes_attach_extensions_and_multiple_statements_are_refused(site, sql):
    response = site.sql(sql)
    if sql.startswith("select * from pragma_database_list"):
        # Allowed read: it must list the published database only (nothing attached).
        assert [row["name"] for row in response.json()] == ["main"]
        return
    assert refused(response), (sql, response.status_code, response.text[:300])
    assert site.json("/dprk-archive/articles.json?_shape=array")  # still there
    kind = ("stacked statements" if ";" in sql else "ATTACH or load_extension" if "attach" in sql or "extension" in sql
            else "write or schema change in SQL (INSERT, UPDATE, DELETE, DROP, CREATE, WITH … INSERT, PRAGMA)")
    record({kind: 1}, outcome="refused")


def test_attach_is_refused_even_below_datasette(site):
    # Datasette's own check rejects ATTACH statements; the connection limit and the authorizer stop it too.
    import sqlite3

    module = hardening()
    conn = sqlite3.connect(":memory:")
    module.prepare_connection(conn, "dprk-archive", None)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("attach database ':memory:' as other")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("create temp table t (x)")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("select load_extension('x')")
    assert conn.execute("select 1").fetchone() == (1,)


def test_runaway_recursive_query_is_cut_by_the_time_limit(site):
    started = time.monotonic()
    response = site.sql("with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c")
    elapsed = time.monotonic() - started
    assert refused(response)
    assert "interrupted" in response.text.lower() or "time limit" in response.text.lower()
    assert elapsed < serve.SETTINGS["sql_time_limit_ms"] / 1000 + 3
    record({"runaway query (WITH RECURSIVE, randomblob, zeroblob, printf)": 1}, outcome="cut within its limits")


@pytest.mark.parametrize(
    "sql",
    [
        "select length(randomblob(2000000000))",
        "select length(zeroblob(500000000))",
        "select length(replace(hex(randomblob(5000000)), 'A', 'AAAA'))",
    ],
)
def test_huge_values_are_refused(site, sql):
    response = site.sql(sql)
    assert refused(response)
    assert "too big" in response.text.lower()
    record({"runaway query (WITH RECURSIVE, randomblob, zeroblob, printf)": 1}, outcome="cut within its limits")


def test_huge_printf_gives_null_instead_of_memory(site):
    # SQLite's printf stops at the length limit and returns NULL rather than an error.
    response = site.sql("select length(printf('%.*c', 200000000, 'x')) as n")
    assert response.status_code == 200 and response.json() == [{"n": None}]
    record({"runaway query (WITH RECURSIVE, randomblob, zeroblob, printf)": 1}, outcome="cut within its limits")


def test_row_limit_applies(site):
    response = site.sql("with recursive c(x) as (select 1 union all select x + 1 from c limit 5000) select x from c")
    data = site.json("/dprk-archive.json?" + urllib.parse.urlencode(
        {"sql": "with recursive c(x) as (select 1 union all select x + 1 from c limit 5000) select x from c"}))
    assert response.status_code == 200
    assert len(data["rows"]) == serve.SETTINGS["max_returned_rows"] and data["truncated"] is True


@pytest.mark.parametrize("path", ["/\\example.com/", "/\\example.com", "/%5Cexample.com/", "//example.com/", "/foo\\bar",
                                  "/%5C%5Cexample.com"])
def test_backslash_and_double_slash_paths_do_not_redirect_off_site(site, path):
    response = site.get(path, follow_redirects=False)
    location = response.headers.get("location", "")
    assert response.status_code == 404, (path, response.status_code, location)
    assert not location
    record({"off-site redirect (/\\host, //host, %5C)": 1}, outcome="refused")


def test_ordinary_redirects_stay_on_the_site(site):
    response = site.get("/dprk-archive/articles/", follow_redirects=False)
    assert response.status_code in (301, 302)
    assert response.headers["location"].startswith("/") and not response.headers["location"].startswith("//")


@pytest.mark.parametrize(
    "location, expected",
    [
        ("/dprk-archive", "/dprk-archive"),
        ("/\\example.com", "/"),
        ("//example.com/x", "/"),
        ("https://example.com/", "/"),
        ("http://localhost/dprk-archive", "http://localhost/dprk-archive"),
        ("javascript:alert(1)", "/"),
        ("relative/path", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_location_headers_are_kept_local(location, expected):
    assert hardening().safe_location(location, "localhost") == expected


def assert_escaped(html: str, where: str):
    for markup in RAW_MARKUP:
        assert markup not in html, (where, markup)
    assert 'href="javascript:' not in html.lower(), where
    assert live_markup(html) == [], where


# Attributes through which a link or a load can run script.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "background")


def live_markup(html: str) -> list[str]:
    """What the scraped payloads would have become in a browser's DOM, had they not been escaped."""
    live = []
    for element in lxml.html.fromstring(html).iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script" and "alert(" in (element.text or ""):
            live.append(f"<script> {element.text[:40]!r}")
        if element.tag == "img" and element.get("src") == "x":
            live.append("<img src=x>")
        if element.tag == "b" and element.text == "bold":
            live.append("<b>bold</b>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on") and "alert(" in value:
                live.append(f"{element.tag} {name}={value!r}")
            if name.lower() in URL_ATTRIBUTES and "".join(value.split()).lower().startswith("javascript:"):
                live.append(f"{element.tag} {name}={value!r}")
    return live


def shown_payloads(html: str) -> set[str]:
    """The payloads that reach the reader as visible text: proof a page really had them to escape."""
    text = lxml.html.fromstring(html).text_content()
    return {marker for marker in ("alert(1)", "onerror=alert(1)", "javascript:alert(2)", "javascript:alert(3)")
            if marker in text}


SQL_OVER_SCRAPED_TEXT = "select a.id, a.title, a.subtitle, a.url, t.body from articles a join article_texts t on t.article_id = a.id"

# Every kind of page that shows scraped text, and which payloads each must show (as text).
PAGES_WITH_SCRAPED_TEXT = {
    "/dprk-archive/articles": {"alert(1)", "javascript:alert(3)"},
    f"/dprk-archive/articles/{XSS}": {"alert(1)", "onerror=alert(1)", "javascript:alert(2)", "javascript:alert(3)"},
    "/dprk-archive/articles?_region=North+Hwanghae": {"alert(1)", "javascript:alert(3)"},
    "/dprk-archive/articles?_facet=outlet&_sort=title": {"alert(1)"},
    "/dprk-archive/articles?_search=harvest": {"alert(1)"},
    "/dprk-archive/article_versions": {"alert(1)", "onerror=alert(1)"},
    f"/dprk-archive/article_versions?article_id={XSS}": {"alert(1)", "onerror=alert(1)"},
    "/dprk-archive/article_versions/5": {"alert(1)", "onerror=alert(1)"},  # the row page of its version
    "/dprk-archive/articles_full": {"alert(1)", "onerror=alert(1)", "javascript:alert(3)"},
    "/dprk-archive/article_texts": {"onerror=alert(1)"},
    "/dprk-archive/article_regions": {"alert(1)"},
    "/dprk-archive/search?q=harvest": {"alert(1)"},
    "/dprk-archive/search?q=alert": {"alert(1)", "onerror=alert(1)"},
    f"/dprk-archive/article_history?id={XSS}": {"alert(1)", "onerror=alert(1)"},
    "/dprk-archive/articles_by_region_month?region=North+Hwanghae&month=": {"alert(1)"},
    "/dprk-archive/feed_latest": {"alert(1)"},
    "/dprk-archive?" + urllib.parse.urlencode({"sql": SQL_OVER_SCRAPED_TEXT}): {
        "alert(1)", "onerror=alert(1)", "javascript:alert(2)", "javascript:alert(3)"},
}
PAGES_WITHOUT_SCRAPED_TEXT = ["/", "/dprk-archive", "/dprk-archive/recent_changes", "/-/search?q=harvest"]


@pytest.mark.parametrize("path", list(PAGES_WITH_SCRAPED_TEXT) + PAGES_WITHOUT_SCRAPED_TEXT)
def test_html_in_scraped_text_is_escaped_on_every_page(site, path):
    response = site.get(path)
    assert response.status_code == 200, path
    assert_escaped(response.text, path)
    # The payload reached the page as text; otherwise this page proved nothing. (/-/search renders its
    # results in the browser: tests/test_browser.py runs it in Chromium.)
    assert shown_payloads(response.text) >= PAGES_WITH_SCRAPED_TEXT.get(path, set()), path
    record({"scraped <script>, event handler or javascript: URL on a page": 1}, outcome="escaped")


def test_live_markup_finds_what_a_browser_would_run():
    # The checker itself: unescaped payloads are found, escaped ones and the site's own markup are not.
    assert len(live_markup("<p><script>alert(1)</script><img src=x onerror=alert(1)><a href=' javascript:alert(2)'>x</a>"
                           "<b>bold</b></p>")) == 5
    assert live_markup("<p>&lt;script&gt;alert(1)&lt;/script&gt; <a href='/x?q=javascript:'>x</a></p>") == []


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path, form",
    [
        ("/dprk-archive", {"sql": "delete from articles"}),
        ("/dprk-archive.json", {"sql": "delete from articles"}),
        ("/dprk-archive/search", {"q": "harvest"}),
        ("/dprk-archive/article_history.json", {"id": XSS}),
        ("/dprk-archive/articles", {"title": "x"}),
        (f"/dprk-archive/articles/{XSS}", {"title": "x"}),
        ("/dprk-archive/articles/-/insert", {"row": "{}"}),
        ("/-/messages", {"message": "x", "message_type": "1"}),
        ("/-/permissions", {"actor": "{}"}),
        ("/-/logout", {}),
    ],
)
def test_no_method_but_get_reaches_the_site(site, method, path, form):
    # Datasette 0.65 answers POST to a table or a read-only canned query with a 500, and POST to
    # /-/messages sets a cookie; the site refuses them all before Datasette sees them.
    import asyncio

    response = asyncio.run(site.ds.client.request(method, path, data=form))
    assert response.status_code == 405, (method, path, response.status_code, response.text[:200])
    assert response.headers["allow"] == "GET, HEAD, OPTIONS" and "set-cookie" not in response.headers
    assert site.json("/dprk-archive/articles.json?_shape=array")  # still there, still the same
    record({"POST, PUT, PATCH or DELETE to query, canned query, table, row or /-/ pages": 1}, outcome="refused")


@pytest.mark.parametrize("path", ["/dprk-archive/articles.csv", "/dprk-archive/articles.json",
                                  f"/dprk-archive/articles/{XSS}.json", "/dprk-archive/feed_latest.atom",
                                  "/dprk-archive.json?" + urllib.parse.urlencode({"sql": SQL_OVER_SCRAPED_TEXT}),
                                  "/dprk-archive.csv?" + urllib.parse.urlencode({"sql": SQL_OVER_SCRAPED_TEXT})])
def test_data_formats_are_never_sniffed_as_html(site, path):
    response = site.get(path)
    assert response.status_code == 200
    assert "html" not in response.headers["content-type"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "alert(1)" in response.text  # the scraped text is there, as data


def test_scraped_title_is_shown_escaped_on_the_article_page(site):
    html = site.get(f"/dprk-archive/articles/{XSS}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Harvest report" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # The javascript: "original URL" is shown as text, never as a link.
    assert "javascript:alert(3)" in html and 'href="javascript:alert(3)"' not in html


@pytest.mark.parametrize("path", ["/dprk-archive/feed_latest.atom", "/dprk-archive/feed_region.atom?region=North+Hwanghae"])
def test_feeds_escape_scraped_text(site, path):
    response = site.get(path)
    assert response.status_code == 200
    body = response.text
    for markup in RAW_MARKUP:
        assert markup not in body, markup
    assert 'link href="javascript:' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'type="html"' not in body  # content is text, never trusted HTML
    import xml.etree.ElementTree as ET

    titles = [e.text for e in ET.fromstring(response.content).iter("{http://www.w3.org/2005/Atom}title")]
    assert XSS_TITLE in titles
    record({"scraped <script>, event handler or javascript: URL on a page": 1}, outcome="escaped")


def test_json_keeps_scraped_text_as_data(site):
    rows = site.json(f"/dprk-archive/articles/{XSS}.json?_shape=objects")["rows"]
    assert rows[0]["title"] == XSS_TITLE


def test_snippet_highlight_escapes_before_marking():
    from markupsafe import Markup

    module = plugin_module("site")
    marked = module.highlight("<b>x</b> \ue000rice\ue001 \ue000open")
    assert isinstance(marked, Markup)
    assert str(marked) == "&lt;b&gt;x&lt;/b&gt; <mark>rice</mark> <mark>open</mark>"
    diff = module.word_diff("a <script>x</script> b", "a <img src=x> b")
    assert "<script>" not in diff and "<img" not in diff and "<del>" in diff and "<ins>" in diff


def test_the_attacks_left_the_published_file_as_it_was(site):
    # Runs after every other test of the shared site (this file sorts after test_site.py, and this test
    # comes last in it): nothing any of them sent changed a byte of the file or left a journal beside it.
    assert hashlib.sha256(site.path.read_bytes()).hexdigest() == site.sha256_at_start
    beside = sorted(p.name for p in site.path.parent.iterdir() if p.name.startswith(site.path.name + "-"))
    assert beside == []
    record({"published file after the attack suite (sha256, -wal, -journal)": 1}, outcome="byte-identical")
