"""Re-derive every stored article from its raw pages, without the network: parser fixes need no re-crawl."""

from __future__ import annotations

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


def reparse_database(db: sqlite_utils.Database, progress=None) -> ReparseReport:
    """Parse and enrich every version's raw page again and store what the current code derives."""
    report = ReparseReport()
    rows = list(load.stored_versions(db))
    latest = {}
    for article_id, version, *_ in rows:
        latest[article_id] = max(version, latest.get(article_id, 0))
    for article_id, version, sha, url, content_type in rows:
        report.versions += 1
        if sha is None or url is None:
            report.errors.append(f"{article_id} v{version}: no raw page stored")
            continue
        try:
            record = parse_page(load.page_body(db, sha), url, content_type)
        except ParseError as error:
            report.errors.append(f"{article_id} v{version}: {error}")
            continue
        if not isinstance(record, Article) or record.id != article_id:
            report.errors.append(f"{article_id} v{version}: the stored page no longer parses as this article")
            continue
        changed = load.rederive_version(db, enrich_article(record), version, version == latest[article_id])
        if changed:
            report.changed_versions += 1
            report.fields.update(changed)
        if progress and report.versions % 1000 == 0:
            progress(f"{report.versions} versions re-parsed")
    return report
