"""PoliteClient against the misbehaving loopback server: retries and their waits, deadlines, size caps, robots.

The server stamps every request it receives, so the waits are read from its side, not from our clock.
"""

import re
import time

import pytest

from dprk_archive.fetch import DisallowedByRobots, FetchFailed, PoliteClient
from faultserver import ARTICLE, HUGE_TEXT_NODE, FaultServer, record


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running
        record(running.counts())


def client(**options):
    options.setdefault("delay", 0)
    options.setdefault("backoff", 0.01)
    return PoliteClient(**options)


def gaps(times):
    return [later - earlier for earlier, later in zip(times, times[1:])]


# --- 1. retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_tried_three_times(server, status):
    with client() as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/status-{status}/page")
    assert failure.value.attempts == [f"HTTP {status}"] * 3
    assert failure.value.retryable
    assert len(server.requests_to(f"/status-{status}/page")) == 3


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_other_4xx_are_answers_not_retried(server, status):
    with client() as http:
        result = http.fetch(f"{server.base_url}/status-{status}/page")
    assert result.status == status and result.failed_attempts == []
    assert len(server.requests_to(f"/status-{status}/page")) == 1


@pytest.mark.parametrize("fault", ["reset", "empty", "truncated"])
def test_transport_errors_are_retried_with_growing_backoff(server, fault):
    # backoff b waits b * 2**(attempt-1) * [0.5, 1]: 0.1-0.2 s, then 0.2-0.4 s
    with client(backoff=0.2) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/{fault}/page")
    assert len(failure.value.attempts) == 3 and failure.value.retryable
    first, second = gaps(server.requests_to(f"/{fault}/page"))
    assert 0.1 <= first < 0.2 + 0.15
    assert 0.2 <= second < 0.4 + 0.15


def test_a_transient_503_is_recovered_and_its_failed_attempt_kept(server):
    with client() as http:
        result = http.fetch(f"{server.base_url}/status-503/page?times=1")
    assert result.status == 200 and b"Kim Jong Un" in result.body
    assert result.failed_attempts == ["HTTP 503"]


def test_a_reset_that_recovers_is_kept_as_a_failed_attempt(server):
    with client() as http:
        result = http.fetch(f"{server.base_url}/reset/page?times=1")
    assert result.status == 200 and b"Kim Jong Un" in result.body
    assert len(result.failed_attempts) == 1 and "reset" in result.failed_attempts[0].lower()


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_waited_for(server, status):
    path = f"/{status}-retry-after-seconds/page?after=1&times=1"
    with client() as http:
        result = http.fetch(server.base_url + path)
    assert result.status == 200
    (wait,) = gaps(server.requests_to(path))
    assert 1.0 <= wait < 1.5


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_as_an_http_date_is_waited_for(server, status):
    # The date has whole seconds: "now + 2 s" written down is 1 to 2 s away when the client reads it.
    path = f"/{status}-retry-after-date/page?after=2&times=1"
    with client() as http:
        result = http.fetch(server.base_url + path)
    assert result.status == 200
    (wait,) = gaps(server.requests_to(path))
    assert 0.95 <= wait < 2.5


@pytest.mark.parametrize("form", ["seconds", "date"])
def test_retry_after_is_capped(server, form):
    path = f"/503-retry-after-{form}/page?after=3600"
    with client(retry_after_cap=0.5) as http, pytest.raises(FetchFailed):
        http.fetch(server.base_url + path)
    waits = gaps(server.requests_to(path))
    assert len(waits) == 2
    assert all(0.5 <= wait < 1.0 for wait in waits), waits


# --- 2. deadlines and size caps ------------------------------------------------------------------------


def test_a_drip_fed_page_is_abandoned_at_the_total_deadline(server):
    started = time.monotonic()
    with client(deadline=1.0, max_attempts=1) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/drip/page?interval=0.05")
    elapsed = time.monotonic() - started
    assert "deadline" in failure.value.attempts[0] and failure.value.retryable
    assert 1.0 <= elapsed < 1.6
    (served,) = [s for s in server.served if s.fault == "drip"]
    # about 20 bytes go out in 1 s at 0.05 s a byte (after ~120 bytes of headers)
    assert served.sent < 200 + len(ARTICLE) // 4, "the server kept sending past the client's deadline"
    for _ in range(40):  # the server notices the hang-up at its next byte
        if served.client_hung_up:
            break
        time.sleep(0.05)
    assert served.client_hung_up


