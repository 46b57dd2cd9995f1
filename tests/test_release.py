"""`dprk-archive release`: dated file, SHA256SUMS and CHANGES, checked against the offline mirror's truth."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from dprk_archive import load
from dprk_archive.build import build_database
from dprk_archive.cli import cli
from dprk_archive.crawl import Crawler
from dprk_archive.fetch import PoliteClient
from dprk_archive.mirror.server import start_mirror


def crawl(db_path: Path, base_url: str, **options) -> None:
    db = load.open_working_db(str(db_path))
    try:
        with PoliteClient(delay=0, backoff=0.01) as client:
            Crawler(db, client, base_url, **options).run()
    finally:
        db.conn.close()


def truth(base_url: str) -> dict:
    return httpx.get(f"{base_url}/_mirror/truth.json", timeout=60).json()


def release(db: Path, out: Path) -> dict[str, str]:
    result = CliRunner().invoke(cli, ["release", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return dict(line.split("=", 1) for line in result.output.splitlines())


def counts(changes: Path) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r"^- (.+): (\d+)$", changes.read_text(), re.M)}


def sums(folder: Path) -> dict[str, str]:
    return {name: digest for digest, name in (line.split() for line in (folder / "SHA256SUMS").read_text().splitlines())}


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    work, published, releases = folder / "work.db", folder / "dprk-archive.db", folder / "releases-out"
    mirror = start_mirror(port=0, articles=300, seed=3)
    try:
        crawl(work, mirror.base_url)
        day0 = truth(mirror.base_url)
        build_database(work, published, now=datetime(2026, 11, 1, 3, tzinfo=timezone.utc))
        first = release(published, releases)
        mirror.set_day(1)
        crawl(work, mirror.base_url, recheck=10_000)
        day1 = truth(mirror.base_url)
        build_database(work, published, now=datetime(2026, 11, 2, 3, tzinfo=timezone.utc))
        second = release(published, releases)
        again = release(published, releases)
    finally:
        mirror.stop()
    return releases, day0, day1, first, second, again


def test_each_release_has_a_dated_file_matching_sha256sums(two_releases):
    releases, _, _, first, second, _ = two_releases
    assert (first["version"], second["version"]) == ("2026.11.01", "2026.11.02")
    listed = sums(releases)
    for output in (first, second):
        path = Path(output["file"])
        assert path.parent == releases and path.name == f"dprk-archive-{output['version']}.db"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == output["sha256"] == listed[path.name]
    assert set(listed) == {"dprk-archive-2026.11.01.db", "dprk-archive-2026.11.02.db"}


def test_the_first_release_counts_everything_as_added(two_releases):
    releases, day0, _, first, _, _ = two_releases
    assert first["previous"] == "" and first["changed"] == "true"
    found = counts(Path(first["changes"]))
    assert found["articles added"] == len(day0["articles"])
    assert found["articles edited"] == found["articles removed"] == 0


def test_changes_match_the_mirrors_truth_between_two_days(two_releases):
    releases, day0, day1, first, second, _ = two_releases
    assert Path(second["previous"]) == Path(first["file"]) and second["changed"] == "true"
    before = {a["id"]: a["text_hash"] for a in day0["articles"]}
    after = {a["id"]: a["text_hash"] for a in day1["articles"]}
    added = set(after) - set(before)
    edited = {i for i in after if i in before and after[i] != before[i]}
    removed = (set(day1["removed"]) - set(day0["removed"])) & set(before)
    media_added = set(day1["media"]) - set(day0["media"])
    assert added and edited and removed, "the mirror's day 1 should add, edit and remove articles"
    found = counts(Path(second["changes"]))
    assert found["articles added"] == len(added)
    assert found["articles edited"] == len(edited)
    assert found["articles removed"] == len(removed)
    assert found["media items added"] == len(media_added)
    text = Path(second["changes"]).read_text()
    assert "since 2026.11.01" in text and sorted(removed)[0] in text


def test_releasing_the_same_file_again_reports_no_change(two_releases):
    releases, _, _, _, second, again = two_releases
    # Compared with the previous dated file, not itself: the same counts, the same content hash.
    assert again["version"] == second["version"] and again["data_hash"] == second["data_hash"]
    assert len(list(releases.glob("*.db"))) == 2


def test_an_unchanged_archive_is_not_a_change(tmp_path):
    from site_fixtures import make_working_db

    work = make_working_db(tmp_path / "work.db")
    out = tmp_path / "dprk-archive.db"
    build_database(work, out, now=datetime(2026, 11, 1, tzinfo=timezone.utc))
    first = release(out, tmp_path / "r")
    build_database(work, out, now=datetime(2026, 11, 2, tzinfo=timezone.utc))
    second = release(out, tmp_path / "r")
    assert first["sha256"] != second["sha256"], "builds differ in their builds table"
    assert second["changed"] == "false" and second["data_hash"] == first["data_hash"]
    assert counts(Path(second["changes"]))["articles added"] == 0


def test_release_without_a_built_file_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["release", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "dprk-archive build" in result.output
