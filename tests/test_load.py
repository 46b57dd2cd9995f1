"""The working database: versions, cosmetic changes, removals, one transaction per article."""

import json

import pytest

from dprk_archive import load
from dprk_archive.models import Article, MediaItem


@pytest.fixture
def db(tmp_path):
    return load.open_working_db(str(tmp_path / "work.db"))


def article(body, title="Harvest completed in Hwangju County", **fields):
    defaults = dict(
        source="Voice of Korea",
        id="ien261003020",
        url="http://vok.rep.kp/index.php/detail_com/comde/ien261003020/18/en",
        subtitle=None,
        published="2026-10-04",
        published_raw="2026.10.4",
        category="18",
        family="comde",
        regions=["North Hwanghae"],
        places=[],
    )
    defaults.update(fields)
    return Article(title=title, body=body, **defaults)


def page(day, status=200, body=b"<html>raw</html>", item_id="ien261003020"):
    return load.PageRecord(
        url="http://vok.rep.kp/x",
        final_url="http://vok.rep.kp/x",
        status=status,
        fetched_at=f"2026-11-{day:02d}T00:00:00+00:00",
        body=body if status == 200 else None,
        item_id=item_id,
    )


def versions(db, item_id="ien261003020"):
    return [
        row["body"]
        for row in db.query("SELECT body FROM article_versions WHERE article_id = ? ORDER BY version", [item_id])
    ]


def test_a_to_b_to_a_gives_three_versions(db):
    assert load.save_article(db, article("Text A."), page(1), None) == "new"
    assert load.save_article(db, article("Text B."), page(2, body=b"b"), None) == "edited"
    assert load.save_article(db, article("Text A."), page(3), None) == "edited"
    assert versions(db) == ["Text A.", "Text B.", "Text A."]
    row = db["articles"].get("ien261003020")
    assert row["version_count"] == 3 and row["body"] == "Text A."
    assert row["first_seen"].startswith("2026-11-01") and row["last_changed"].startswith("2026-11-03")


def test_cosmetic_change_adds_no_version_but_records_the_sighting(db):
    load.save_article(db, article('He said "yes".'), page(1), None)
    outcome = load.save_article(db, article("He\u00a0said  \u201cyes\u201d."), page(2, body=b"other"), None)
    assert outcome == "unchanged"
    assert versions(db) == ['He said "yes".']
    version = db.execute("SELECT seen_first, seen_last FROM article_versions").fetchone()
    assert version[0].startswith("2026-11-01") and version[1].startswith("2026-11-02")


def test_raw_pages_are_kept_and_identical_bodies_stored_once(db):
    load.save_article(db, article("Text A."), page(1), None)
    load.save_article(db, article("Text A."), page(2), None)
    assert db["pages"].count == 2
    assert db["page_bodies"].count == 1
    sha = db.execute("SELECT sha256 FROM pages LIMIT 1").fetchone()[0]
    assert load.page_body(db, sha) == b"<html>raw</html>"


def test_removal_needs_two_checks_and_a_sighting_clears_it(db):
    load.save_article(db, article("Text A."), page(1), None)
    assert load.record_missing(db, "ien261003020", page(2, status=404), None) == "missing"
    row = db["articles"].get("ien261003020")
    assert row["removed_at"] is None and row["missing_since"].startswith("2026-11-02")
    assert load.record_missing(db, "ien261003020", page(3, status=404), None) == "removed"
    assert db["articles"].get("ien261003020")["removed_at"].startswith("2026-11-03")
    # Rows are never deleted, and coming back is recorded as a restoration, not a new article.
    assert load.save_article(db, article("Text A."), page(4), None) == "restored"
    row = db["articles"].get("ien261003020")
    assert row["removed_at"] is None and row["missing_since"] is None


def test_a_sighting_between_two_404s_resets_the_count(db):
    load.save_article(db, article("Text A."), page(1), None)
    load.record_missing(db, "ien261003020", page(2, status=404), None)
    load.record_not_modified(db, "ien261003020", page(3, status=304), None)
    assert load.record_missing(db, "ien261003020", page(4, status=404), None) == "missing"


def test_unknown_item_404_is_not_an_article(db):
    assert load.record_missing(db, "ien000000000", page(1, status=404, item_id="ien000000000"), None) is None
    assert db["articles"].count == 0


def test_regions_are_stored_in_the_join_table_and_replaced_on_edit(db):
    load.save_article(db, article("Text A.", regions=["Pyongyang", "Kangwon"]), page(1), None)
    load.save_article(db, article("Text B.", regions=["Rason"]), page(2), None)
    rows = db.execute("SELECT region FROM article_regions").fetchall()
    assert rows == [("Rason",)]
    assert json.loads(db["articles"].get("ien261003020")["regions"]) == ["Rason"]


def test_media_items_go_to_their_own_table(db):
    item = MediaItem(source="Voice of Korea", id="iee260730001", url="http://vok.rep.kp/index.php/detail_com/vi_video/iee260730001", kind="video", title="The Most Important Work")
    assert load.save_media(db, item, page(1, item_id=item.id), None) == "new"
    assert load.save_media(db, item, page(2, item_id=item.id), None) == "unchanged"
    assert db["media"].count == 1 and db["articles"].count == 0


def test_a_failed_write_leaves_nothing_half_done(db, monkeypatch):
    load.save_article(db, article("Text A."), page(1), None)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "_insert_version", explode)
    with pytest.raises(RuntimeError):
        load.save_article(db, article("Text B."), page(2, body=b"b"), None)
    assert db["articles"].get("ien261003020")["body"] == "Text A."
    assert db["pages"].count == 1 and versions(db) == ["Text A."]


def test_migrations_are_idempotent(tmp_path):
    path = str(tmp_path / "work.db")
    load.open_working_db(path)
    db = load.open_working_db(path)
    assert db["regions"].count == 13
