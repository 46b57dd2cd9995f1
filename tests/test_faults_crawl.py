"""Crawls through the fault proxy with faults pinned to chosen pages: what a broken page may and may not do.

3. A broken page never creates a version nor overwrites a good one; it is recorded as an error and retried.
5. Only a 404/410 confirmed by a second check removes an article; 5xx, timeouts, resets, soft 404s never do.
7. The real `dprk-archive crawl` over a site with one page of every bad kind stores every good article,
   records one error with its reason per bad page, and exits 0 with its summary.
"""

import re

import pytest
from click.testing import CliRunner

from dprk_archive import load
from dprk_archive.cli import cli
from dprk_archive.fetch import PoliteClient
from dprk_archive.mirror.server import start_mirror
from faultproxy import (
    QUICK,
    FaultProxy,
    archive_problems,
    article_path,
    crawl,
    fetch_truth,
    truth_problems,
)
from faultserver import BROKEN_PAGE_FAULTS, HARMLESS_FAULTS, RETRYABLE_STATUS_FAULTS, TRANSPORT_FAULTS, record

# Everything that must leave a page unstored: cut, reset, stalled, endless, oversized, redirected, "not found".
BROKEN = TRANSPORT_FAULTS + BROKEN_PAGE_FAULTS + ["status-500", "503-retry-after-seconds", "status-403"]
# What says nothing about whether an article still exists.
NOT_A_REMOVAL = RETRYABLE_STATUS_FAULTS + ["reset", "empty", "timeout", "drip", "drip-headers", "truncated", "soft-404",
                                           "redirect-home", "body-missing", "incomplete", "status-403"]
# The reason each bad page must be recorded with (fetch_errors.error).
REASONS = {
    **{f"status-{code}": f"HTTP {code}" for code in (400, 403, 408, 429, 500, 502, 503, 504)},
    **{fault: f"HTTP {fault[:3]}" for fault in RETRYABLE_STATUS_FAULTS if "retry-after" in fault},
    "status-404": "HTTP 404 for an item not in the archive yet",
    "status-410": "HTTP 410 for an item not in the archive yet",
    "reset": "reset by peer",
    "empty": "disconnected without sending a response",
    # A silent server: httpx's read timeout or the total-deadline watchdog, whichever fires first.
    "timeout": ("timed out", "deadline"),
    "truncated": "without sending complete message body",
    "drip": "deadline",
    "drip-headers": "deadline",
    "endless": "byte cap",
    "redirect-loop": "redirect loop",
    "redirect-home": "soft 404",
    "soft-404": "soft 404",
    "empty-body": "empty body",
    "incomplete": "truncated page",
    "huge-text-node": "byte cap",
    # Whether any chrome text is left decides which of the two the density fallback reports.
    "body-missing": ("no article text", "no text on the page"),
}


def reasons(fault):
    expected = REASONS[fault]
    return expected if isinstance(expected, tuple) else (expected,)


@pytest.fixture(scope="module")
def mirror():
    running = start_mirror(port=0, articles=150, seed=21)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def truth(mirror):
    return fetch_truth(mirror.base_url)


def pick(truth, count, offset=0):
    """``count`` text articles spread over the site (every third one, from ``offset``)."""
    articles = truth["articles"][offset::3][:count]
    assert len(articles) == count
    return articles


def versions(db):
    return db.execute(
        "SELECT article_id, version, text_hash, title, subtitle, body, seen_first, page_sha256 FROM article_versions"
        " ORDER BY article_id, version").fetchall()


def article_state(db):
    return {row[0]: row[1:] for row in db.execute(
        "SELECT id, text_hash, body, version_count, missing_since, removed_at FROM articles")}


def unrecovered_errors(db, run_id):
    errors: dict[str, list[str]] = {}
    for url, error in db.execute(
            "SELECT url, error FROM fetch_errors WHERE run_id = ? AND recovered = 0 ORDER BY id", [run_id]):
        errors.setdefault(url, []).append(error)
    return errors


# --- 3. broken pages ----------------------------------------------------------------------------------


