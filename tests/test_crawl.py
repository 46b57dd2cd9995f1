"""Crawl the real offline mirror over loopback, day after day, and compare the database with its truth."""

import json

import httpx
import pytest
from click.testing import CliRunner

from dprk_archive import load
from dprk_archive.cli import cli
from dprk_archive.crawl import Crawler
from dprk_archive.fetch import PoliteClient
from dprk_archive.mirror.server import start_mirror


def crawl(db, base_url, **options):
    with PoliteClient(delay=0, backoff=0.01) as client:
        return Crawler(db, client, base_url, **options).run()


def truth(base_url):
    return httpx.get(f"{base_url}/_mirror/truth.json", timeout=60).json()


def article_requests(base_url):
    return httpx.get(f"{base_url}/_mirror/stats.json").json()["requests"]["article"]


def assert_database_matches_truth(db, expected):
    live = {row["id"]: row for row in db.query("SELECT * FROM articles WHERE removed_at IS NULL")}
    wanted = {article["id"]: article for article in expected["articles"]}
    assert set(live) == set(wanted), "live ids differ from the mirror's truth"
    for item_id, article in wanted.items():
        row = live[item_id]
        assert row["url"] == article["url"], item_id
        assert row["title"] == article["title"], item_id
        assert row["subtitle"] == article["subtitle"], item_id
        assert row["published"] == article["published"], item_id
        assert row["text_hash"] == article["text_hash"], item_id
    removed = {row[0] for row in db.execute("SELECT id FROM articles WHERE removed_at IS NOT NULL UNION ALL "
                                            "SELECT id FROM media WHERE removed_at IS NOT NULL")}
    seen_before = {row[0] for row in db.execute("SELECT id FROM articles UNION ALL SELECT id FROM media")}
    assert removed == set(expected["removed"]) & seen_before
    media = {row[0] for row in db.execute("SELECT id FROM media WHERE removed_at IS NULL")}
    assert media == set(expected["media"])


def assert_regions_match_truth(db, expected):
    wrong = []
    for article in expected["articles"]:
        stored = json.loads(db["articles"].get(article["id"])["regions"])
        if stored != article["regions"]:
            wrong.append((article["id"], stored, article["regions"]))
    assert not wrong, f"{len(wrong)} articles with wrong regions, e.g. {wrong[:3]}"


@pytest.fixture(scope="module")
def days_crawled(tmp_path_factory):
    """Crawl days 0, 1 and 2 of a 300-article mirror, recording the truth and the database after each."""
    mirror = start_mirror(port=0, articles=300, seed=11)
    db = load.open_working_db(str(tmp_path_factory.mktemp("crawl") / "work.db"))
    snapshots = []
    try:
        for day in (0, 1, 2):
            mirror.set_day(day)
            summary = crawl(db, mirror.base_url, recheck=10_000)
            expected = truth(mirror.base_url)
            versions = dict(db.execute("SELECT id, version_count FROM articles").fetchall())
            snapshots.append((summary, expected, versions))
            assert_database_matches_truth(db, expected)
        repeat = crawl(db, mirror.base_url, recheck=10_000)
        yield db, snapshots, repeat
    finally:
        mirror.stop()


def test_each_day_equals_the_mirror_truth(days_crawled):
    db, snapshots, _ = days_crawled
    assert_regions_match_truth(db, snapshots[-1][1])
    assert snapshots[0][0].counts["new"] == len(snapshots[0][1]["articles"])


def test_edits_become_new_versions_and_the_old_text_is_kept(days_crawled):
    db, snapshots, _ = days_crawled
    day1_truth = {a["id"]: a["text_hash"] for a in snapshots[1][1]["articles"]}
    day2_truth = {a["id"]: a["text_hash"] for a in snapshots[2][1]["articles"]}
    edited = [i for i in day2_truth if i in day1_truth and day1_truth[i] != day2_truth[i]]
    assert edited, "the mirror edited nothing between day 1 and day 2"
    for item_id in edited:
        hashes = [r[0] for r in db.execute(
            "SELECT text_hash FROM article_versions WHERE article_id = ? ORDER BY version", [item_id])]
        assert hashes[-1] == day2_truth[item_id]
        assert day1_truth[item_id] in hashes[:-1]
    assert snapshots[2][0].counts["edited"] == len(edited)


