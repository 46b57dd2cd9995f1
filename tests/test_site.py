"""The published site in-process: every page type, facets, search, canned queries, feeds, downloads."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import yaml

from dprk_archive import serve
from site_fixtures import EDITED, MULTI, REMOVED, XSS, plugin_module, region, site  # noqa: F401  (site is a fixture)

ATOM = "{http://www.w3.org/2005/Atom}"


def facets(site, url):
    data = site.json(url.replace("/articles", "/articles.json", 1) + ("&" if "?" in url else "?") + "_extra=facet_results")
    return {
        name: {str(v["value"]): v for v in info["results"]}
        for name, info in data["facet_results"].items()
    }


def row_ids(site, url):
    path, _, query = url.partition("?")
    path = path.removesuffix(".json")
    data = site.json(f"{path}.json?{query}&_shape=objects")
    return {row["id"] for row in data["rows"]}


def test_home_page_shows_contents_version_download_and_charts(site):
    html = site.get("/").text
    assert "DPRK state media archive" in html
    assert "state media" in html and "archived unchanged for research" in html
    assert "2026.11.28" in html and "2026-10-03" in html  # version, date of the data
    file_hash = hashlib.sha256(site.path.read_bytes()).hexdigest()
    assert file_hash in html
    assert 'href="/dprk-archive.db"' in html
    assert '<svg class="chart chart-months"' in html and '<svg class="chart chart-regions"' in html
    assert "Voice of Korea" in html and "KCNA" in html
    assert "Articles per month" in html and "Articles per region" in html
    # Example queries link to the canned queries.
    for query in ("search", "recent_changes", "articles_by_region_month", "feed_latest.atom"):
        assert f"/dprk-archive/{query}" in html


def test_no_page_loads_anything_from_another_site(site):
    for path in ("/", "/dprk-archive", "/dprk-archive/articles", f"/dprk-archive/articles/{EDITED}", "/-/search?q=rice",
                 "/dprk-archive/search?q=rice"):
        html = site.get(path).text
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html):
            if 'rel="alternate"' in tag:
                continue  # a link for machines, never fetched by the page
            for url in re.findall(r'(?:src|href)="([^"]*)"', tag):
                assert url.startswith("/") and not url.startswith("//"), (path, tag)


def test_footer_shows_version_and_data_date_on_every_page(site):
    for path in ("/dprk-archive", "/dprk-archive/articles", "/dprk-archive/regions", "/dprk-archive/search?q=rice"):
        html = site.get(path).text
        assert "Dataset" in html and "2026.11.28" in html and "articles to 2026-10-03" in html, path


def test_static_stylesheet_is_served_locally(site):
    response = site.get("/assets/site.css")
    assert response.status_code == 200 and ".diff ins" in response.text


def test_database_and_every_table_page_render(site):
    assert site.get("/dprk-archive").status_code == 200
    for table in ("articles", "article_texts", "article_versions", "regions", "article_regions", "article_places", "media",
                  "crawl_runs", "builds", "facet_counts", "articles_full"):
        assert site.get(f"/dprk-archive/{table}").status_code == 200, table


def test_articles_list_is_sorted_newest_first(site):
    data = site.json("/dprk-archive/articles.json?_shape=objects")
    dates = [row["published"] for row in data["rows"]]
    assert dates == sorted(dates, reverse=True)
    assert "body" not in data["rows"][0]


def test_default_facets_without_url_parameters(site):
    found = facets(site, "/dprk-archive/articles")
    assert set(found) >= {"region", "year", "month", "outlet", "category", "published"}
    assert found["region"][region("Pyongyang")]["count"] == 2
    assert found["region"][region("Kangwon")]["count"] == 2
    assert found["year"]["2026"]["count"] == 4
    assert found["month"]["2026-10"]["count"] == 3
    assert found["outlet"]["KCNA"]["count"] == 1
    assert found["category"]["57"]["count"] == 1
    assert found["published"]["2026-10-01"]["count"] == 1
    html = site.get("/dprk-archive/articles").text
    assert "published (date)" in html


@pytest.mark.parametrize(
    "facet, value, expected",
    [
        ("region", "Pyongyang", {EDITED, MULTI}),
        ("year", "2025", {"ien250512005"}),
        ("month", "2026-10", {EDITED, REMOVED, XSS}),
        ("outlet", "KCNA", {"ien250512005"}),
        ("category", "57", {MULTI}),
        ("published", "2026-10-02", {REMOVED}),
    ],
)
def test_each_facet_value_links_to_the_filtered_rows(site, facet, value, expected):
    value = region(value) if facet == "region" else value
    toggle = urllib.parse.urlsplit(facets(site, "/dprk-archive/articles")[facet][value]["toggle_url"])
    query = urllib.parse.urlencode([p for p in urllib.parse.parse_qsl(toggle.query) if p[0] != "_extra"])
    url = f"{toggle.path.removesuffix('.json')}?{query}"
    assert row_ids(site, url) == expected
    # The clicked value shows as selected in the filtered view.
    assert facets(site, url)[facet][value]["selected"]


@pytest.mark.parametrize(
    "query",
    ["_region=Pyongyang", "_region=Kangwon", "year=2026", "month=2026-10", "outlet=Voice+of+Korea", "category=18", ""],
)
def test_precomputed_facet_counts_equal_live_counts(site, query):
    query = query.replace("Pyongyang", region("Pyongyang")).replace("Kangwon", region("Kangwon"))
    # _where=1=1 changes no rows but forces every facet to be counted live.
    precomputed = facets(site, f"/dprk-archive/articles?{query}")
    live = facets(site, f"/dprk-archive/articles?{query}&_where=1%3D1")
    strip = lambda found: {k: {v: i["count"] for v, i in vals.items()} for k, vals in found.items()}  # noqa: E731
    assert strip(precomputed) == strip(live)


def test_region_filter_combines_with_other_filters_and_repeats(site):
    pyongyang, kangwon = region("Pyongyang"), region("Kangwon")
    assert row_ids(site, f"/dprk-archive/articles?_region={pyongyang}&category=57") == {MULTI}
    assert row_ids(site, f"/dprk-archive/articles?_region={pyongyang}&_region={kangwon}") == {EDITED, MULTI}
    html = site.get(f"/dprk-archive/articles?_region={kangwon}").text
    assert f'region is &#34;{kangwon}&#34;' in html or f"region is &quot;{kangwon}&quot;" in html


def test_table_search_and_search_all(site):
    assert row_ids(site, "/dprk-archive/articles?_search=overfulfilled") == {EDITED}
    assert row_ids(site, "/dprk-archive/articles?_search=harvests") >= {MULTI, XSS}
    assert 'name="_search"' in site.get("/dprk-archive/articles").text
    html = site.get("/-/search?q=rice").text
    assert '"table": "articles"' in html and "/dprk-archive/articles.json" in html
    # Search with facets: counted live over the matches.
    found = facets(site, "/dprk-archive/articles?_search=fish")
    assert found["outlet"]["KCNA"]["count"] == 1 and "Voice of Korea" not in found["outlet"]


def test_ranked_search_canned_query_with_region_and_dates(site):
    data = site.json("/dprk-archive/search.json?q=harvest&_shape=objects")
    ids = [row["article_id"] for row in data["rows"]]
    assert set(ids) == {MULTI, XSS}
    html = site.get("/dprk-archive/search?q=harvest").text
    assert "<mark>" in html and "\ue000" not in html
    data = site.json(f"/dprk-archive/search.json?q=harvest&region={region('Kangwon')}&_shape=objects")
    assert [row["article_id"] for row in data["rows"]] == [MULTI]
    data = site.json("/dprk-archive/search.json?q=harvest&date_from=2026-10-01&date_to=2026-10-31&_shape=objects")
    assert [row["article_id"] for row in data["rows"]] == [XSS]
    assert site.json("/dprk-archive/search.json?q=&_shape=objects")["rows"] == []
    assert site.get('/dprk-archive/search?q=%22unbalanced').status_code == 200


def test_canned_query_articles_by_region_and_month(site):
    data = site.json(f"/dprk-archive/articles_by_region_month.json?region={region('Kangwon')}&month=&_shape=objects")
    assert [r["article_id"] for r in data["rows"]] == [EDITED, MULTI]
    data = site.json(f"/dprk-archive/articles_by_region_month.json?region={region('Kangwon')}&month=2026-09&_shape=objects")
    assert [r["article_id"] for r in data["rows"]] == [MULTI]
    data = site.json(f"/dprk-archive/region_month_counts.json?region={region('Kangwon')}&_shape=objects")
    assert {(r["month"], r["articles"]) for r in data["rows"]} == {("2026-10", 1), ("2026-09", 1)}


def test_canned_query_recent_changes_lists_edits_and_removals(site):
    rows = site.json("/dprk-archive/recent_changes.json?_shape=objects")["rows"]
    changes = {(r["change"], r["article_id"], r["version"]) for r in rows}
    assert ("edited", EDITED, 2) in changes and ("edited", EDITED, 3) in changes
    assert ("removed", REMOVED, 1) in changes
    assert [r["changed_at"] for r in rows] == sorted((r["changed_at"] for r in rows), reverse=True)
    html = site.get("/dprk-archive/recent_changes").text
    assert f'href="/dprk-archive/articles/{EDITED}"' in html


def test_canned_query_article_history(site):
    rows = site.json(f"/dprk-archive/article_history.json?id={EDITED}&_shape=objects")["rows"]
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert rows[0]["seen_first"].startswith("2026-11-01") and rows[2]["seen_first"].startswith("2026-11-05")
    rows = site.json(f"/dprk-archive/article_history.json?id={REMOVED}&_shape=objects")["rows"]
    assert rows[-1]["removed_at"].startswith("2026-11-08")


def test_article_page_shows_text_versions_diff_and_citation(site):
    html = site.get(f"/dprk-archive/articles/{EDITED}").text
    assert "<h1>Steel plan greatly overfulfilled</h1>" in html
    assert "2026-10-01" in html and "Voice of Korea" in html
    assert 'href="http://vok.rep.kp/index.php/detail_com/comde/ien261001001/18/en"' in html
    assert f'href="/dprk-archive/articles?_region={region("Kangwon")}"' in html
    assert "<p>They met in Kangwon.</p>" in html
    assert "Version 3" in html and "seen 2026-11-05" in html
    assert "<ins>greatly</ins>" in html and "<del>Pyongyang.</del>" in html
    assert "Cite this" in html and "Retrieved 2026-11-05" in html
    text_hash = site.json(f"/dprk-archive/articles/{EDITED}.json?_shape=objects")["rows"][0]["text_hash"]
    assert f"Text SHA-256 {text_hash}" in html
    assert f"http://localhost/dprk-archive/articles/{EDITED}" in html


def test_article_page_of_a_removed_article_says_so(site):
    html = site.get(f"/dprk-archive/articles/{REMOVED}").text
    assert "Removed by the source" in html and "2026-11-08" in html
    assert "From the youth league" in html


def test_other_row_pages_keep_datasettes_layout(site):
    html = site.get(f"/dprk-archive/regions/{region('Kangwon')}").text
    assert "Cite this" not in html and "iso_code" in html


def test_atom_feeds(site):
    for path, expected in [
        ("/dprk-archive/feed_latest.atom", "urn:dprk-archive:article:" + XSS),
        (f"/dprk-archive/feed_region.atom?region={region('Kangwon')}", "urn:dprk-archive:article:" + MULTI),
        ("/dprk-archive/feed_changes.atom", f"urn:dprk-archive:article:{EDITED}:v3"),
    ]:
        response = site.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        feed = ET.fromstring(response.content)
        ids = [e.findtext(f"{ATOM}id") for e in feed.iter(f"{ATOM}entry")]
        assert expected in ids, (path, ids)
    changes = ET.fromstring(site.get("/dprk-archive/feed_changes.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in changes.iter(f"{ATOM}entry")]
    assert any(t.startswith("Removed: Letter of thanks") for t in titles)


def test_feed_for_a_region_without_articles_is_valid(site):
    response = site.get("/dprk-archive/feed_region.atom?region=Nowhere")
    assert response.status_code == 200
    entries = list(ET.fromstring(response.content).iter(f"{ATOM}entry"))
    assert [e.findtext(f"{ATOM}id") for e in entries] == ["urn:dprk-archive:empty"]


def test_download_serves_exactly_the_published_file(site):
    response = site.get("/dprk-archive.db")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == hashlib.sha256(site.path.read_bytes()).hexdigest()


def test_csv_and_json_exports(site):
    response = site.get("/dprk-archive/articles.csv?_size=max")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["id"] for r in rows} >= {EDITED, REMOVED, XSS, MULTI}
    streamed = site.get("/dprk-archive/article_versions.csv?_stream=on")
    assert streamed.status_code == 200 and len(list(csv.DictReader(io.StringIO(streamed.text)))) == 8
    data = site.json("/dprk-archive/articles.json?_shape=array")
    assert len(data) == 6
    assert site.json("/dprk-archive/search.json?q=rice&_shape=array")


def test_metadata_describes_every_table_and_column():
    metadata = yaml.safe_load(serve.METADATA.read_text())
    assert metadata["title"] and metadata["description"] and metadata["license"] and metadata["source_url"]
    assert "description_html" not in yaml.dump(metadata)
    tables = metadata["databases"]["dprk-archive"]["tables"]
    assert tables["articles"]["sort_desc"] == "published"


def test_metadata_covers_the_built_schema(site):
    import sqlite3

    tables = yaml.safe_load(serve.METADATA.read_text())["databases"]["dprk-archive"]["tables"]
    conn = sqlite3.connect(f"file:{site.path}?mode=ro", uri=True)
    names = [r[0] for r in conn.execute(
        "select name from sqlite_master where type in ('table', 'view') and name not like 'sqlite_%' "
        "and name not like 'articles_fts_%'")]
    for name in names:
        assert tables.get(name, {}).get("description"), name
        columns = [r[1] for r in conn.execute(f"pragma table_info([{name}])")]
        assert set(columns) == set(tables[name]["columns"]), name


def test_serve_arguments_are_hardened():
    args = serve.datasette_args("build/dprk-archive.db", "127.0.0.1", 8123)
    assert args[:4] == ["datasette", "serve", "-i", "build/dprk-archive.db"]
    settings = dict(zip(args[args.index("--setting") + 1 :: 3], args[args.index("--setting") + 2 :: 3]))
    assert settings["suggest_facets"] == "false" and settings["allow_download"] == "true"
    assert {"sql_time_limit_ms", "max_returned_rows", "max_csv_mb"} <= set(settings)
    for option in ("--metadata", "--template-dir", "--plugins-dir", "--static"):
        assert option in args
    assert args[-4:] == ["--host", "127.0.0.1", "--port", "8123"]


def test_serve_uses_the_inspect_file_only_when_it_matches(site, tmp_path):
    assert serve.fresh_inspect_file(site.path) is not None
    assert "--inspect-file" in serve.datasette_args(site.path)
    copy = tmp_path / "dprk-archive.db"
    copy.write_bytes(site.path.read_bytes())
    assert serve.fresh_inspect_file(copy) is None  # no inspect file beside it
    (tmp_path / "dprk-archive-inspect.json").write_text('{"dprk-archive": {"dataset_version": "2000.01.01", "size": 1}}')
    assert serve.fresh_inspect_file(copy) is None


def test_serve_command_refuses_a_missing_file(tmp_path):
    from click.testing import CliRunner

    from dprk_archive.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "run `dprk-archive build` first" in result.output


def test_facets_counted_one_query_at_a_time_agree(site, monkeypatch):
    from datasette.plugins import pm

    facets_plugin = pm.get_plugin("facets.py")
    query = f"_region={region('Pyongyang')}&_where=1%3D1"
    combined = facets(site, f"/dprk-archive/articles?{query}")
    monkeypatch.setattr(facets_plugin, "COMBINED_MAX_ROWS", 0)
    separate = facets(site, f"/dprk-archive/articles?{query}")
    strip = lambda found: {k: {v: i["count"] for v, i in vals.items()} for k, vals in found.items()}  # noqa: E731
    assert strip(combined) == strip(separate) and combined["region"]


def _page_through(site, url):
    """Every row a reader gets by following next_url from `url` to the end."""
    rows = []
    while url:
        data = site.json(url)
        rows += data["rows"]
        url = (data.get("next_url") or "").replace("http://localhost", "")
    return rows


@pytest.mark.parametrize(
    "table, query, key",
    [
        ("articles", "", "id"),  # sorted by published: many articles share a day
        ("articles", "_sort=published", "id"),
        ("articles", "_region=Pyongyang", "id"),
        ("articles", "_sort_desc=outlet", "id"),
        ("article_versions", "", "id"),  # sorted by seen_first: one crawl sees many versions at once
        ("article_regions", "_sort=region", None),
        ("regions", "", "name"),
    ],
)
def test_paging_through_a_sorted_table_gives_every_row_once(site, table, query, key):
    # Datasette 0.65 orders only the first page without the primary key as tie-breaker; with pages of
    # a few rows, every boundary inside a run of ties would skip or repeat rows (pagination.py).
    import sqlite3

    conn = sqlite3.connect(f"file:{site.path}?mode=ro", uri=True)
    where = ("where id in (select article_id from article_regions where region = 'Pyongyang')"
             if "_region" in query else "")
    expected = conn.execute(f"select count(*) from {table} {where}").fetchone()[0]
    for size in (2, 3, 5):
        rows = _page_through(site, f"/dprk-archive/{table}.json?_size={size}&_shape=objects&{query}")
        identities = [row[key] if key else tuple(sorted(row.items())) for row in rows]
        assert len(identities) == expected and len(set(identities)) == expected, (table, query, size)


def test_the_first_page_keeps_its_order_and_gains_only_a_tie_breaker():
    module = plugin_module("pagination")
    first = ("select id, title from articles where +id in (select article_id from article_regions where region = :r) "
             "order by published desc limit 51")
    assert module.with_tie_breaker(first, ["id"]) == first.replace("published desc", "published desc, id")
    assert module.with_tie_breaker("select * from [my table] order by [sort col] limit 3", ["a", "b"]) == (
        "select * from [my table] order by [sort col], a, b limit 3")
    # Already in total order, a later page (Datasette adds the key itself), or not a table page: unchanged.
    for sql in ("select * from articles order by id limit 51",
                "select * from articles where published < :p0 order by published desc, id limit 51",
                "select region, count(*) from article_regions group by region order by count(*) desc limit 5",
                "select * from articles_full limit 51 offset 50"):
        assert module.with_tie_breaker(sql, ["id"]) == sql