def test_broken_pages_never_overwrite_a_stored_version(mirror, truth, tmp_path):
    targets = {article_path(a): fault for a, fault in zip(pick(truth, len(BROKEN)), BROKEN)}
    with FaultProxy(mirror.base_url) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, proxy.base_url)
        assert truth_problems(db, truth, single_version=True) == []
        stored_versions, stored = versions(db), article_state(db)

        proxy.set_faults(fixed=targets)
        summary = crawl(db, proxy.base_url, recheck=10_000)
        injected = proxy.counts()

        assert versions(db) == stored_versions, "a broken page changed a stored version"
        assert article_state(db) == stored, "a broken page changed an article, or marked it missing"
        assert summary.counts["edited"] == 0 and summary.counts["errors"] == len(targets)
        errors = unrecovered_errors(db, summary.run_id)
        queued = {url for (url,) in db.execute("SELECT url FROM retry_queue")}
        for path, fault in targets.items():
            url = proxy.base_url + path
            assert url in errors, f"{fault}: no error recorded"
            assert any(reason in error for reason in reasons(fault) for error in errors[url]), (fault, errors[url])
            assert url in queued, f"{fault}: not queued for the next run"
        assert archive_problems(db) == []

        proxy.set_faults(fixed={})
        crawl(db, proxy.base_url)  # an ordinary run: no --recheck, the queue brings the pages back
        assert db.execute("SELECT count(*) FROM retry_queue").fetchone()[0] == 0
        assert versions(db) == stored_versions
    assert set(injected) == set(BROKEN)
    record(injected)


def test_broken_pages_never_create_an_article_and_are_fetched_next_run(mirror, truth, tmp_path):
    chosen = pick(truth, len(BROKEN), offset=1)
    targets = {article_path(a): fault for a, fault in zip(chosen, BROKEN)}
    with FaultProxy(mirror.base_url, fixed=targets) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        summary = crawl(db, proxy.base_url)
        ids = [a["id"] for a in chosen]
        stored = db.execute(f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
        assert stored == [], "a broken page became an article"
        assert db.execute(f"SELECT count(*) FROM article_versions WHERE article_id IN ({','.join('?' * len(ids))})",
                          ids).fetchone()[0] == 0
        assert set(unrecovered_errors(db, summary.run_id)) == {proxy.base_url + path for path in targets}
        assert archive_problems(db) == []

        injected = proxy.counts()
        proxy.set_faults(fixed={})
        crawl(db, proxy.base_url)
        assert truth_problems(db, truth, single_version=True) == []
        assert db.execute("SELECT count(*) FROM retry_queue").fetchone()[0] == 0
    record(injected)


def test_a_broken_page_does_not_hide_the_edit_it_carried(mirror_factory, tmp_path):
    # The cut page of an edited article comes with the edited page's ETag: it must not be sent back as
    # If-None-Match, or the next run is told "304 Not Modified" and the edit is never stored.
    mirror = mirror_factory(articles=150, seed=21)
    with FaultProxy(mirror.base_url) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, proxy.base_url)
        mirror.set_day(5)
        truth = fetch_truth(mirror.base_url)
        edited = [a for a in truth["articles"] if a["id"] in truth["edited"]]
        assert len(edited) >= 2
        faults = ["incomplete", "body-missing"]
        proxy.set_faults(fixed={article_path(a): fault for a, fault in zip(edited, faults)})
        crawl(db, proxy.base_url, recheck=10_000)
        injected = proxy.counts()
        for article in edited[:2]:
            assert db["articles"].get(article["id"])["text_hash"] != article["text_hash"]
        proxy.set_faults(fixed={})
        crawl(db, proxy.base_url, recheck=10_000)
    assert truth_problems(db, truth) == []
    for article in edited[:2]:
        assert db["articles"].get(article["id"])["version_count"] == 2
    assert set(injected) == set(faults)
    record(injected)


# --- 5. removals need confirmation --------------------------------------------------------------------


def test_server_errors_timeouts_resets_and_soft_404s_never_remove(mirror, truth, tmp_path):
    targets = {article_path(a): fault for a, fault in zip(pick(truth, len(NOT_A_REMOVAL), offset=2), NOT_A_REMOVAL)}
    with FaultProxy(mirror.base_url) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, proxy.base_url)
        proxy.set_faults(fixed=targets)
        for _ in range(2):  # every check of every article, twice: each would be a confirmation
            summary = crawl(db, proxy.base_url, recheck=10_000)
            assert summary.counts["missing"] == 0 and summary.counts["removed"] == 0
        marked = db.execute("SELECT id FROM articles WHERE missing_since IS NOT NULL OR removed_at IS NOT NULL")
        assert marked.fetchall() == []
        injected = proxy.counts()
    assert set(injected) == set(NOT_A_REMOVAL)
    record(injected)


