"""The fault proxy: the offline mirror as a crawler sees it through a bad network, and what a crawl must leave.

``FaultProxy(mirror.base_url, seed=…, rate=…)`` forwards each request to the mirror or, drawn with a
seeded RNG, answers it with a fault from ``faultserver.FAULTS``. ``archive_problems`` and
``truth_problems`` say what is wrong with a working database, in words, so that a failing test shows it.
"""

from __future__ import annotations

import http.client
import json
import random
import sqlite3
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from dprk_archive.crawl import Crawler
from dprk_archive.fetch import PoliteClient
from faultserver import DEFAULT_MIX, FAULTS, Request, Response, _FaultTCPServer


@dataclass
class Injection:
    path: str
    fault: str
    at: float


class FaultProxy(_FaultTCPServer):
    """Forwards to ``upstream`` (the mirror's base_url), injecting faults: a seeded mix and/or fixed ones.

    Per request, with ``random.Random(f"{seed}:{path}:{n}")`` (n: how many times the path was asked for),
    the proxy injects a fault from ``mix`` with probability ``rate``, else passes the request through.
    ``fixed[path]`` overrides that: a fault name (every time) or a list of names (one per request, then
    pass-through). /_mirror/ paths always pass through; robots.txt too unless ``robots`` says otherwise.
    """

    def __init__(self, upstream: str, *, seed: int = 0, rate: float = 0.0, mix: list[str] | None = None,
                 fixed: dict | None = None, robots: str = "pass", retry_after: float = 1,
                 drip_interval: float = 0.01):
        super().__init__(robots=robots, retry_after=retry_after, drip_interval=drip_interval)
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port or 80)
        self.seed = seed
        self.rate = rate
        self.mix = list(mix or DEFAULT_MIX)
        unknown = [name for name in self.mix if name not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}")
        self.fixed = {path: (list(f) if isinstance(f, (list, tuple)) else f) for path, f in (fixed or {}).items()}
        self._seen: Counter = Counter()

    def set_faults(self, *, rate: float | None = None, fixed: dict | None = None) -> None:
        """Change the injection rate or the fixed faults from now on (``rate=0, fixed={}``: a clean site)."""
        with self.lock:
            if rate is not None:
                self.rate = rate
            if fixed is not None:
                self.fixed = {p: (list(f) if isinstance(f, (list, tuple)) else f) for p, f in fixed.items()}

    def choose(self, request: Request) -> str | None:
        path = request.path
        if path.startswith("/_mirror/") or path == "/robots.txt":
            return None
        with self.lock:
            self._seen[path] += 1
            nth = self._seen[path]
            pinned = self.fixed.get(path)
            if isinstance(pinned, list):
                return pinned.pop(0) if pinned else None
            if pinned is not None:
                return pinned
            rate = self.rate
        rng = random.Random(f"{self.seed}:{path}:{nth}")
        if rng.random() < rate:
            return rng.choice(self.mix)
        return None

    def good_response(self, request: Request, conditional: bool = True) -> Response:
        headers = {"Host": request.headers.get("host", f"127.0.0.1:{self.server_address[1]}"),
                   "User-Agent": request.headers.get("user-agent", "faultproxy")}
        if conditional:
            for name in ("if-none-match", "if-modified-since"):
                if name in request.headers:
                    headers[name] = request.headers[name]
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            upstream.request("GET", request.target, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
            kept = {name: answer.getheader(name) for name in ("Content-Type", "ETag", "Last-Modified", "Location",
                                                               "Retry-After") if answer.getheader(name)}
            return Response(answer.status, kept, body)
        finally:
            upstream.close()

    @property
    def injections(self) -> list[Injection]:
        """Every fault actually injected, in order, with the path it was injected into."""
        with self.lock:
            return [Injection(s.path, s.fault, s.started) for s in self.served if s.fault]

    def injected_by_path(self) -> dict[str, list[str]]:
        """The faults injected into each path, in order."""
        out: dict[str, list[str]] = {}
        for injection in self.injections:
            out.setdefault(urlsplit(injection.path).path, []).append(injection.fault)
        return out


# --- crawling through it --------------------------------------------------------------------------------

# The client the tests crawl with: the production manners (3 attempts, backoff, Retry-After, deadline,
# size cap) on a test's time scale.
QUICK = {"delay": 0, "backoff": 0.01, "deadline": 0.5, "retry_after_cap": 0.2}


def quick_client(**options) -> PoliteClient:
    """A PoliteClient with QUICK's timings (options override them)."""
    return PoliteClient(**{**QUICK, **options})


def crawl(db, base_url: str, **options):
    """One crawl run (Crawler options: recheck, walk_all, ...) through a quick client; returns its summary."""
    with quick_client() as client:
        return Crawler(db, client, base_url, **options).run()


def article_path(article: dict) -> str:
    """The path a truth article is served on (the proxy pins faults by path)."""
    return urlsplit(article["url"]).path


# --- what a crawl must leave behind ------------------------------------------------------------------


def fetch_truth(base_url: str) -> dict:
    """The mirror's ground truth for the day it serves."""
    return httpx.get(f"{base_url}/_mirror/truth.json", timeout=60).json()


def integrity_problems(path: str) -> list[str]:
    """SQLite's own checks of a database file: integrity and foreign keys."""
    connection = sqlite3.connect(path)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {row}" for row in connection.execute("PRAGMA foreign_key_check")]
    finally:
        connection.close()
    return problems


def archive_problems(db) -> list[str]:
    """Invariants every working database must keep, whatever happened to the crawl that wrote it.

    Every article has versions 1..version_count and no others, its latest version's text is its text,
    and its region and place rows match its JSON lists.
    """
    problems = []
    versions: dict[str, list[tuple[int, str]]] = {}
    for article_id, version, digest in db.execute(
        "SELECT article_id, version, text_hash FROM article_versions ORDER BY article_id, version"
    ):
        versions.setdefault(article_id, []).append((version, digest))
    regions: dict[str, set] = {}
    for article_id, region in db.execute("SELECT article_id, region FROM article_regions"):
        regions.setdefault(article_id, set()).add(region)
    places: dict[str, set] = {}
    for article_id, place in db.execute("SELECT article_id, place FROM article_places"):
        places.setdefault(article_id, set()).add(place)
    articles = db.execute("SELECT id, version_count, text_hash, regions, places FROM articles").fetchall()
    for article_id, version_count, digest, regions_json, places_json in articles:
        rows = versions.pop(article_id, [])
        numbers = [number for number, _ in rows]
        if version_count < 1 or numbers != list(range(1, version_count + 1)):
            problems.append(f"{article_id}: version_count {version_count} but versions {numbers}")
        elif rows[-1][1] != digest:
            problems.append(f"{article_id}: latest version's text_hash is not the article's")
        for (_, before), (_, after) in zip(rows, rows[1:]):
            if before == after:
                problems.append(f"{article_id}: two consecutive versions with the same text")
        if regions.pop(article_id, set()) != set(json.loads(regions_json)):
            problems.append(f"{article_id}: article_regions differ from articles.regions")
        if places.pop(article_id, set()) != set(json.loads(places_json)):
            problems.append(f"{article_id}: article_places differ from articles.places")
    problems += [f"{article_id}: versions without an article" for article_id in versions]
    problems += [f"{article_id}: regions without an article" for article_id in regions]
    return problems


def truth_problems(db, truth: dict, *, single_version: bool = False) -> list[str]:
    """How a working database differs from the mirror's truth: lost, extra, wrong or falsely removed items.

    With ``single_version`` (a site that was never edited), any second version is a spurious one.
    """
    problems = []
    wanted = {article["id"]: article for article in truth["articles"]}
    live = {row[0]: row for row in db.execute(
        "SELECT id, url, title, subtitle, published, text_hash, regions, missing_since, version_count"
        " FROM articles WHERE removed_at IS NULL")}
    lost = sorted(set(wanted) - set(live))
    if lost:
        problems.append(f"{len(lost)} articles lost, e.g. {lost[:5]}")
    extra = sorted(set(live) - set(wanted))
    if extra:
        problems.append(f"{len(extra)} live articles the site does not have, e.g. {extra[:5]}")
    for article_id in sorted(set(wanted) & set(live)):
        article, row = wanted[article_id], live[article_id]
        _, url, title, subtitle, published, digest, regions, missing_since, version_count = row
        expected = (article["url"], article["title"], article["subtitle"], article["published"],
                    article["text_hash"], article["regions"])
        if (url, title, subtitle, published, digest, json.loads(regions)) != expected:
            problems.append(f"{article_id}: stored fields differ from the truth")
        if missing_since is not None:
            problems.append(f"{article_id}: live on the site but marked missing since {missing_since}")
        if single_version and version_count != 1:
            problems.append(f"{article_id}: {version_count} versions of an article never edited")
    seen = {row[0] for row in db.execute("SELECT id FROM articles UNION ALL SELECT id FROM media")}
    removed = {row[0] for row in db.execute(
        "SELECT id FROM articles WHERE removed_at IS NOT NULL UNION ALL SELECT id FROM media WHERE removed_at IS NOT NULL")}
    if removed - set(truth["removed"]):
        problems.append(f"false removals: {sorted(removed - set(truth['removed']))[:5]}")
    if (set(truth["removed"]) & seen) - removed:
        problems.append(f"removals missed: {sorted((set(truth['removed']) & seen) - removed)[:5]}")
    media = {row[0] for row in db.execute("SELECT id FROM media WHERE removed_at IS NULL")}
    if media != set(truth["media"]):
        problems.append(f"media differ: {len(set(truth['media']) - media)} lost, {len(media - set(truth['media']))} extra")
    return problems


def version_problems(db, site) -> list[str]:
    """Versions whose text the article never had on the mirror (``site``: the RunningMirror's MirrorSite)."""
    problems = []
    catalogue = site.catalogue
    rows = db.execute("SELECT article_id, version, text_hash FROM article_versions ORDER BY article_id, version")
    for article_id, version, digest in rows:
        item = site.find(article_id)
        if item is None:
            problems.append(f"{article_id}: an article the mirror never published")
            continue
        history = site.history(item.index)
        real = {catalogue.text_hash(item.index, v) for v in range(history.distinct_versions)}
        if digest not in real:
            problems.append(f"{article_id} v{version}: a text the article never had")
    return problems
