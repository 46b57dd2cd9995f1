"""The only code that writes the working database: schema, raw pages, articles and their versions.

Each article's writes (its page, its row, its new version, its regions) happen in one transaction,
so a crash at any moment leaves either the old state or the new one, never half of each.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils
from sqlite_utils import Migrations

from .models import Article, MediaItem
from .text import text_hash

# Two failed checks, at least this far apart, before an item is called removed: one 404 can be a glitch.
REMOVAL_CONFIRMATIONS = 2

migrations = Migrations("dprk_archive.work")


@migrations()
def m001_initial(db: sqlite_utils.Database):
    db.execute(
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            base_url TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            edited INTEGER NOT NULL DEFAULT 0,
            removed INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running'
        )"""
    )
    db.execute(
        """CREATE TABLE page_bodies (
            sha256 TEXT PRIMARY KEY,
            body BLOB NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            final_url TEXT NOT NULL,
            item_id TEXT,
            status INTEGER NOT NULL,
            fetched_at TEXT NOT NULL,
            content_type TEXT,
            etag TEXT,
            last_modified TEXT,
            encoding TEXT,
            encoding_decided_by TEXT,
            sha256 TEXT REFERENCES page_bodies(sha256),
            size INTEGER,
            run_id INTEGER REFERENCES crawl_runs(id)
        )"""
    )
    db.execute("CREATE INDEX pages_item_id ON pages(item_id, id)")
    db.execute(
        """CREATE TABLE regions (
            name TEXT PRIMARY KEY,
            iso_code TEXT NOT NULL,
            latitude REAL NOT NULL,
            longitude REAL NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE articles (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            family TEXT,
            category TEXT,
            title TEXT NOT NULL,
            subtitle TEXT,
            published TEXT,
            published_raw TEXT,
            body TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            regions TEXT NOT NULL DEFAULT '[]',
            places TEXT NOT NULL DEFAULT '[]',
            extraction TEXT,
            via TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_checked TEXT NOT NULL,
            last_changed TEXT NOT NULL,
            version_count INTEGER NOT NULL DEFAULT 1,
            missing_since TEXT,
            missing_checks INTEGER NOT NULL DEFAULT 0,
            removed_at TEXT
        )"""
    )
    db.execute("CREATE INDEX articles_last_checked ON articles(last_checked)")
    db.execute(
        """CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id TEXT NOT NULL REFERENCES articles(id),
            version INTEGER NOT NULL,
            text_hash TEXT NOT NULL,
            title TEXT NOT NULL,
            subtitle TEXT,
            published TEXT,
            published_raw TEXT,
            body TEXT NOT NULL,
            seen_first TEXT NOT NULL,
            seen_last TEXT NOT NULL,
            page_sha256 TEXT REFERENCES page_bodies(sha256),
            UNIQUE (article_id, version)
        )"""
    )
    db.execute(
        """CREATE TABLE article_regions (
            article_id TEXT NOT NULL REFERENCES articles(id),
            region TEXT NOT NULL REFERENCES regions(name),
            PRIMARY KEY (article_id, region)
        )"""
    )
    db.execute("CREATE INDEX article_regions_region ON article_regions(region)")
    db.execute(
        """CREATE TABLE article_places (
            article_id TEXT NOT NULL REFERENCES articles(id),
            place TEXT NOT NULL,
            region TEXT NOT NULL REFERENCES regions(name),
            PRIMARY KEY (article_id, place)
        )"""
    )
    db.execute(
        """CREATE TABLE media (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT,
            published TEXT,
            published_raw TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_checked TEXT NOT NULL,
            missing_since TEXT,
            missing_checks INTEGER NOT NULL DEFAULT 0,
            removed_at TEXT
        )"""
    )
    db.execute("CREATE INDEX media_last_checked ON media(last_checked)")
    db.execute(
        """CREATE TABLE fetch_errors (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES crawl_runs(id),
            url TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            stage TEXT NOT NULL,
            error TEXT NOT NULL,
            recovered INTEGER NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE retry_queue (
            url TEXT PRIMARY KEY,
            first_failed_run INTEGER REFERENCES crawl_runs(id),
            last_error TEXT NOT NULL
        )"""
    )


def now_utc() -> str:
    """The current time as the ISO-8601 UTC text stored everywhere in the database."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_working_db(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) the working database and bring its schema up to date."""
    db = sqlite_utils.Database(path)
    # WAL keeps readers (build, datasette on the working DB) off the crawler's back; synchronous=NORMAL
    # in WAL mode still survives a killed process, which is the crash that matters here.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    _ensure_regions(db)
    return db