def test_a_drip_slower_than_the_deadline_is_abandoned_at_the_deadline_too(server):
    # Bytes 2 s apart never reach the body loop's deadline check: the per-read timeout does the work.
    started = time.monotonic()
    with client(deadline=0.5, max_attempts=1) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/drip/page?interval=2")
    assert time.monotonic() - started < 1.5
    assert re.search("timed out|deadline", failure.value.attempts[0])


def test_drip_fed_headers_are_abandoned_at_the_total_deadline(server):
    # Each header byte arrives well within the read timeout: only the total deadline can end this.
    started = time.monotonic()
    with client(deadline=1.0, max_attempts=1) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/drip-headers/page?interval=0.05")
    assert 1.0 <= time.monotonic() - started < 1.6
    assert "deadline" in failure.value.attempts[0] and failure.value.retryable


def test_the_deadline_watchdog_leaves_the_next_request_working(server):
    with client(deadline=0.5, max_attempts=1) as http:
        with pytest.raises(FetchFailed):
            http.fetch(f"{server.base_url}/drip-headers/page?interval=0.05")
        assert http.fetch(f"{server.base_url}/ok").status == 200
        time.sleep(0.6)  # a watchdog of the fast request must not fire into the next one
        assert http.fetch(f"{server.base_url}/ok").status == 200


def test_a_deadline_miss_is_retried(server):
    with client(deadline=0.3, max_attempts=2) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/drip/page?interval=0.05")
    assert len(failure.value.attempts) == 2
    assert len(server.requests_to("/drip/page?interval=0.05")) == 2


def test_an_endless_body_is_cut_at_the_size_cap_without_retry(server):
    started = time.monotonic()
    with client(max_bytes=1_000_000) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/endless/page")
    assert "1000000-byte cap" in failure.value.attempts[0]
    assert len(failure.value.attempts) == 1 and not failure.value.retryable
    assert time.monotonic() - started < 2


def test_a_15_mb_text_node_with_its_length_declared_is_refused_before_its_body_is_read(server):
    with client() as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/huge-text-node/page")
    assert "exceeds the 10485760-byte cap" in failure.value.attempts[0]
    declared = int(re.search(r"body of (\d+) bytes", failure.value.attempts[0]).group(1))
    assert declared > HUGE_TEXT_NODE  # refused on its Content-Length, before reading
    time.sleep(0.2)
    (served,) = [s for s in server.served if s.fault == "huge-text-node"]
    assert served.client_hung_up and served.sent < HUGE_TEXT_NODE // 2


def test_a_15_mb_text_node_without_a_length_is_cut_at_the_cap(server):
    with client(max_bytes=1_000_000) as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/huge-text-node/page?chunked=1")
    assert "exceeds the 1000000-byte cap" in failure.value.attempts[0] and not failure.value.retryable
    time.sleep(0.2)
    (served,) = [s for s in server.served if s.fault == "huge-text-node"]
    assert served.client_hung_up and served.sent < HUGE_TEXT_NODE


def test_a_redirect_loop_is_given_up_without_retry(server):
    with client() as http, pytest.raises(FetchFailed) as failure:
        http.fetch(f"{server.base_url}/redirect-loop/page")
    assert failure.value.attempts == ["too many redirects (a redirect loop)"]
    assert len(server.requests_to("/redirect-loop/page")) == 6  # the request and 5 redirects


# --- robots.txt ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("robots, robots_requests", [("disallow", 1), ("5xx", 3), ("timeout", 3)])
def test_robots_that_disallow_fail_or_time_out_stop_every_request(robots, robots_requests):
    # RFC 9309: a robots.txt that says no, or cannot be read (5xx, unreachable), disallows everything.
    with FaultServer(robots=robots) as server, client(deadline=0.3) as http:
        with pytest.raises(DisallowedByRobots):
            http.fetch(f"{server.base_url}/ok")
        with pytest.raises(DisallowedByRobots):
            http.fetch(f"{server.base_url}/index.php/home/main/en")
        paths = [path for path, _ in server.log]
        record(server.counts())
    assert paths == ["/robots.txt"] * robots_requests


def test_robots_that_is_missing_allows_everything(server):
    with client() as http:
        assert http.fetch(f"{server.base_url}/ok").status == 200
    assert [path for path, _ in server.log] == ["/robots.txt", "/ok"]
