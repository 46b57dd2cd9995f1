"""Working database -> published file: public tables only, FTS, indexes, checks, versioning, atomic replace.

The published file is opened immutable by Datasette, so it is written once, checked, fsynced and moved
into place with a single os.replace: readers see the old file or the new one, never a half-built one.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from . import __version__
from .sources import kcnawatch, vok

SCHEMA_VERSION = 1

# Every temporary file of one build carries the same random token of this many hex digits in its name.
TOKEN_DIGITS = 12

# Raw pages and crawl state stay in the working database: they are large, and say how we crawl.
PRIVATE_TABLES = ("pages", "page_bodies", "retry_queue", "fetch_errors")

# Tables whose rows are never deleted upstream (removals are tombstones), so fewer rows than last
# time means the build read the wrong or a damaged working database. article_regions and
# article_places may shrink for real: an edit can drop a place name.
MONOTONIC_TABLES = ("articles", "article_texts", "article_versions", "media", "regions", "crawl_runs", "builds")

# Facet counts are precomputed for the unfiltered list and for every single-facet filter (one region,
# one year, month, outlet or category): the views visitors land on and click through first, which
# would otherwise count a large share of all articles on every page load (docs/facets.md).
FACET_COLUMNS = ("year", "month", "outlet", "category", "published")
FILTER_COLUMNS = ("year", "month", "outlet", "category")

SCHEMA = [
    """CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        subtitle TEXT,
        published TEXT,
        year INTEGER,
        month TEXT,
        outlet TEXT NOT NULL,
        category TEXT,
        regions TEXT NOT NULL,
        url TEXT NOT NULL,
        family TEXT,
        published_raw TEXT,
        via TEXT,
        extraction TEXT,
        version_count INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        removed_at TEXT,
        text_hash TEXT NOT NULL
    )""",
    """CREATE TABLE article_texts (
        article_id TEXT PRIMARY KEY REFERENCES articles(id),
        body TEXT NOT NULL
    )""",
    """CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id),
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        subtitle TEXT,
        published TEXT,
        published_raw TEXT,
        body TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        seen_first TEXT NOT NULL,
        seen_last TEXT NOT NULL,
        page_sha256 TEXT,
        UNIQUE (article_id, version)
    )""",
    """CREATE TABLE regions (
        name TEXT PRIMARY KEY,
        iso_code TEXT NOT NULL,
        latitude REAL NOT NULL,
        longitude REAL NOT NULL,
        article_count INTEGER NOT NULL
    )""",
    # WITHOUT ROWID with both key orders: "regions of these articles" and "articles of this region"
    # are each one covering index range.
    """CREATE TABLE article_regions (
        article_id TEXT NOT NULL REFERENCES articles(id),
        region TEXT NOT NULL REFERENCES regions(name),
        PRIMARY KEY (article_id, region)
    ) WITHOUT ROWID""",
    """CREATE TABLE article_places (
        article_id TEXT NOT NULL REFERENCES articles(id),
        place TEXT NOT NULL,
        region TEXT NOT NULL REFERENCES regions(name),
        PRIMARY KEY (article_id, place)
    ) WITHOUT ROWID""",
    """CREATE TABLE media (
        id TEXT PRIMARY KEY,
        outlet TEXT NOT NULL,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT,
        published TEXT,
        published_raw TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        removed_at TEXT
    )""",
    """CREATE TABLE crawl_runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        requests INTEGER NOT NULL,
        new INTEGER NOT NULL,
        edited INTEGER NOT NULL,
        removed INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        errors INTEGER NOT NULL
    )""",
    # value has no declared type so years stay integers and months stay text, as in articles.
    """CREATE TABLE facet_counts (
        filter TEXT NOT NULL,
        filter_value TEXT NOT NULL,
        facet TEXT NOT NULL,
        value,
        count INTEGER NOT NULL,
        PRIMARY KEY (filter, filter_value, facet, value)
    ) WITHOUT ROWID""",
    """CREATE TABLE builds (
        version TEXT PRIMARY KEY,
        built_at TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        code_version TEXT NOT NULL,
        data_from TEXT,
        data_to TEXT,
        coverage TEXT NOT NULL,
        row_counts TEXT NOT NULL,
        sample_data INTEGER
    )""",
    # The FTS index reads its text through this view: the body lives outside articles so that list
    # pages and facet scans never touch it. rowid is articles.rowid, which ?_search= relies on.
    """CREATE VIEW articles_full AS
        SELECT a.rowid AS rowid, a.id, a.title, a.subtitle, a.published, a.outlet, a.category, a.regions,
               a.url, a.removed_at, t.body
        FROM articles a JOIN article_texts t ON t.article_id = a.id""",
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, subtitle, body, content="articles_full", content_rowid="rowid",
        tokenize="porter unicode61 remove_diacritics 2"
    )""",
]

