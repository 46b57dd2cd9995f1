"""`dprk-archive generate`: a working DB of the mirror without the network, the same as a crawl of it."""

import json

import pytest
from click.testing import CliRunner

from dprk_archive import load
from dprk_archive.cli import cli
from dprk_archive.crawl import Crawler
from dprk_archive.fetch import PoliteClient
from dprk_archive.generate import generate_database
from dprk_archive.mirror.server import start_mirror
from dprk_archive.mirror.site import MirrorSite
from dprk_archive.reparse import reparse_database

ITEMS = 150


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("generated") / "work.db"
    summary = generate_database(path, ITEMS, seed=1, workers=2)
    return path, summary


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    path = tmp_path_factory.mktemp("crawled") / "work.db"
    db = load.open_working_db(str(path))
    with start_mirror(articles=ITEMS, seed=1) as mirror:
        with PoliteClient(delay=0, backoff=0.01) as client:
            Crawler(db, client, mirror.base_url, walk_all=True).run()
    db.conn.close()
    return path


def articles(path):
    db = load.open_working_db(str(path))
    rows = {row["id"]: row for row in db.query("select * from articles")}
    regions = {}
    for article_id, region in db.execute("select article_id, region from article_regions"):
        regions.setdefault(article_id, set()).add(region)
    db.conn.close()
    return rows, regions


def test_generated_articles_are_the_mirror_truth(generated):
    path, summary = generated
    truth = {item["id"]: item for kind, item in MirrorSite(ITEMS, 1).truth() if kind == "article"}
    rows, regions = articles(path)
    assert summary.articles == len(truth)
    assert set(rows) == set(truth)
    for item_id, item in truth.items():
        row = rows[item_id]
        assert (row["url"], row["title"], row["subtitle"], row["published"], row["text_hash"]) == (
            item["url"], item["title"], item["subtitle"], item["published"], item["text_hash"]), item_id
        assert sorted(json.loads(row["regions"])) == sorted(item["regions"]), item_id
        assert regions.get(item_id, set()) == set(item["regions"]), item_id


def test_generated_database_has_the_shape_of_a_crawl(generated, crawled):
    path, _ = generated
    ours, our_regions = articles(path)
    theirs, their_regions = articles(crawled)
    assert set(ours) == set(theirs)
    compared = ("title", "subtitle", "published", "published_raw", "body", "text_hash", "regions", "places",
                "category", "family", "source", "url", "version_count")
    for item_id in ours:
        assert {k: ours[item_id][k] for k in compared} == {k: theirs[item_id][k] for k in compared}, item_id
    assert our_regions == their_regions
    counts = {}
    for db_path in (path, crawled):
        db = load.open_working_db(str(db_path))
        counts[db_path] = {
            table: db.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("articles", "article_versions", "article_regions", "article_places", "media")
        }
        # every article version points at its raw page, stored and readable
        missing = db.execute(
            """select count(*) from article_versions v left join page_bodies b on b.sha256 = v.page_sha256
               where b.sha256 is null"""
        ).fetchone()[0]
        assert missing == 0
        item_pages = db.execute("select count(distinct item_id) from pages where status = 200").fetchone()[0]
        assert item_pages == counts[db_path]["articles"] + counts[db_path]["media"]
        db.conn.close()
    assert counts[path] == counts[crawled]


def test_reparse_of_a_generated_database_changes_nothing(generated):
    path, _ = generated
    db = load.open_working_db(str(path))
    report = reparse_database(db)
    db.conn.close()
    assert report.versions > 0
    assert (report.changed_versions, report.errors) == (0, [])


def test_generate_command_refuses_to_overwrite(tmp_path):
    target = tmp_path / "work.db"
    result = CliRunner().invoke(cli, ["generate", "--articles", "40", "--db", str(target), "--silent"])
    assert result.exit_code == 0, result.output
    assert "articles" in result.output
    again = CliRunner().invoke(cli, ["generate", "--articles", "40", "--db", str(target)])
    assert again.exit_code == 1
    assert "already exists" in again.output