def test_a_single_404_or_410_is_not_a_removal(mirror, truth, tmp_path):
    first, second = pick(truth, 2, offset=1)
    with FaultProxy(mirror.base_url) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, proxy.base_url)
        proxy.set_faults(fixed={article_path(first): ["status-404"], article_path(second): ["status-410"]})
        summary = crawl(db, proxy.base_url, recheck=10_000)
        injected = proxy.counts()
    assert summary.counts["missing"] == 2 and summary.counts["removed"] == 0
    for article in (first, second):
        row = db["articles"].get(article["id"])
        assert row["removed_at"] is None and row["missing_since"] is None, article["id"]
    assert truth_problems(db, truth, single_version=True) == []
    record(injected)


def test_a_404_confirmed_by_a_second_check_is_a_removal(mirror, truth, tmp_path):
    first, second = pick(truth, 2, offset=2)
    with FaultProxy(mirror.base_url) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, proxy.base_url)
        proxy.set_faults(fixed={article_path(first): ["status-404"] * 2, article_path(second): ["status-410"] * 2})
        summary = crawl(db, proxy.base_url, recheck=10_000)
        injected = proxy.counts()
    assert summary.counts["removed"] == 2
    for article in (first, second):
        row = db["articles"].get(article["id"])
        assert row["removed_at"] is not None and row["version_count"] == 1
    assert archive_problems(db) == []
    assert injected == {"status-404": 2, "status-410": 2}
    record({"404 or 410 twice on a known article": 2}, outcome="removed (tombstone, versions kept), as promised")


# --- 7. the crawl command over a site with every bad page ---------------------------------------------


class QuickPoliteClient(PoliteClient):
    """The CLI's client with the test time scale (see faultproxy.QUICK); the CLI's own options still apply."""

    def __init__(self, **options):
        super().__init__(**{**QUICK, **options})


BAD_PAGES = RETRYABLE_STATUS_FAULTS + TRANSPORT_FAULTS + BROKEN_PAGE_FAULTS + [
    "status-400", "status-403", "status-404", "status-410"]


def test_crawl_command_isolates_every_bad_page(mirror, truth, tmp_path, monkeypatch):
    monkeypatch.setattr("dprk_archive.fetch.PoliteClient", QuickPoliteClient)
    bad = pick(truth, len(BAD_PAGES))
    harmless = pick(truth, len(HARMLESS_FAULTS), offset=1)
    targets = {article_path(a): fault for a, fault in zip(bad, BAD_PAGES)}
    targets.update({article_path(a): fault for a, fault in zip(harmless, HARMLESS_FAULTS)})
    with FaultProxy(mirror.base_url, fixed=targets) as proxy:
        result = CliRunner().invoke(cli, ["crawl", "--db", str(tmp_path / "work.db"), "--base-url",
                                          proxy.base_url, "--delay", "0", "--silent"])
        injected = proxy.counts()
    assert result.exit_code == 0, result.output
    assert re.search(rf"run 1: \d+ requests, \d+ new, .* {len(BAD_PAGES)} errors", result.output), result.output

    db = load.open_working_db(str(tmp_path / "work.db"))
    bad_ids = {a["id"] for a in bad}
    good = {**truth, "articles": [a for a in truth["articles"] if a["id"] not in bad_ids]}
    assert truth_problems(db, good, single_version=True) == []  # every good article, harmless faults included

    run_id, status, errors = db.execute("SELECT id, status, errors FROM crawl_runs").fetchone()
    assert (status, errors) == ("ok", len(BAD_PAGES))
    recorded = unrecovered_errors(db, run_id)
    assert set(recorded) == {proxy.base_url + article_path(a) for a in bad}
    for article, fault in zip(bad, BAD_PAGES):
        found = recorded[proxy.base_url + article_path(article)]
        assert any(reason in error for reason in reasons(fault) for error in found), (fault, found)
    assert set(injected) == set(BAD_PAGES) | set(HARMLESS_FAULTS)
    record(injected)


@pytest.mark.parametrize("robots", ["disallow", "5xx", "timeout"])
def test_crawl_command_fetches_nothing_when_robots_forbids_or_fails(mirror, tmp_path, monkeypatch, robots):
    monkeypatch.setattr("dprk_archive.fetch.PoliteClient", QuickPoliteClient)
    before = mirror.stats()["requests"]
    with FaultProxy(mirror.base_url, robots=robots) as proxy:
        result = CliRunner().invoke(cli, ["crawl", "--db", str(tmp_path / "work.db"), "--base-url",
                                          proxy.base_url, "--delay", "0", "--silent"])
        paths = [path for path, _ in proxy.log]
        injected = proxy.counts()
    assert result.exit_code == 1 and "failed" in result.output
    assert set(paths) == {"/robots.txt"}
    assert mirror.stats()["requests"] == before
    record(injected)