# (col, id) indexes are covering for the "+id IN (...)" region filter, so a facet under that filter
# is one index scan with no table lookups (docs/facets.md).
INDEXES = [
    "CREATE INDEX articles_published ON articles(published, id)",
    "CREATE INDEX articles_year ON articles(year, id)",
    "CREATE INDEX articles_month ON articles(month, id)",
    "CREATE INDEX articles_outlet ON articles(outlet, id)",
    "CREATE INDEX articles_category ON articles(category, id)",
    "CREATE INDEX articles_removed_at ON articles(removed_at)",
    "CREATE INDEX articles_last_changed ON articles(last_changed)",
    "CREATE INDEX articles_first_seen ON articles(first_seen)",
    "CREATE INDEX article_regions_region ON article_regions(region, article_id)",
    "CREATE INDEX article_places_region ON article_places(region)",
    "CREATE INDEX article_places_place ON article_places(place)",
    "CREATE INDEX article_versions_seen_first ON article_versions(seen_first)",
    "CREATE INDEX article_versions_version ON article_versions(version, article_id)",
    "CREATE INDEX media_published ON media(published)",
    "CREATE INDEX media_kind ON media(kind)",
    "CREATE INDEX media_removed_at ON media(removed_at)",
]

_ISO_DATE = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"

COPY = [
    f"""INSERT INTO articles (id, title, subtitle, published, year, month, outlet, category, regions, url, family,
            published_raw, via, extraction, version_count, first_seen, last_seen, last_changed, removed_at, text_hash)
        SELECT id, title, subtitle, published,
            CASE WHEN published GLOB {_ISO_DATE} THEN CAST(substr(published, 1, 4) AS INTEGER) END,
            CASE WHEN published GLOB {_ISO_DATE} THEN substr(published, 1, 7) END,
            source, category, regions, url, family, published_raw, via, extraction, version_count,
            first_seen, last_seen, last_changed, removed_at, text_hash
        FROM work.articles ORDER BY published, id""",
    # Same order as articles, so the two tables' rows sit in step on disk.
    """INSERT INTO article_texts (article_id, body)
        SELECT a.id, w.body FROM articles a JOIN work.articles w ON w.id = a.id ORDER BY a.rowid""",
    """INSERT INTO article_versions (id, article_id, version, title, subtitle, published, published_raw, body,
            text_hash, seen_first, seen_last, page_sha256)
        SELECT id, article_id, version, title, subtitle, published, published_raw, body, text_hash, seen_first,
            seen_last, page_sha256
        FROM work.article_versions ORDER BY id""",
    """INSERT INTO regions (name, iso_code, latitude, longitude, article_count)
        SELECT r.name, r.iso_code, r.latitude, r.longitude,
            (SELECT count(*) FROM work.article_regions ar WHERE ar.region = r.name)
        FROM work.regions r ORDER BY r.name""",
    "INSERT INTO article_regions (article_id, region) SELECT article_id, region FROM work.article_regions",
    "INSERT INTO article_places (article_id, place, region) SELECT article_id, place, region FROM work.article_places",
    """INSERT INTO media (id, outlet, url, kind, title, published, published_raw, first_seen, last_seen, removed_at)
        SELECT id, source, url, kind, title, published, published_raw, first_seen, last_seen, removed_at
        FROM work.media ORDER BY published, id""",
    # A public summary of each run: counts and status, not the base URL (it may name a proxy or a mirror).
    """INSERT INTO crawl_runs (id, started_at, finished_at, status, requests, new, edited, removed, unchanged, errors)
        SELECT id, started_at, finished_at, status, requests, new, edited, removed, unchanged, errors
        FROM work.crawl_runs ORDER BY id""",
]

