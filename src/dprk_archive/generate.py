"""A working database of any size without the network: the offline mirror's pages, stored as a crawl stores them.

Every item the mirror has on day 0 is rendered by the mirror's own renderer, parsed by parse.parse_page,
enriched, and written through load.save_article / load.save_media, with its raw page, exactly as
`dprk-archive crawl --all` would store it from the mirror (as http://vok.rep.kp). Rendering and parsing
run in worker processes; the writes are grouped into one transaction per batch (each article keeps its
own savepoint), so that 300,000 articles take minutes, not hours. The result is what `reparse`, `build`
and `serve` are timed on (scripts/bench).
"""

from __future__ import annotations

import calendar
import hashlib
import multiprocessing
import os
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Callable

from . import load
from .encoding import decode_page
from .enrich import enrich_article
from .models import Article
from .parse import parse_page
from .sources.vok import DEFAULT_BASE_URL

BATCH = 2000  # items per transaction and per unit of work handed to a worker
HOST = "vok.rep.kp"


@dataclass
class GenerateSummary:
    """What a generate run wrote."""

    articles: int = 0
    media: int = 0
    listing_pages: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.articles / self.seconds if self.seconds else 0.0
        return (
            f"{self.articles} articles, {self.media} media items, {self.listing_pages} listing pages "
            f"in {self.seconds:.1f} s ({rate:.0f} articles/s)"
        )


_sites: dict = {}


def _site(articles: int, seed: int):
    from .mirror.site import MirrorSite

    key = (articles, seed)
    if key not in _sites:
        _sites.clear()
        _sites[key] = MirrorSite(articles, seed, 0)
    return _sites[key]


def _http_facts(page) -> tuple[str, str]:
    # The same validators the mirror's server sends (mirror/server.py _send_page).
    etag = '"' + hashlib.blake2b(page.body, digest_size=16).hexdigest() + '"'
    return etag, formatdate(calendar.timegm(page.last_modified.timetuple()), usegmt=True)


def render_items(articles: int, seed: int, start: int, stop: int) -> list[tuple]:
    """Render, parse and enrich items start..stop of the mirror on day 0: (url, page, etag, modified, record)."""
    from .mirror import render

    site = _site(articles, seed)
    out = []
    for index in range(start, stop):
        if not site.is_live(index):
            continue
        item = site.item(index)
        page = render.media_page(site, item) if item.is_media else render.article_page(site, item, HOST)
        url = item.canonical_url
        record = parse_page(page.body, url, page.content_type)
        if isinstance(record, Article):
            record = enrich_article(record)
        out.append((url, page.body, page.content_type, *_http_facts(page), record))
    return out


def _render_batch(args: tuple) -> list[tuple]:
    return render_items(*args)


def _listing_pages(site):
    from .mirror import render
    from .mirror.site import LISTINGS

    yield f"{DEFAULT_BASE_URL}{render.HOME_PATH}", render.home_page(site, HOST)
    for listing in LISTINGS:
        for number in range(1, site.page_count(listing) + 1):
            yield f"{DEFAULT_BASE_URL}{listing.path(number)}", render.listing_page(site, listing, number, HOST)


def generate_database(
    path: str | Path,
    articles: int,
    seed: int = 1,
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> GenerateSummary:
    """Write the mirror's day-0 site of `articles` articles into a new working database at `path`."""
    import time

    started = time.perf_counter()
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = load.open_working_db(str(path))
    run_id = load.start_run(db, DEFAULT_BASE_URL)
    summary = GenerateSummary()
    site = _site(articles, seed)
    fetched_at = load.now_utc()
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    batches = [(articles, seed, start, min(start + BATCH, site.total)) for start in range(0, site.total, BATCH)]
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 and len(batches) > 1 else None
    try:
        results = pool.imap(_render_batch, batches) if pool else map(_render_batch, batches)
        for batch in results:
            with db.atomic():
                for url, body, content_type, etag, modified, record in batch:
                    page = load.PageRecord(
                        url=url, final_url=url, status=200, fetched_at=fetched_at, body=body, item_id=record.id,
                        content_type=content_type, etag=etag, last_modified=modified,
                        encoding=record.encoding, encoding_decided_by=record.encoding_decided_by,
                    )
                    if isinstance(record, Article):
                        load.save_article(db, record, page, run_id)
                        summary.articles += 1
                    else:
                        load.save_media(db, record, page, run_id)
                        summary.media += 1
            if progress:
                progress(f"{summary.articles} articles, {summary.media} media items")
    finally:
        if pool:
            pool.close()
            pool.join()
    with db.atomic():
        for url, page in _listing_pages(site):
            decoded = decode_page(page.body, page.content_type)
            etag, modified = _http_facts(page)
            load.save_page(db, load.PageRecord(
                url=url, final_url=url, status=200, fetched_at=fetched_at, body=page.body,
                content_type=page.content_type, etag=etag, last_modified=modified,
                encoding=decoded.encoding, encoding_decided_by=decoded.decided_by,
            ), run_id)
            summary.listing_pages += 1
    requests = summary.articles + summary.media + summary.listing_pages
    load.finish_run(db, run_id, {"requests": requests, "new": summary.articles, "edited": 0, "removed": 0,
                                 "unchanged": 0, "errors": 0}, "ok")
    db.conn.close()
    summary.seconds = time.perf_counter() - started
    return summary
