"""Re-derive every stored article from its raw pages, without the network: parser fixes need no re-crawl."""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field

import sqlite_utils

from . import load
from .enrich import enrich_article
from .models import Article
from .parse import ParseError, parse_page


@dataclass
class ReparseReport:
    """What a reparse changed: versions re-read, versions changed, which fields, and pages that failed."""

    versions: int = 0
    changed_versions: int = 0
    fields: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        fields = ", ".join(f"{name} {count}" for name, count in self.fields.most_common()) or "none"
        return (
            f"{self.versions} versions re-parsed, {self.changed_versions} changed (fields: {fields}), "
            f"{len(self.errors)} errors"
        )


BATCH = 1000  # versions per transaction (each version keeps its own savepoint inside it)


def _parse_stored(task: tuple) -> tuple:
    """Parse and enrich one raw page (in a worker process): (article id, version, Article or error text)."""
    article_id, version, stored_body, url, content_type = task
    try:
        record = parse_page(load.inflate_page_body(stored_body), url, content_type)
    except ParseError as error:
        return article_id, version, f"{article_id} v{version}: {error}"
    if not isinstance(record, Article) or record.id != article_id:
        return article_id, version, f"{article_id} v{version}: the stored page no longer parses as this article"
    return article_id, version, enrich_article(record)


def reparse_database(db: sqlite_utils.Database, progress=None, workers: int | None = None) -> ReparseReport:
    """Parse and enrich every version's raw page again and store what the current code derives."""
    report = ReparseReport()
    rows = list(load.stored_versions(db))
    latest = {}
    for article_id, version, *_ in rows:
        latest[article_id] = max(version, latest.get(article_id, 0))

    def tasks(batch):
        # The raw bodies are read here, in the thread that owns the connection, and sent still compressed:
        # inflating them here and pickling 4x the bytes took the writer's CPU, which the workers share.
        return [
            (article_id, version, None if sha is None or url is None else load.compressed_page_body(db, sha), url,
             content_type)
            for article_id, version, sha, url, content_type in batch
        ]

    # Parsing is most of the work and needs no database: it runs in worker processes while this one
    # writes the previous batch (docs/benchmarks.md).
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 and len(rows) >= 2 * BATCH else None
    batches = [rows[start : start + BATCH] for start in range(0, len(rows), BATCH)]

    def submit(batch):
        if pool:
            return pool.map_async(_parse_stored_or_missing, tasks(batch), chunksize=32)
        return list(map(_parse_stored_or_missing, tasks(batch)))

    try:
        pending = submit(batches[0]) if batches else None
        for number in range(len(batches)):
            results = pending.get() if pool else pending
            pending = submit(batches[number + 1]) if number + 1 < len(batches) else None
            with db.atomic():
                for article_id, version, record in results:
                    report.versions += 1
                    if isinstance(record, str):
                        report.errors.append(record)
                    else:
                        changed = load.rederive_version(db, record, version, version == latest[article_id])
                        if changed:
                            report.changed_versions += 1
                            report.fields.update(changed)
                    if progress and report.versions % 1000 == 0:
                        progress(f"{report.versions} versions re-parsed")
    finally:
        if pool:
            pool.terminate()
            pool.join()
    return report


def _parse_stored_or_missing(task: tuple) -> tuple:
    article_id, version, body, *_ = task
    if body is None:
        return article_id, version, f"{article_id} v{version}: no raw page stored"
    return _parse_stored(task)
