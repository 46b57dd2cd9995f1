"""The public site refuses writes and runaway queries, has no open redirect, and escapes scraped HTML."""

from __future__ import annotations

import importlib.util
import time
import urllib.parse

import pytest

from dprk_archive import serve
from site_fixtures import XSS, XSS_TITLE, site  # noqa: F401  (site is a fixture)

RAW_MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>bold</b>", '<a href="javascript:alert(2)">']


def hardening():
    spec = importlib.util.spec_from_file_location("hardening_for_tests", serve.PLUGINS / "hardening.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_huge_printf_gives_null_instead_of_memory(site):
    # SQLite's printf stops at the length limit and returns NULL rather than an error.
    response = site.sql("select length(printf('%.*c', 200000000, 'x')) as n")
    assert response.status_code == 200 and response.json() == [{"n": None}]


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


@pytest.mark.parametrize(
    "path",
    [
        "/dprk-archive/articles",
        f"/dprk-archive/articles/{XSS}",
        "/dprk-archive/article_versions",
        f"/dprk-archive/article_versions/{'3'}",
        "/dprk-archive/articles_full",
        "/dprk-archive/article_texts",
        "/dprk-archive/articles?_search=harvest",
        "/dprk-archive/search?q=harvest",
        "/dprk-archive/search?q=alert",
        f"/dprk-archive/article_history?id={XSS}",
        "/dprk-archive/articles_by_region_month?region=North+Hwanghae&month=",
        "/dprk-archive/recent_changes",
        "/-/search?q=harvest",
        "/",
    ],
)
def test_html_in_scraped_text_is_escaped_on_every_page(site, path):
    response = site.get(path)
    assert response.status_code == 200, path
    assert_escaped(response.text, path)


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


def test_json_keeps_scraped_text_as_data(site):
    rows = site.json(f"/dprk-archive/articles/{XSS}.json?_shape=objects")["rows"]
    assert rows[0]["title"] == XSS_TITLE


def test_snippet_highlight_escapes_before_marking():
    from markupsafe import Markup

    spec = importlib.util.spec_from_file_location("site_for_tests", serve.PLUGINS / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    marked = module.highlight("<b>x</b> \ue000rice\ue001 \ue000open")
    assert isinstance(marked, Markup)
    assert str(marked) == "&lt;b&gt;x&lt;/b&gt; <mark>rice</mark> <mark>open</mark>"
    diff = module.word_diff("a <script>x</script> b", "a <img src=x> b")
    assert "<script>" not in diff and "<img" not in diff and "<del>" in diff and "<ins>" in diff