FULL_TEXT_INDEX = [
    """INSERT INTO articles_fts (rowid, title, subtitle, body)
        SELECT rowid, title, subtitle, body FROM articles_full""",
    "INSERT INTO articles_fts (articles_fts) VALUES ('optimize')",
]


class BuildError(Exception):
    """The build was refused or failed; the message says what to do, and the old file is untouched."""


@dataclass
class BuildResult:
    """What one build produced."""

    path: Path
    version: str
    sha256: str
    size: int
    built_at: str
    row_counts: dict[str, int]
    release: Path
    inspect_file: Path
    coverage: list[dict] = field(default_factory=list)


def release_dir(out: Path) -> Path:
    """The folder that keeps a dated copy of every build and its SHA256SUMS."""
    return Path(out).parent / "releases"


def release_path(out: Path, version: str) -> Path:
    """The dated copy of the build `version` of `out`, in its releases folder."""
    return release_dir(out) / f"{Path(out).stem}-{version}.db"


def temporary(path: Path, token: str, kind: str = "tmp") -> Path:
    """The name a build gives a temporary file that will become `path` (stale_temporaries knows them)."""
    return path.with_name(f".{path.name}.{token}.{kind}")


def inspect_path(out: Path) -> Path:
    """The Datasette inspect file that sits beside a published database."""
    out = Path(out)
    return out.with_name(out.stem + "-inspect.json")


def next_version(day: str, known: set[str]) -> str:
    """The dataset version for a build on `day` (YYYY-MM-DD): YYYY.MM.DD, then YYYY.MM.DD.2, .3 ..."""
    base = day.replace("-", ".")
    taken = 0
    for version in known:
        if version == base:
            taken = max(taken, 1)
        elif version.startswith(base + ".") and version[len(base) + 1 :].isdigit():
            taken = max(taken, int(version[len(base) + 1 :]))
    return base if taken == 0 else f"{base}.{taken + 1}"


