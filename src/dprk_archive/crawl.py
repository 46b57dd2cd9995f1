"""One crawl run: walk the listings newest first, fetch what is new, recheck what is old, confirm removals.

This module decides what to fetch and in which order; `fetch` does the HTTP, `parse` and `enrich` turn
bytes into records, and `load` writes them. A failure on one page is recorded and the run goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import sqlite_utils

from . import load
from .encoding import decode_page
from .enrich import enrich_article
from .fetch import FetchFailed, FetchResult, PoliteClient
from .models import Article, ListingEntry
from .parse import ParseError, parse_listing, parse_page
from .sources import classify_url, vok

# A listing walk stops after this many items in a row that are already in the archive: listings are
# newest first, so what follows is older and already known.
STOP_AFTER_KNOWN = 5
# A run whose share of failed item fetches passes this is reported as failed (non-zero exit).
ERROR_RATE_THRESHOLD = 0.5
# Cheap servers send stale ETags: an item not fetched in full for this many runs is fetched unconditionally.
UNCONDITIONAL_EVERY_DAYS = 7
# The retry_queue entry of a listing page whose walk has not finished. Each listing is queued before its
# walk starts, and the queue entry moves on page by page with the walk; a run that is killed, runs out of
# --max-requests or fails on a page leaves the page to resume from. Without it the next run's walk,
# starting again at page 1, stopped at the first known items, above the pages never walked: those
# articles were never fetched by any later run.
WALK_UNFINISHED = "listing walk not finished"


def _is_listing_page(url: str) -> bool:
    info = classify_url(url)
    return info is not None and info.family == "listing"


class StopCrawl(Exception):
    """The request budget (--max-requests) is spent."""


@dataclass
class RunSummary:
    """What a run did, as stored in `crawl_runs` and printed at the end."""

    run_id: int
    requests: int = 0
    counts: Counter = field(default_factory=Counter)  # new, edited, unchanged, restored, removed, missing, errors
    items_attempted: int = 0
    items_failed: int = 0
    listings_failed: int = 0
    listings_fetched: int = 0

    @property
    def failed(self) -> bool:
        """True when nothing could be fetched or too many items failed: the CLI exits non-zero."""
        if self.listings_fetched == 0:
            return True
        return self.items_attempted > 0 and self.items_failed / self.items_attempted > ERROR_RATE_THRESHOLD

    def as_row(self) -> dict:
        return {
            "requests": self.requests,
            "new": self.counts["new"],
            "edited": self.counts["edited"],
            "removed": self.counts["removed"],
            "unchanged": self.counts["unchanged"] + self.counts["restored"],
            "errors": self.counts["errors"],
        }

    def line(self) -> str:
        row = self.as_row()
        return (
            f"run {self.run_id}: {row['requests']} requests, {row['new']} new, {row['edited']} edited, "
            f"{row['removed']} removed, {row['unchanged']} unchanged, {self.counts['media']} media, "
            f"{row['errors']} errors"
        )


class Crawler:
    """Crawls one outlet into the working database through one polite client."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        client: PoliteClient,
        base_url: str = vok.DEFAULT_BASE_URL,
        *,
        walk_all: bool = False,
        recheck: int = 0,
        max_requests: int | None = None,
        progress: Callable[[str], None] | None = None,
    ):
        self.db = db
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.walk_all = walk_all
        self.recheck = recheck
        self.max_requests = max_requests
        self.progress = progress or (lambda message: None)
        self.visited: set[str] = set()  # item ids handled in this run
        self.missing_this_run: list[tuple[str, str]] = []  # (id, url) answered 404/410 in this run
        self.summary: RunSummary | None = None

    def run(self) -> RunSummary:
        """Crawl once: listings, queued retries, rechecks, removal confirmations; return the summary."""
        run_id = load.start_run(self.db, self.base_url)
        self.summary = RunSummary(run_id)
        status = "failed"
        try:
            self._walk_listings()
            self._retry_queued()
            self._recheck_known()
            self._confirm_missing()
        except StopCrawl:
            self.progress("request budget spent; stopping")
        finally:
            self.summary.requests = self.client.requests
            status = "failed" if self.summary.failed else "ok"
            load.finish_run(self.db, run_id, self.summary.as_row(), status)
        return self.summary

    # -- what to fetch ------------------------------------------------------------------------------

    def _walk_listings(self) -> None:
        unfinished = [url for (url,) in self.db.execute("SELECT url FROM retry_queue ORDER BY rowid")
                      if _is_listing_page(url)]
        home = f"{self.base_url}{vok.HOME_PATH}"
        home_page = self._fetch_listing(home)
        listing_urls = [self._local_listing_url(url) for url in home_page.listing_urls] if home_page else []
        for listing_url in listing_urls:
            if listing_url not in unfinished:
                load.queue_retry(self.db, listing_url, self.summary.run_id, WALK_UNFINISHED)
        if home_page is not None:
            self._walk_entries(home_page.entries)
        for listing_url in listing_urls:
            self._walk_listing(listing_url, resume=listing_url in unfinished)
        for listing_url in unfinished:
            if listing_url not in listing_urls:
                self._walk_listing(listing_url, resume=True)

    def _walk_listing(self, url: str, resume: bool = False) -> None:
        """Walk a listing from ``url`` until known items (or its end); ``resume``: a walk an earlier run left."""
        pages_seen: set[str] = set()
        while url and url not in pages_seen:
            pages_seen.add(url)
            page = self._fetch_listing(url)
            if page is None:
                return  # still queued: the next run resumes here
            # The first page of a resumed walk holds items the interrupted run stored: not a place to stop.
            go_on = self._walk_entries(page.entries, stop_at_known=not (resume and len(pages_seen) == 1))
            next_url = self._local_listing_url(page.next_url) if page.next_url else None
            if go_on and next_url and next_url not in pages_seen:
                load.queue_retry(self.db, next_url, self.summary.run_id, WALK_UNFINISHED)
            load.dequeue_retry(self.db, url)
            if not go_on:
                return
            url = next_url

    def _walk_entries(self, entries: list[ListingEntry], stop_at_known: bool = True) -> bool:
        """Handle a page of entries; False when the walk should stop (enough known items in a row)."""
        known_in_a_row = 0
        for entry in entries:
            if entry.id in self.visited:
                continue
            if not self.walk_all and self._is_known(entry.id):
                known_in_a_row += 1
                if stop_at_known and known_in_a_row >= STOP_AFTER_KNOWN:
                    return False
                continue
            known_in_a_row = 0
            self._fetch_item(self._local_url(entry.url))
        return True

    def _is_known(self, item_id: str) -> bool:
        row = self.db.execute(
            """SELECT 1 FROM articles WHERE id = :id AND removed_at IS NULL
               UNION ALL SELECT 1 FROM media WHERE id = :id AND removed_at IS NULL""",
            {"id": item_id},
        ).fetchone()
        return row is not None

    def _retry_queued(self) -> None:
        for (url,) in self.db.execute("SELECT url FROM retry_queue ORDER BY rowid").fetchall():
            info = classify_url(url)
            if info is None or info.family == "home":
                load.dequeue_retry(self.db, url)  # the home page is fetched by every run anyway
                continue
            if info.is_listing:
                continue  # resumed by _walk_listings, which walks on from the page instead of only fetching it
            if info.id in self.visited:
                # Handled in this run already: stored (and dequeued), or failed and queued just now for the
                # next run. Dequeuing it here lost every item that failed in the run.
                continue
            self._fetch_item(url)

    def _recheck_known(self) -> None:
        """Revisit the least recently checked known items, including ones pending removal."""
        if self.recheck <= 0:
            return
        rows = self.db.execute(
            """SELECT id, url, last_checked FROM articles WHERE removed_at IS NULL
               UNION ALL SELECT id, url, last_checked FROM media WHERE removed_at IS NULL
               ORDER BY last_checked LIMIT ?""",
            [self.recheck + len(self.visited)],
        ).fetchall()
        done = 0
        for item_id, url, _ in rows:
            if done >= self.recheck:
                break
            if item_id in self.visited:
                continue
            done += 1
            self._fetch_item(self._local_url(url))

    def _confirm_missing(self) -> None:
        """Check again every item that answered 404/410 once: only a second answer confirms a removal."""
        pending = self.db.execute(
            """SELECT id, url FROM articles WHERE missing_since IS NOT NULL AND removed_at IS NULL
               UNION ALL SELECT id, url FROM media WHERE missing_since IS NOT NULL AND removed_at IS NULL"""
        ).fetchall()
        for item_id, url in pending:
            self.visited.discard(item_id)
            self._fetch_item(self._local_url(url), conditional=False)

    def _local_url(self, url: str) -> str:
        """One spelling per item, on the base URL this run was given, whatever host or form a link used."""
        info = classify_url(url)
        return vok.canonical_url(info, self.base_url) if info and info.id else url

    def _local_listing_url(self, url: str) -> str:
        """A listing page on the base URL this run was given (links use the www. twin too): one queue entry each."""
        parts = urlsplit(url)
        return f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    # -- fetching and storing -----------------------------------------------------------------------

    def _request(self, url: str, **conditional) -> FetchResult:
        if self.max_requests is not None and self.client.requests >= self.max_requests:
            raise StopCrawl()
        return self.client.fetch(url, **conditional)

    def _record_failed_attempts(self, url: str, failures: list[str], recovered: bool, stage: str = "fetch"):
        for attempt, error in enumerate(failures, start=1):
            load.record_fetch_error(self.db, self.summary.run_id, url, attempt, stage, error, recovered)
        if not recovered:
            self.summary.counts["errors"] += 1

    def _fetch_listing(self, url: str):
        try:
            result = self._request(url)
        except FetchFailed as failure:
            self._record_failed_attempts(url, failure.attempts, recovered=False)
            # Queued so that the next run resumes the walk here (the home page is fetched every run).
            if _is_listing_page(url):
                load.queue_retry(self.db, url, self.summary.run_id, failure.attempts[-1])
            self.summary.listings_failed += 1
            return None
        self._record_failed_attempts(url, result.failed_attempts, recovered=True)
        decoded = decode_page(result.body, result.content_type)
        load.save_page(self.db, self._page_record(result, None, decoded.encoding, decoded.decided_by), self.summary.run_id)
        if result.status != 200:
            self._fail(url, "listing", f"HTTP {result.status}")
            self.summary.listings_failed += 1
            return None
        if urlsplit(result.final_url).path.rstrip("/") != urlsplit(url).path.rstrip("/"):
            # A listing page redirected elsewhere (to the home page) is a soft 404: walking the page it
            # landed on ended the walk there, silently, and the listing's older pages were never reached.
            self._fail(url, "listing", f"redirected to {result.final_url} (soft 404)")
            self.summary.listings_failed += 1
            return None
        try:
            page = parse_listing(result.body, result.final_url, result.content_type)
        except ParseError as error:
            self._fail(url, "parse", str(error))
            self.summary.listings_failed += 1
            return None
        self.summary.listings_fetched += 1
        return page

    def _fail(self, url: str, stage: str, error: str) -> None:
        load.record_fetch_error(self.db, self.summary.run_id, url, 1, stage, error, False)
        load.queue_retry(self.db, url, self.summary.run_id, error)
        self.summary.counts["errors"] += 1

    def _conditional_headers(self, item_id: str) -> dict:
        if load.table_for_item(self.db, item_id) is None:
            # Nothing stored to be "not modified" from (see _unstored_page; databases written before it
            # still hold validators of pages that were never stored).
            return {}
        row = self.db.execute(
            """SELECT etag, last_modified, fetched_at >= strftime('%Y-%m-%dT%H:%M:%S', 'now', ?) FROM pages
               WHERE item_id = ? AND status = 200 ORDER BY id DESC LIMIT 1""",
            [f"-{UNCONDITIONAL_EVERY_DAYS} days", item_id],
        ).fetchone()
        if row is None or not row[2]:
            return {}
        return {"etag": row[0], "last_modified": row[1]}

    def _fetch_item(self, url: str, conditional: bool = True) -> None:
        info = classify_url(url)
        if info is None or info.id is None:
            return
        self.visited.add(info.id)
        self.summary.items_attempted += 1
        headers = self._conditional_headers(info.id) if conditional else {}
        try:
            result = self._request(url, **headers)
        except FetchFailed as failure:
            # 5xx, timeouts and resets say nothing about whether the article still exists.
            self._record_failed_attempts(url, failure.attempts, recovered=False)
            load.queue_retry(self.db, url, self.summary.run_id, failure.attempts[-1])
            self.summary.items_failed += 1
            return
        self._record_failed_attempts(url, result.failed_attempts, recovered=True)
        try:
            self._store_item(url, info, result)
        except Exception as error:  # noqa: BLE001 - one bad page must never stop a run
            self._fail(url, "load", f"{type(error).__name__}: {error}")
            self.summary.items_failed += 1

    def _store_item(self, url: str, info, result: FetchResult) -> None:
        run_id = self.summary.run_id
        if result.status == 304:
            load.record_not_modified(self.db, info.id, self._page_record(result, info.id), run_id)
            self.summary.counts["unchanged"] += 1
            load.dequeue_retry(self.db, url)
            return
        if result.status in (404, 410):
            outcome = load.record_missing(self.db, info.id, self._page_record(result, info.id), run_id)
            if outcome:
                self.summary.counts[outcome] += 1
                load.dequeue_retry(self.db, url)
                return
            # Listed on the site but never stored: a glitch, or gone before we came. Such a URL used to be
            # dropped without a trace; now it is an error, tried again next run, and given up on only after
            # a second 404 (as removals need two).
            error = f"HTTP {result.status} for an item not in the archive yet"
            if self.db.execute("SELECT 1 FROM retry_queue WHERE url = ?", [url]).fetchone():
                load.dequeue_retry(self.db, url)
                load.record_fetch_error(self.db, run_id, url, 1, "fetch", f"{error} (second answer: given up)", False)
                self.summary.counts["errors"] += 1
            else:
                self._fail(url, "fetch", error)
            self.summary.items_failed += 1
            return
        if result.status != 200:
            load.save_page(self.db, self._unstored_page(result, info.id), run_id)
            self._fail(url, "fetch", f"HTTP {result.status}")
            self.summary.items_failed += 1
            return
        final = classify_url(result.final_url)
        if final is None or final.id != info.id:
            # A redirect to the home page is the site's way of saying "not found" with a 200: a soft 404,
            # which is not evidence of removal either.
            load.save_page(self.db, self._unstored_page(result, info.id), run_id)
            self._fail(url, "fetch", f"redirected to {result.final_url} (soft 404)")
            self.summary.items_failed += 1
            return
        try:
            record = parse_page(result.body, url, result.content_type)
        except ParseError as error:
            decoded = decode_page(result.body, result.content_type)
            page = self._unstored_page(result, info.id, decoded.encoding, decoded.decided_by)
            load.save_page(self.db, page, run_id)
            self._fail(url, "parse", str(error))
            self.summary.items_failed += 1
            return
        page = self._page_record(result, info.id, record.encoding, record.encoding_decided_by)
        if isinstance(record, Article):
            outcome = load.save_article(self.db, enrich_article(record), page, run_id)
        else:
            outcome = load.save_media(self.db, record, page, run_id)
            if outcome == "new":
                self.summary.counts["media"] += 1
                outcome = "media_new"
        self.summary.counts[outcome] += 1
        load.dequeue_retry(self.db, url)
        total = sum(self.summary.counts[k] for k in ("new", "edited", "unchanged", "media_new"))
        if total % 50 == 0:
            self.progress(f"{self.client.requests} requests, {self.summary.counts['new']} new articles")

    def _unstored_page(self, result: FetchResult, item_id, encoding=None, decided_by=None) -> load.PageRecord:
        """The record of a page that did not become a record: without its ETag and Last-Modified.

        _conditional_headers sends the validators of the item's latest 200 page. A broken page (cut short,
        body missing) came with the validators of the good one, so the next run was answered 304 and the
        item, never stored, was counted unchanged and dropped from the retry queue.
        """
        page = self._page_record(result, item_id, encoding, decided_by)
        page.etag = page.last_modified = None
        return page

    def _page_record(self, result: FetchResult, item_id, encoding=None, decided_by=None) -> load.PageRecord:
        return load.PageRecord(
            url=result.url,
            final_url=result.final_url,
            status=result.status,
            fetched_at=result.fetched_at,
            body=result.body if result.status == 200 else None,
            item_id=item_id,
            content_type=result.content_type,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
            encoding=encoding,
            encoding_decided_by=decided_by,
        )