def _ensure_regions(db: sqlite_utils.Database) -> None:
    from .enrich import load_regions

    rows = [
        {"name": r["name"], "iso_code": r["iso_code"], "latitude": r["latitude"], "longitude": r["longitude"]}
        for r in load_regions()
    ]
    with db.atomic():
        db["regions"].upsert_all(rows, pk="name")


def start_run(db: sqlite_utils.Database, base_url: str) -> int:
    """Record the start of a crawl run and return its id."""
    with db.atomic():
        cursor = db.execute("INSERT INTO crawl_runs (started_at, base_url) VALUES (?, ?)", [now_utc(), base_url])
    return cursor.lastrowid


def finish_run(db: sqlite_utils.Database, run_id: int, summary: dict, status: str) -> None:
    """Store a run's summary counts and final status."""
    with db.atomic():
        db["crawl_runs"].update(run_id, {**summary, "finished_at": now_utc(), "status": status})


@dataclass
class PageRecord:
    """The facts of one HTTP response to keep, with its raw body."""

    url: str
    final_url: str
    status: int
    fetched_at: str
    body: bytes | None
    item_id: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    encoding: str | None = None
    encoding_decided_by: str | None = None


def _insert_page(db: sqlite_utils.Database, page: PageRecord, run_id: int | None) -> str | None:
    sha = None
    if page.body is not None:
        sha = hashlib.sha256(page.body).hexdigest()
        # Identical bodies (an unchanged page fetched again) are stored once.
        db.execute(
            "INSERT OR IGNORE INTO page_bodies (sha256, body) VALUES (?, ?)",
            [sha, zlib.compress(page.body, 6)],
        )
    db.execute(
        """INSERT INTO pages (url, final_url, item_id, status, fetched_at, content_type, etag, last_modified,
               encoding, encoding_decided_by, sha256, size, run_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            page.url,
            page.final_url,
            page.item_id,
            page.status,
            page.fetched_at,
            page.content_type,
            page.etag,
            page.last_modified,
            page.encoding,
            page.encoding_decided_by,
            sha,
            None if page.body is None else len(page.body),
            run_id,
        ],
    )
    return sha


def save_page(db: sqlite_utils.Database, page: PageRecord, run_id: int | None) -> str | None:
    """Keep one raw response on its own (listings, errors); returns the body's sha256."""
    with db.atomic():
        return _insert_page(db, page, run_id)


def page_body(db: sqlite_utils.Database, sha256: str) -> bytes:
    """The raw bytes of a stored page body."""
    return inflate_page_body(compressed_page_body(db, sha256))


def compressed_page_body(db: sqlite_utils.Database, sha256: str) -> bytes:
    """A stored page body as stored (zlib): for workers that inflate it themselves (reparse)."""
    row = db.execute("SELECT body FROM page_bodies WHERE sha256 = ?", [sha256]).fetchone()
    if row is None:
        raise KeyError(sha256)
    return row[0]


def inflate_page_body(stored: bytes) -> bytes:
    return zlib.decompress(stored)


def save_article(db: sqlite_utils.Database, article: Article, page: PageRecord, run_id: int | None) -> str:
    """Store a fetched article and its raw page; a new version only when the canonical text changed.

    Returns "new", "edited", "unchanged" or "restored" (seen again after being marked removed).
    """
    digest = text_hash(article.title, article.subtitle, article.body)
    seen = page.fetched_at
    with db.atomic():
        sha = _insert_page(db, page, run_id)
        row = db.execute(
            "SELECT text_hash, version_count, removed_at FROM articles WHERE id = ?", [article.id]
        ).fetchone()
        fields = _article_fields(article, digest)
        if row is None:
            db.execute(
                f"""INSERT INTO articles ({', '.join(fields)}, first_seen, last_seen, last_checked, last_changed,
                        version_count)
                    VALUES ({', '.join('?' * len(fields))}, ?, ?, ?, ?, 1)""",
                [*fields.values(), seen, seen, seen, seen],
            )
            _insert_version(db, article, digest, 1, seen, sha)
            _replace_regions(db, article)
            return "new"
        old_hash, version_count, removed_at = row
        if old_hash == digest:
            # Cosmetic changes only: the stored text stays as first seen, the sighting is recorded.
            db.execute(
                """UPDATE articles SET last_seen = ?, last_checked = ?, missing_since = NULL, missing_checks = 0,
                       removed_at = NULL WHERE id = ?""",
                [seen, seen, article.id],
            )
            db.execute(
                "UPDATE article_versions SET seen_last = ? WHERE article_id = ? AND version = ?",
                [seen, article.id, version_count],
            )
            return "restored" if removed_at else "unchanged"
        version = version_count + 1
        assignments = ", ".join(f"{name} = ?" for name in fields)
        db.execute(
            f"""UPDATE articles SET {assignments}, last_seen = ?, last_checked = ?, last_changed = ?,
                    version_count = ?, missing_since = NULL, missing_checks = 0, removed_at = NULL
                WHERE id = ?""",
            [*fields.values(), seen, seen, seen, version, article.id],
        )
        _insert_version(db, article, digest, version, seen, sha)
        _replace_regions(db, article)
        return "edited"


def _article_fields(article: Article, digest: str) -> dict:
    return {
        "id": article.id,
        "source": article.source,
        "url": article.url,
        "family": article.family,
        "category": article.category,
        "title": article.title,
        "subtitle": article.subtitle,
        "published": article.published,
        "published_raw": article.published_raw,
        "body": article.body,
        "text_hash": digest,
        "regions": json.dumps(article.regions, ensure_ascii=False),
        "places": json.dumps(article.places, ensure_ascii=False),
        "extraction": article.extraction,
        "via": article.via,
    }


def _insert_version(db, article: Article, digest: str, version: int, seen: str, sha: str | None) -> None:
    db.execute(
        """INSERT INTO article_versions (article_id, version, text_hash, title, subtitle, published, published_raw,
               body, seen_first, seen_last, page_sha256)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            article.id,
            version,
            digest,
            article.title,
            article.subtitle,
            article.published,
            article.published_raw,
            article.body,
            seen,
            seen,
            sha,
        ],
    )


def _replace_regions(db, article: Article) -> None:
    from .enrich import place_region

    db.execute("DELETE FROM article_regions WHERE article_id = ?", [article.id])
    db.execute("DELETE FROM article_places WHERE article_id = ?", [article.id])
    db.conn.executemany(
        "INSERT INTO article_regions (article_id, region) VALUES (?, ?)",
        [(article.id, region) for region in article.regions],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO article_places (article_id, place, region) VALUES (?, ?, ?)",
        [(article.id, place, place_region(place)) for place in article.places],
    )


def save_media(db: sqlite_utils.Database, item: MediaItem, page: PageRecord, run_id: int | None) -> str:
    """Store a video or audio item and its raw page; returns "new", "unchanged" or "restored"."""
    seen = page.fetched_at
    with db.atomic():
        _insert_page(db, page, run_id)
        row = db.execute("SELECT removed_at FROM media WHERE id = ?", [item.id]).fetchone()
        if row is None:
            db.execute(
                """INSERT INTO media (id, source, url, kind, title, published, published_raw, first_seen, last_seen,
                       last_checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [item.id, item.source, item.url, item.kind, item.title, item.published, item.published_raw,
                 seen, seen, seen],
            )
            return "new"
        db.execute(
            """UPDATE media SET title = ?, published = ?, published_raw = ?, last_seen = ?, last_checked = ?,
                   missing_since = NULL, missing_checks = 0, removed_at = NULL WHERE id = ?""",
            [item.title, item.published, item.published_raw, seen, seen, item.id],
        )
        return "restored" if row[0] else "unchanged"


def table_for_item(db: sqlite_utils.Database, item_id: str) -> str | None:
    """Which table ("articles" or "media") holds an item, or None if it is not known yet."""
    for table in ("articles", "media"):
        if db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [item_id]).fetchone():
            return table
    return None


def record_not_modified(db: sqlite_utils.Database, item_id: str, page: PageRecord, run_id: int | None) -> None:
    """A 304: the item is still there and unchanged."""
    table = table_for_item(db, item_id)
    with db.atomic():
        _insert_page(db, page, run_id)
        if table:
            db.execute(
                f"""UPDATE {table} SET last_seen = ?, last_checked = ?, missing_since = NULL, missing_checks = 0,
                        removed_at = NULL WHERE id = ?""",
                [page.fetched_at, page.fetched_at, item_id],
            )
            if table == "articles":
                db.execute(
                    """UPDATE article_versions SET seen_last = ? WHERE article_id = ?
                       AND version = (SELECT version_count FROM articles WHERE id = ?)""",
                    [page.fetched_at, item_id, item_id],
                )


def record_missing(db: sqlite_utils.Database, item_id: str, page: PageRecord, run_id: int | None) -> str | None:
    """A 404 or 410 for a known item: counts towards removal, which needs REMOVAL_CONFIRMATIONS checks.

    Returns "removed" when this check confirmed the removal, "missing" when it is pending, None if unknown.
    """
    table = table_for_item(db, item_id)
    with db.atomic():
        _insert_page(db, page, run_id)
        if table is None:
            return None
        missing_checks, removed_at = db.execute(
            f"SELECT missing_checks, removed_at FROM {table} WHERE id = ?", [item_id]
        ).fetchone()
        if removed_at:
            db.execute(f"UPDATE {table} SET last_checked = ? WHERE id = ?", [page.fetched_at, item_id])
            return "missing"
        checks = missing_checks + 1
        removed = page.fetched_at if checks >= REMOVAL_CONFIRMATIONS else None
        db.execute(
            f"""UPDATE {table} SET last_checked = ?, missing_since = COALESCE(missing_since, ?), missing_checks = ?,
                    removed_at = ? WHERE id = ?""",
            [page.fetched_at, page.fetched_at, checks, removed, item_id],
        )
        return "removed" if removed else "missing"


def record_fetch_error(
    db: sqlite_utils.Database, run_id: int | None, url: str, attempt: int, stage: str, error: str, recovered: bool
) -> None:
    """One failed attempt (fetch, parse or load), kept even when a retry later recovered it."""
    with db.atomic():
        db.execute(
            """INSERT INTO fetch_errors (run_id, url, attempt, stage, error, recovered, at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [run_id, url, attempt, stage, error, int(recovered), now_utc()],
        )


def queue_retry(db: sqlite_utils.Database, url: str, run_id: int | None, error: str) -> None:
    """Remember a URL that finally failed so the next run tries it again, however early its walk stops."""
    with db.atomic():
        db.execute(
            """INSERT INTO retry_queue (url, first_failed_run, last_error) VALUES (?, ?, ?)
               ON CONFLICT(url) DO UPDATE SET last_error = excluded.last_error""",
            [url, run_id, error],
        )


def dequeue_retry(db: sqlite_utils.Database, url: str) -> None:
    """Forget a queued URL once it has been fetched and stored."""
    with db.atomic():
        db.execute("DELETE FROM retry_queue WHERE url = ?", [url])


def stored_versions(db: sqlite_utils.Database):
    """Every article version with the sha256 of the raw page it was parsed from, in article order."""
    # pages.sha256 has no index: a per-version subquery scanned every page, quadratic in the archive's size.
    return db.execute(
        """SELECT v.article_id, v.version, v.page_sha256, p.url, p.content_type
           FROM article_versions v
           LEFT JOIN (SELECT sha256, max(id) AS id FROM pages WHERE sha256 IS NOT NULL GROUP BY sha256) last
               ON last.sha256 = v.page_sha256
           LEFT JOIN pages p ON p.id = last.id
           ORDER BY v.article_id, v.version"""
    )


def rederive_version(db: sqlite_utils.Database, article: Article, version: int, is_latest: bool) -> list[str]:
    """Replace one version's derived fields with a fresh parse of its raw page; returns the fields that changed."""
    digest = text_hash(article.title, article.subtitle, article.body)
    new = {
        "title": article.title,
        "subtitle": article.subtitle,
        "published": article.published,
        "published_raw": article.published_raw,
        "body": article.body,
        "text_hash": digest,
    }
    with db.atomic():
        old = db.execute(
            f"SELECT {', '.join(new)} FROM article_versions WHERE article_id = ? AND version = ?",
            [article.id, version],
        ).fetchone()
        changed = [name for name, before in zip(new, old) if before != new[name]]
        if changed:
            db.execute(
                f"UPDATE article_versions SET {', '.join(f'{k} = ?' for k in new)} WHERE article_id = ? AND version = ?",
                [*new.values(), article.id, version],
            )
        if is_latest:
            fields = _article_fields(article, digest)
            current = db.execute(
                f"SELECT {', '.join(fields)} FROM articles WHERE id = ?", [article.id]
            ).fetchone()
            changed += [name for name, before in zip(fields, current) if before != fields[name] and name not in new]
            db.execute(
                f"UPDATE articles SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                [*fields.values(), article.id],
            )
            _replace_regions(db, article)
    return changed