def build_database(
    work_db: str | Path,
    out: str | Path,
    *,
    allow_shrink: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the published file from the working database and move it into place atomically."""
    work, out = Path(work_db), Path(out)
    say = progress or (lambda message: None)
    if not work.is_file():
        raise BuildError(f"No working database at {work}: run `dprk-archive crawl` first, or pass --db.")
    now = now or datetime.now(timezone.utc)
    built_at = now.astimezone(timezone.utc).isoformat(timespec="seconds")
    out.parent.mkdir(parents=True, exist_ok=True)
    releases = release_dir(out)
    releases.mkdir(parents=True, exist_ok=True)

    # Killed builds leave their temporary files behind; they are only known to be dead, and so safe to
    # remove, while this build holds the folder's lock.
    with one_build_at_a_time(out.parent):
        stale = stale_temporaries(out)
        for path in stale:
            _remove(path)
        if stale:
            say(f"removed {len(stale)} temporary files left by an interrupted build")

        previous_counts, previous_builds = read_previous(out)
        if previous_builds:
            restore_missing_release(out, previous_builds[-1]["version"], say)
        version = next_version(built_at[:10], {b["version"] for b in previous_builds} | released_versions(out))

        token = uuid.uuid4().hex[:TOKEN_DIGITS]
        staging = temporary(out, token, "staging")
        tmp = temporary(out, token)
        inspect_tmp = temporary(out, token, "inspect.tmp")
        release = release_path(out, version)
        release_tmp = temporary(release, token)
        sums = releases / "SHA256SUMS"
        sums_tmp = temporary(sums, token)
        temporaries = [staging, tmp, inspect_tmp, release_tmp, sums_tmp]
        published = False
        try:
            say(f"building {version} from {work}")
            populate(staging, work, version, built_at, previous_builds, say)
            say("compacting into a temporary file")
            compact(staging, tmp)
            _remove(staging)
            say("checking")
            counts = verify(tmp, previous_counts, allow_shrink)
            fsync_file(tmp)
            digest, size = sha256_file(tmp)
            write_inspect(tmp, out, inspect_tmp, digest, size, version)
            say("copying the release")
            copy_synced(tmp, release_tmp)
            existing = sums.read_text() if sums.exists() else ""
            write_synced(sums_tmp, existing + f"{digest}  {release.name}\n")
            # Everything that can fail has been done: now publish, the database first.
            replace(tmp, out)
            published = True
            fsync_dir(out.parent)
            replace(release_tmp, release)
            replace(sums_tmp, sums)
            fsync_dir(releases)
            replace(inspect_tmp, inspect_path(out))
            fsync_dir(out.parent)
        except (sqlite3.Error, OSError) as error:
            if published:
                raise BuildError(
                    f"{out.name} {version} was published, but the release copy or inspect file that follow it "
                    f"failed ({error}); build again to write them."
                ) from error
            raise BuildError(f"The build failed ({error}); the previous {out.name} is unchanged.") from error
        finally:
            for path in temporaries:
                _remove(path)
                _remove(Path(str(path) + "-journal"))
        coverage = json.loads(_one(out, "SELECT coverage FROM builds WHERE version = ?", [version]))
        say(f"published {out} ({version}, {size:,} bytes)")
        return BuildResult(out, version, digest, size, built_at, counts, release, inspect_path(out), coverage)


@contextmanager
def one_build_at_a_time(folder: Path) -> Iterator[None]:
    """Hold the lock on the folder of a published file for one build, or refuse if another build holds it."""
    # flock on the folder itself: no lock file to leave beside the published one, and the kernel
    # releases the lock when its holder dies, so a killed build never blocks the next one.
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"Another build is writing in {folder}: wait for it to finish, then build again.") from None
        yield
    finally:
        os.close(fd)


def stale_temporaries(out: Path) -> list[Path]:
    """Temporary files of earlier builds of `out` (in its folder and releases/): those a killed build left."""
    # Only the names build_database gives its own temporaries (and SQLite's journals of them, and
    # write_inspect's .raw), so that nothing else in the folder is ever removed.
    token = r"\.[0-9a-f]{%d}\." % TOKEN_DIGITS
    beside = re.compile(re.escape(f".{out.name}") + token + r"(?:(?:staging|tmp)(?:-journal)?|inspect\.tmp|inspect\.raw)")
    released = re.compile(
        r"\.(?:" + re.escape(out.stem) + r"-\d{4}\.\d{2}\.\d{2}(?:\.\d+)?\.db|SHA256SUMS)" + token + "tmp"
    )
    releases = release_dir(out)
    found = [p for p in out.parent.iterdir() if beside.fullmatch(p.name)]
    if releases.is_dir():
        found += [p for p in releases.iterdir() if released.fullmatch(p.name)]
    return sorted(p for p in found if p.is_file())


def restore_missing_release(out: Path, version: str, say: Callable[[str], None]) -> None:
    """Give the published file its dated copy and SHA256SUMS line if the build that made it stopped first.

    A build killed between moving the new file into place and moving its release copy after it leaves
    a published version that releases/ does not have; the next build writes it from the file itself.
    """
    releases = release_dir(out)
    release = release_path(out, version)
    sums = releases / "SHA256SUMS"
    existing = sums.read_text() if sums.exists() else ""
    listed = any(line.split()[-1:] == [release.name] for line in existing.splitlines())
    if release.exists() and listed:
        return
    token = uuid.uuid4().hex[:TOKEN_DIGITS]
    # The same temporary names as a build's own, so that a kill here is cleaned up like one there.
    release_tmp = temporary(release, token)
    sums_tmp = temporary(sums, token)
    try:
        if not release.exists():
            copy_synced(out, release_tmp)
            replace(release_tmp, release)
        if not listed:
            digest, _ = sha256_file(out)
            write_synced(sums_tmp, existing + f"{digest}  {release.name}\n")
            replace(sums_tmp, sums)
        fsync_dir(releases)
    except OSError as error:
        raise BuildError(f"Could not restore the release copy of {version} in {releases} ({error}).") from error
    finally:
        _remove(release_tmp)
        _remove(sums_tmp)
    say(f"restored {release.name} and its SHA256SUMS line, which an interrupted build did not write")


def read_previous(out: Path) -> tuple[dict[str, int], list[dict]]:
    """Row counts and build history of the file currently published at `out` (empty if none)."""
    if not out.exists():
        return {}, []
    try:
        conn = _connect_ro(out)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counts = {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in MONOTONIC_TABLES if t in tables}
            builds = []
            if "builds" in tables:
                conn.row_factory = sqlite3.Row
                builds = [dict(r) for r in conn.execute("SELECT * FROM builds ORDER BY built_at, version")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BuildError(
            f"The published file {out} cannot be read ({error}): move it aside, or rebuild with --allow-shrink "
            "to replace it without comparing row counts."
        ) from error
    return counts, builds


def released_versions(out: Path) -> set[str]:
    """Versions already named in releases/ (dated copies and SHA256SUMS lines)."""
    releases = release_dir(out)
    pattern = re.compile(re.escape(Path(out).stem) + r"-(\d{4}\.\d{2}\.\d{2}(?:\.\d+)?)\.db$")
    names = [p.name for p in releases.glob("*.db")] if releases.is_dir() else []
    sums = releases / "SHA256SUMS"
    if sums.exists():
        names += [line.split()[-1] for line in sums.read_text().splitlines() if line.strip()]
    return {m.group(1) for m in map(pattern.match, names) if m}


def populate(
    path: Path,
    work: Path,
    version: str,
    built_at: str,
    previous_builds: list[dict],
    say: Callable[[str], None] = lambda message: None,
) -> None:
    """Write the public tables, counts, FTS, indexes, statistics and the builds row into a new file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        # mode=ro: the build must never write the working database, even by accident.
        conn.execute("ATTACH DATABASE ? AS work", [f"file:{work.resolve()}?mode=ro"])
        # One transaction: every table is read from the same snapshot while a crawl may be writing.
        conn.execute("BEGIN")
        for statement in SCHEMA + COPY:
            conn.execute(statement)
        say("full-text index, facet counts, indexes")
        for statement in FULL_TEXT_INDEX:
            conn.execute(statement)
        _precompute_facets(conn)
        for statement in INDEXES:
            conn.execute(statement)
        _insert_build(conn, version, built_at, previous_builds)
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE work")
        conn.execute("ANALYZE")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        conn.close()


def _precompute_facets(conn: sqlite3.Connection) -> None:
    insert = "INSERT INTO facet_counts (filter, filter_value, facet, value, count) "
    for facet in FACET_COLUMNS:
        conn.execute(insert + f"SELECT '', '', '{facet}', {facet}, count(*) FROM articles WHERE {facet} IS NOT NULL GROUP BY {facet}")
        conn.execute(
            insert + f"""SELECT 'region', ar.region, '{facet}', a.{facet}, count(*)
                FROM article_regions ar JOIN articles a ON a.id = ar.article_id
                WHERE a.{facet} IS NOT NULL GROUP BY ar.region, a.{facet}"""
        )
        for column in FILTER_COLUMNS:
            conn.execute(
                insert + f"""SELECT '{column}', CAST({column} AS TEXT), '{facet}', {facet}, count(*) FROM articles
                    WHERE {column} IS NOT NULL AND {facet} IS NOT NULL GROUP BY {column}, {facet}"""
            )
    conn.execute(insert + "SELECT '', '', 'region', region, count(*) FROM article_regions GROUP BY region")
    # Under a region filter the region facet shows which other regions are named alongside it.
    conn.execute(
        insert + """SELECT 'region', a.region, 'region', b.region, count(*)
            FROM article_regions a JOIN article_regions b ON b.article_id = a.article_id
            GROUP BY a.region, b.region"""
    )
    for column in FILTER_COLUMNS:
        conn.execute(
            insert + f"""SELECT '{column}', CAST(a.{column} AS TEXT), 'region', ar.region, count(*)
                FROM article_regions ar JOIN articles a ON a.id = ar.article_id
                WHERE a.{column} IS NOT NULL GROUP BY a.{column}, ar.region"""
        )


def _insert_build(conn: sqlite3.Connection, version: str, built_at: str, previous_builds: list[dict]) -> None:
    columns = ["version", "built_at", "schema_version", "code_version", "data_from", "data_to", "coverage", "row_counts",
               "sample_data"]
    for row in previous_builds:
        conn.execute(
            f"INSERT OR IGNORE INTO builds ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row.get(c) for c in columns],
        )
    coverage = [
        {"outlet": outlet, "first": first, "last": last, "articles": n}
        for outlet, first, last, n in conn.execute(
            "SELECT outlet, min(published), max(published), count(*) FROM articles GROUP BY outlet ORDER BY outlet"
        )
    ]
    data_from, data_to = conn.execute("SELECT min(published), max(published) FROM articles").fetchone()
    conn.execute(
        f"INSERT INTO builds ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [version, built_at, SCHEMA_VERSION, code_version(), data_from, data_to, json.dumps(coverage), "{}",
         int(_crawled_a_mirror(conn))],
    )
    counts = {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in public_tables(conn)}
    conn.execute("UPDATE builds SET row_counts = ? WHERE version = ?", [json.dumps(counts, sort_keys=True), version])


