"""The parse, regions and reparse commands, as a user runs them."""

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from dprk_archive import load
from dprk_archive.cli import cli
from dprk_archive.crawl import Crawler
from dprk_archive.fetch import PoliteClient

PAGES = Path(__file__).parent / "pages"


def test_parse_prints_one_json_object_with_every_field(mirror, tmp_path):
    truth = httpx.get(f"{mirror.base_url}/_mirror/truth.json").json()
    expected = next(a for a in truth["articles"] if a["regions"])
    local_url = expected["url"].replace("http://vok.rep.kp", mirror.base_url)
    page = httpx.get(local_url).content
    saved = tmp_path / "page.html"
    saved.write_bytes(page)
    result = CliRunner().invoke(cli, ["parse", str(saved), "--url", expected["url"]])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    for key in ("source", "url", "id", "title", "subtitle", "published", "published_raw", "body", "regions",
                "places", "extraction"):
        assert key in record, key
    assert (record["id"], record["title"], record["subtitle"], record["published"]) == (
        expected["id"], expected["title"], expected["subtitle"], expected["published"])
    assert record["regions"] == expected["regions"]
    assert record["extraction"] == "selector"


def test_parse_names_the_page_when_it_cannot_be_parsed(tmp_path):
    page = tmp_path / "cut.html"
    page.write_bytes(b"<html><body><div class='article-body'><p>Half a page")
    result = CliRunner().invoke(cli, ["parse", str(page), "--url",
                                      "http://vok.rep.kp/index.php/detail_com/comde/ien261006004/18/en"])
    assert result.exit_code != 0
    assert "ien261006004" in result.output and "truncated" in result.output


def test_regions_reads_stdin():
    result = CliRunner().invoke(cli, ["regions"], input="A rally was held in Hamhung and in Sinuiju.")
    assert result.exit_code == 0
    assert json.loads(result.output) == ["North Phyongan", "South Hamgyong"]


def test_reparse_rederives_from_raw_pages_without_the_network(mirror, tmp_path):
    db_path = str(tmp_path / "work.db")
    db = load.open_working_db(db_path)
    with PoliteClient(delay=0) as client:
        Crawler(db, client, mirror.base_url, max_requests=40).run()
    stored = dict(db.execute("SELECT id, body FROM articles").fetchall())
    assert stored
    # Simulate an old parser's mistake in the stored text; reparse must repair it from the raw page.
    victim = next(iter(stored))
    with db.atomic():
        db.execute("UPDATE articles SET body = 'toKim Jong Unwere' WHERE id = ?", [victim])
        db.execute("UPDATE article_versions SET body = 'toKim Jong Unwere' WHERE article_id = ?", [victim])
    result = CliRunner().invoke(cli, ["reparse", "--db", db_path, "--silent"])
    assert result.exit_code == 0, result.output
    assert "1 changed" in result.output and "body 1" in result.output
    again = load.open_working_db(db_path)
    assert dict(again.execute("SELECT id, body FROM articles").fetchall()) == stored
    second = CliRunner().invoke(cli, ["reparse", "--db", db_path, "--silent"])
    assert "0 changed" in second.output