def test_cosmetic_changes_add_no_version(days_crawled):
    db, snapshots, _ = days_crawled
    day1 = {a["id"]: a["text_hash"] for a in snapshots[1][1]["articles"]}
    day2 = {a["id"]: a["text_hash"] for a in snapshots[2][1]["articles"]}
    versions_day1, versions_day2 = snapshots[1][2], snapshots[2][2]
    unchanged = [i for i in day2 if i in day1 and day1[i] == day2[i]]
    assert all(versions_day2[i] == versions_day1[i] for i in unchanged)
    total_versions = db.execute("SELECT count(*) FROM article_versions").fetchone()[0]
    assert total_versions == sum(versions_day2.values())


def test_removals_are_tombstoned_not_deleted(days_crawled):
    db, snapshots, _ = days_crawled
    removed = set(snapshots[2][1]["removed"])
    assert removed, "the mirror removed nothing by day 2"
    rows = db.execute(
        f"SELECT id, removed_at FROM articles WHERE id IN ({','.join('?' * len(removed))})", list(removed)
    ).fetchall()
    assert rows and all(removed_at for _, removed_at in rows)
    for item_id, _ in rows:
        assert db.execute("SELECT count(*) FROM article_versions WHERE article_id = ?", [item_id]).fetchone()[0] >= 1


def test_a_repeated_crawl_of_the_same_day_adds_nothing(days_crawled):
    db, snapshots, repeat = days_crawled
    assert repeat.counts["new"] == 0 and repeat.counts["edited"] == 0 and repeat.counts["removed"] == 0
    assert db.execute("SELECT count(*) FROM article_versions").fetchone()[0] == sum(snapshots[2][2].values())


def test_an_incremental_day_costs_requests_in_proportion_to_what_changed(tmp_path):
    mirror = start_mirror(port=0, articles=2000, seed=5)
    try:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, mirror.base_url)
        day0 = {a["id"] for a in truth(mirror.base_url)["articles"]}
        before = article_requests(mirror.base_url)
        mirror.set_day(1)
        summary = crawl(db, mirror.base_url)
        spent = article_requests(mirror.base_url) - before
        added = {a["id"] for a in truth(mirror.base_url)["articles"]} - day0
        assert len(added) >= 15
        assert summary.counts["new"] == len(added)
        assert spent < 100, f"an incremental day cost {spent} article requests for {len(added)} new articles"
    finally:
        mirror.stop()


def test_crawl_command_prints_a_summary_and_exits_zero(tmp_path):
    mirror = start_mirror(port=0, articles=60, seed=3)
    try:
        result = CliRunner().invoke(cli, ["crawl", "--db", str(tmp_path / "w.db"), "--base-url", mirror.base_url,
                                          "--delay", "0", "--silent"])
        assert result.exit_code == 0, result.output
        assert "new" in result.output and "errors" in result.output
        db = load.open_working_db(str(tmp_path / "w.db"))
        run = db.execute("SELECT status, new, requests FROM crawl_runs").fetchone()
        assert run[0] == "ok" and run[1] > 0 and run[2] > run[1]
    finally:
        mirror.stop()


def test_crawl_command_fails_when_nothing_can_be_fetched(tmp_path):
    result = CliRunner().invoke(cli, ["crawl", "--db", str(tmp_path / "w.db"), "--base-url", "http://127.0.0.1:9",
                                      "--delay", "0", "--silent"])
    assert result.exit_code != 0
    assert "failed" in result.output