def _crawled_a_mirror(conn: sqlite3.Connection) -> bool:
    """True when any crawl run read a host that is not a real outlet's: the offline mirror's synthetic data."""
    real_hosts = {host for module in (vok, kcnawatch) for host in module.HOSTS}
    hosts = {urlsplit(url).hostname for (url,) in conn.execute("SELECT DISTINCT base_url FROM work.crawl_runs")}
    return bool(hosts - real_hosts)


def public_tables(conn: sqlite3.Connection) -> list[str]:
    """The published tables a visitor sees (FTS shadow tables and SQLite's own left out)."""
    return [
        name
        for (name,) in conn.execute(
            """SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
               AND name NOT LIKE 'articles_fts%' ORDER BY name"""
        )
    ]


def code_version() -> str:
    """The package version, with the git commit when the code runs from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(Path(__file__).parent), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" if commit else __version__


def compact(staging: Path, tmp: Path) -> None:
    """Copy the staging file into its final, defragmented form (rowids kept: they are 1..n in order)."""
    conn = sqlite3.connect(staging, isolation_level=None)
    try:
        conn.execute("VACUUM INTO ?", [str(tmp)])
    finally:
        conn.close()
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        # Opened immutable when served: a WAL file beside it would be ignored, so never WAL.
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def verify(path: Path, previous_counts: dict[str, int], allow_shrink: bool) -> dict[str, int]:
    """Check a freshly built file; returns its row counts or raises BuildError."""
    short = _size_problem(path)
    if short:
        raise BuildError(f"The new file failed its checks: {short}. The previous file is unchanged.")
    try:
        # Read-write only because SQLite refuses FTS5's integrity-check command on a read-only handle;
        # nothing here writes.
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            problems = _problems(conn)
            counts = {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in public_tables(conn)}
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BuildError(f"The new file failed its checks ({error}); the previous file is unchanged.") from error
    if problems:
        raise BuildError("The new file failed its checks: " + "; ".join(problems) + ". The previous file is unchanged.")
    shrunk = [
        f"{table} {before:,} -> {counts.get(table, 0):,}"
        for table, before in sorted(previous_counts.items())
        if counts.get(table, 0) < before
    ]
    if shrunk and not allow_shrink:
        raise BuildError(
            "Refusing to publish: tables shrank since the last build (" + ", ".join(shrunk) + "). "
            "Check that --db points at the right working database, or pass --allow-shrink if this is intended."
        )
    return counts


def _size_problem(path: Path) -> str | None:
    # SQLite reads the missing end of a short file as zeros, so a truncated file can pass integrity_check,
    # or fail it with a message that does not say "truncated"; the header records how long the file is.
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        header = handle.read(100)
    if size == 0:
        return "the file is empty"
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return f"the file is not an SQLite database ({size:,} bytes, no SQLite header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count is only kept up to date when these two counters match (always, for
    # files written by SQLite 3.7 or later, as VACUUM INTO's are).
    header_count_valid = header[24:28] == header[92:96]
    if header_count_valid and size != pages * page_size:
        damage = "truncated" if size < pages * page_size else "longer than its pages"
        return f"the file is {damage}: {size:,} bytes, but its header says {pages:,} pages of {page_size:,} bytes"
    return None


def _problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        problems.append("integrity_check: " + "; ".join(integrity[:5]))
    foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
    if foreign:
        problems.append(f"foreign_key_check: {len(foreign)} rows point nowhere, e.g. {tuple(foreign[0])}")
    try:
        # rank=1 also compares the index with the text it was built from (the articles_full view).
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as error:
        problems.append(f"full-text index: {error}")
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "delete":
        problems.append(f"journal_mode is {mode}, not delete")
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    if user_version != SCHEMA_VERSION:
        problems.append(f"user_version is {user_version}, not {SCHEMA_VERSION}")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    leaked = sorted(tables & set(PRIVATE_TABLES))
    if leaked:
        problems.append("private tables present: " + ", ".join(leaked))
    return problems


def write_inspect(db: Path, out: Path, target: Path, digest: str, size: int, version: str) -> None:
    """Write Datasette's inspect data for `db` as it will be published at `out`."""
    raw = target.with_suffix(".raw")
    try:
        # Datasette's own inspect command, so the format is always the one this Datasette reads.
        subprocess.run(
            [sys.executable, "-m", "datasette", "inspect", str(db), "--inspect-file", str(raw)],
            check=True, capture_output=True, text=True, timeout=3600,
            preexec_fn=functools.partial(_end_with_parent, os.getpid()),
        )
        (data,) = json.loads(raw.read_text()).values()
    except subprocess.CalledProcessError as error:
        raise BuildError(f"`datasette inspect` failed: {error.stderr.strip()}") from error
    finally:
        _remove(raw)
    if data["hash"] != digest or data["size"] != size:
        raise BuildError("`datasette inspect` saw a different file than the one checked; try the build again.")
    # The file is inspected under its temporary name: key it by the name Datasette will use.
    # dataset_version lets `serve` notice an inspect file left stale by an interrupted build.
    data.update(file=str(out), dataset_version=version)
    write_synced(target, json.dumps({out.stem: data}, indent=2))


def _end_with_parent(parent: int) -> None:
    # A build killed while `datasette inspect` runs would leave it running on, writing a file the next
    # build has already cleaned away: on Linux the kernel kills it when the build dies (PR_SET_PDEATHSIG).
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the build died before the line above took effect
            os._exit(1)


def sha256_file(path: Path) -> tuple[str, int]:
    """sha256 hex and size of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def copy_synced(source: Path, target: Path) -> None:
    """Copy a file and fsync the copy."""
    shutil.copyfile(source, target)
    fsync_file(target)


def write_synced(target: Path, text: str) -> None:
    """Write a text file and fsync it."""
    with open(target, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_file(path: Path) -> None:
    """Flush a file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry change (a rename) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(source: Path, target: Path) -> None:
    """Atomically move a finished file into place (one rename; its own function so tests can fail it)."""
    os.replace(source, target)


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)


def _one(path: Path, sql: str, params: list):
    conn = _connect_ro(path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
