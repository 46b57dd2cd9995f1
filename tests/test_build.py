"""The published file: public tables only, search, versioning, releases, and safe replacement."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from dprk_archive import build
from dprk_archive.build import BuildError, build_database, next_version
from dprk_archive.cli import cli
from site_fixtures import BUILD_TIME, EDITED, REMOVED, make_working_db


@pytest.fixture
def work(tmp_path) -> Path:
    return make_working_db(tmp_path / "work.db")


@pytest.fixture
def published(work, tmp_path) -> Path:
    out = tmp_path / "dprk-archive.db"
    build_database(work, out, now=BUILD_TIME)
    return out


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_published_file_has_no_raw_pages_or_crawl_state(published):
    tables = {r[0] for r in connect(published).execute("select name from sqlite_master where type = 'table'")}
    assert not tables & {"pages", "page_bodies", "retry_queue", "fetch_errors"}
    assert {"articles", "article_texts", "article_versions", "article_regions", "regions", "media", "builds",
            "crawl_runs", "facet_counts", "articles_fts"} <= tables
    columns = {r[1] for r in connect(published).execute("pragma table_info(crawl_runs)")}
    assert "base_url" not in columns
    columns = {r[1] for r in connect(published).execute("pragma table_info(articles)")}
    assert "body" not in columns and {"year", "month", "outlet"} <= columns


def test_article_rows_and_versions_are_copied(published):
    conn = connect(published)
    assert conn.execute("select version_count, year, month from articles where id = ?", [EDITED]).fetchone() == (3, 2026, "2026-10")
    assert conn.execute("select count(*) from article_versions where article_id = ?", [EDITED]).fetchone()[0] == 3
    assert conn.execute("select removed_at is not null from articles where id = ?", [REMOVED]).fetchone()[0] == 1
    body = conn.execute("select body from article_texts where article_id = ?", [EDITED]).fetchone()[0]
    assert body.endswith("They met in Kangwon.")


def test_full_text_search_finds_title_subtitle_and_body_with_stemming(published):
    conn = connect(published)

    def ids(query):
        return {r[0] for r in conn.execute(
            "select a.id from articles_fts join articles a on a.rowid = articles_fts.rowid where articles_fts match ?", [query])}

    assert EDITED in ids("overfulfilled")  # title
    assert REMOVED in ids("league")  # subtitle
    assert EDITED in ids("Kangwon")  # body
    assert "ien261004004" in ids("harvests")  # porter: harvests -> harvest


def test_schema_version_journal_mode_and_builds_row(published):
    conn = connect(published)
    assert conn.execute("pragma user_version").fetchone()[0] == build.SCHEMA_VERSION
    assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"
    conn.row_factory = sqlite3.Row
    row = conn.execute("select * from builds").fetchone()
    assert row["version"] == "2026.11.28"
    assert row["built_at"] == "2026-11-28T09:30:00+00:00"
    assert row["schema_version"] == build.SCHEMA_VERSION
    assert row["code_version"].startswith("0.")
    assert (row["data_from"], row["data_to"]) == ("2024-01-01", "2026-10-03")
    coverage = {c["outlet"]: c for c in json.loads(row["coverage"])}
    assert coverage["KCNA"] == {"outlet": "KCNA", "first": "2025-05-12", "last": "2025-05-12", "articles": 1}
    assert coverage["Voice of Korea"]["last"] == "2026-10-03"
    counts = json.loads(row["row_counts"])
    assert counts["articles"] == 6 and counts["article_versions"] == 8 and counts["builds"] == 1


def test_indexes_cover_every_facet_and_statistics_exist(published):
    conn = connect(published)
    indexed = {r[0] for r in conn.execute(
        "select il.name from sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) il "
        "where m.name = 'articles' and il.seqno = 0")}
    assert {"published", "year", "month", "outlet", "category", "removed_at"} <= indexed
    assert conn.execute("select count(*) from sqlite_stat1").fetchone()[0] > 0


def test_precomputed_facet_counts_match_live_counts(published):
    conn = connect(published)
    stored = dict(conn.execute("select value, count from facet_counts where filter = 'region' and filter_value = 'Pyongyang' and facet = 'month'"))
    live = dict(conn.execute(
        "select a.month, count(*) from articles a join article_regions r on r.article_id = a.id "
        "where r.region = 'Pyongyang' group by a.month"))
    assert stored == live and stored
    stored = dict(conn.execute("select value, count from facet_counts where filter = 'year' and filter_value = '2026' and facet = 'outlet'"))
    assert stored == dict(conn.execute("select outlet, count(*) from articles where year = 2026 group by outlet"))


def test_inspect_file_describes_the_published_file(published):
    data = json.loads(build.inspect_path(published).read_text())
    entry = data["dprk-archive"]
    assert entry["hash"] == digest(published)
    assert entry["size"] == published.stat().st_size
    assert entry["tables"]["articles"]["count"] == 6
    assert entry["dataset_version"] == "2026.11.28"


def test_same_day_builds_get_a_counter_and_keep_the_history(work, published, tmp_path):
    second = build_database(work, published, now=BUILD_TIME.replace(hour=12))
    third = build_database(work, published, now=BUILD_TIME.replace(hour=13))
    next_day = build_database(work, published, now=datetime(2026, 11, 29, 1, tzinfo=timezone.utc))
    assert (second.version, third.version, next_day.version) == ("2026.11.28.2", "2026.11.28.3", "2026.11.29")
    versions = [r[0] for r in connect(published).execute("select version from builds order by built_at")]
    assert versions == ["2026.11.28", "2026.11.28.2", "2026.11.28.3", "2026.11.29"]


def test_next_version_counts_past_the_highest():
    assert next_version("2026-11-28", set()) == "2026.11.28"
    assert next_version("2026-11-28", {"2026.11.27", "2026.11.27.4"}) == "2026.11.28"
    assert next_version("2026-11-28", {"2026.11.28"}) == "2026.11.28.2"
    assert next_version("2026-11-28", {"2026.11.28", "2026.11.28.9"}) == "2026.11.28.10"


def test_release_copy_and_sha256sums_line(work, published, tmp_path):
    releases = tmp_path / "releases"
    first = releases / "dprk-archive-2026.11.28.db"
    assert digest(first) == digest(published)
    result = build_database(work, published, now=BUILD_TIME.replace(hour=12))
    lines = (releases / "SHA256SUMS").read_text().splitlines()
    assert lines == [f"{digest(first)}  dprk-archive-2026.11.28.db", f"{result.sha256}  dprk-archive-2026.11.28.2.db"]
    assert digest(releases / "dprk-archive-2026.11.28.2.db") == result.sha256 == digest(published)


def test_release_names_count_towards_the_version(work, tmp_path):
    out = tmp_path / "dprk-archive.db"
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "SHA256SUMS").write_text("0" * 64 + "  dprk-archive-2026.11.28.5.db\n")
    assert build_database(work, out, now=BUILD_TIME).version == "2026.11.28.6"


def test_missing_working_database_is_a_clear_error(tmp_path):
    with pytest.raises(BuildError, match="run `dprk-archive crawl` first"):
        build_database(tmp_path / "nope.db", tmp_path / "out.db")


def test_shrinking_tables_are_refused_unless_allowed(published, tmp_path):
    (tmp_path / "other").mkdir()
    small = make_working_db(tmp_path / "other" / "small.db")
    conn = sqlite3.connect(small)
    for table in ("article_regions", "article_places", "article_versions", "articles"):
        conn.execute(f"delete from {table} where {'article_id' if table != 'articles' else 'id'} = ?", [EDITED])
    conn.commit()
    conn.close()
    before = digest(published)
    with pytest.raises(BuildError, match=r"shrank.*articles 6 -> 5.*--allow-shrink"):
        build_database(small, published, now=BUILD_TIME.replace(hour=12))
    assert digest(published) == before
    result = build_database(small, published, now=BUILD_TIME.replace(hour=13), allow_shrink=True)
    assert result.row_counts["articles"] == 5


def _inject(monkeypatch, name, tmp_path):
    if name == "corrupt":
        real = build.compact

        def corrupting(staging, tmp):
            real(staging, tmp)
            with open(tmp, "r+b") as handle:
                handle.seek(0)
                handle.write(b"this is not a database file at all")

        monkeypatch.setattr(build, "compact", corrupting)
        return
    if name == "check":
        def failing_problems(conn):
            return ["integrity_check: injected failure"]

        monkeypatch.setattr(build, "_problems", failing_problems)
        return
    if name == "replace":
        def failing_replace(source, target):
            raise OSError("injected rename failure")

        monkeypatch.setattr(build, "replace", failing_replace)
        return

    def fail(*args, **kwargs):
        raise OSError(f"injected failure in {name}")

    monkeypatch.setattr(build, name, fail)


@pytest.mark.parametrize(
    "step", ["populate", "compact", "corrupt", "check", "fsync_file", "write_inspect", "copy_synced", "write_synced", "replace"]
)
def test_a_failure_at_any_step_leaves_the_published_file_untouched(work, published, tmp_path, monkeypatch, step):
    before = digest(published)
    listing = folder_listing(tmp_path)
    _inject(monkeypatch, step, tmp_path)
    with pytest.raises(BuildError):
        build_database(work, published, now=BUILD_TIME.replace(hour=12))
    assert digest(published) == before
    # No temporary, -journal or -wal file left behind, and no release or SHA256SUMS line added.
    assert folder_listing(tmp_path) == listing
    assert len((tmp_path / "releases" / "SHA256SUMS").read_text().splitlines()) == 1


def test_unreadable_previous_file_is_refused_unless_allow_shrink(work, tmp_path):
    out = tmp_path / "dprk-archive.db"
    out.write_bytes(b"garbage" * 1000)
    with pytest.raises(BuildError, match="cannot be read"):
        build_database(work, out, now=BUILD_TIME)
    assert out.read_bytes() == b"garbage" * 1000


def test_working_database_is_not_written(work, tmp_path):
    before = digest(work)
    build_database(work, tmp_path / "dprk-archive.db", now=BUILD_TIME)
    assert digest(work) == before


def test_cli_build_prints_the_result_and_reports_errors_without_traceback(work, tmp_path):
    out = tmp_path / "site" / "dprk-archive.db"
    result = CliRunner().invoke(cli, ["build", "--db", str(work), "--out", str(out), "--silent"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "sha256" in result.output
    result = CliRunner().invoke(cli, ["build", "--db", str(tmp_path / "missing.db"), "--out", str(out)])
    assert result.exit_code == 1
    assert "Error: No working database" in result.output and "Traceback" not in result.output


def test_a_failure_after_the_rename_says_the_new_file_was_published(work, published, tmp_path, monkeypatch):
    real_replace = build.replace
    calls = []

    def fail_after_the_database(source, target):
        calls.append(Path(target).name)
        if len(calls) == 2:  # the release copy, after the database itself went into place
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    before = digest(published)
    monkeypatch.setattr(build, "replace", fail_after_the_database)
    with pytest.raises(BuildError) as failed:
        build_database(work, published)
    message = str(failed.value)
    assert "was published" in message and "unchanged" not in message and "No space left" in message
    assert calls[0] == published.name and digest(published) != before
    # The file that did go into place is whole.
    with connect(published) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (missed,) = conn.execute("SELECT version FROM builds ORDER BY built_at DESC, version DESC").fetchone()
    releases = published.parent / "releases"
    copy = releases / f"{published.stem}-{missed}.db"
    assert not copy.exists() and copy.name not in (releases / "SHA256SUMS").read_text()
    published_then = digest(published)

    # The next build first gives the published version the release copy and checksum line it missed.
    monkeypatch.setattr(build, "replace", real_replace)
    lines = []
    result = build_database(work, published, progress=lines.append)
    assert any(line.startswith(f"restored {copy.name}") for line in lines), lines
    assert digest(copy) == published_then
    assert f"{published_then}  {copy.name}" in (releases / "SHA256SUMS").read_text().splitlines()
    assert result.version != missed and digest(result.release) == result.sha256
    assert [p.name for p in releases.iterdir() if p.name.startswith(".")] == []
