"""PoliteClient logic against httpx.MockTransport, with a fake clock so waits are observable."""

import email.utils

import httpx
import pytest

from dprk_archive.fetch import FetchFailed, DisallowedByRobots, PoliteClient, parse_retry_after, site_key


class FakeClock:
    """A clock that only moves when the client sleeps: waits become exact numbers to assert on."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(handler, clock=None, **options):
    clock = clock or FakeClock()
    options.setdefault("delay", 0)
    options.setdefault("backoff", 1.0)
    return PoliteClient(transport=httpx.MockTransport(handler), sleep=clock.sleep, clock=clock, **options), clock


def robots_ok(request):
    return httpx.Response(404) if request.url.path == "/robots.txt" else None


def test_retries_5xx_then_succeeds_and_keeps_the_failed_attempts():
    calls = []

    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        calls.append(request.url.path)
        return httpx.Response(503) if len(calls) < 3 else httpx.Response(200, text="<html>ok</html>")

    client, _ = make_client(handler)
    result = client.fetch("http://vok.rep.kp/a")
    assert result.status == 200 and result.body == b"<html>ok</html>"
    assert result.failed_attempts == ["HTTP 503", "HTTP 503"]
    assert len(calls) == 3


def test_gives_up_after_three_attempts():
    def handler(request):
        return robots_ok(request) or httpx.Response(500)

    client, _ = make_client(handler)
    with pytest.raises(FetchFailed) as failure:
        client.fetch("http://vok.rep.kp/a")
    assert failure.value.attempts == ["HTTP 500"] * 3
    assert client.requests == 4  # robots.txt + 3 attempts


@pytest.mark.parametrize("status", [403, 404, 410])
def test_other_4xx_are_not_retried(status):
    seen = []

    def handler(request):
        seen.append(request.url.path)
        return robots_ok(request) or httpx.Response(status)

    client, _ = make_client(handler)
    assert client.fetch("http://vok.rep.kp/a").status == status
    assert seen.count("/a") == 1


def test_transport_errors_are_retried():
    attempts = []

    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, text="<html></html>")

    client, _ = make_client(handler)
    result = client.fetch("http://vok.rep.kp/a")
    assert result.status == 200
    assert result.failed_attempts[0].startswith("RemoteProtocolError")


def test_retry_after_seconds_is_honoured_up_to_the_cap():
    responses = iter([httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200, text="x")])

    def handler(request):
        return robots_ok(request) or next(responses)

    client, clock = make_client(handler, retry_after_cap=300)
    client.fetch("http://vok.rep.kp/a")
    assert clock.sleeps == [30.0]

    responses = iter([httpx.Response(503, headers={"Retry-After": "7200"}), httpx.Response(200, text="x")])
    client, clock = make_client(handler, retry_after_cap=60)
    client.fetch("http://vok.rep.kp/a")
    assert clock.sleeps == [60.0]


def test_retry_after_http_date():
    assert parse_retry_after(email.utils.formatdate(1_000_120, usegmt=True), now=1_000_000) == pytest.approx(120)
    assert parse_retry_after("soon") is None
    assert parse_retry_after("15") == 15.0


def test_delay_between_requests_to_one_site_counts_www_and_bare_host_as_one():
    def handler(request):
        return robots_ok(request) or httpx.Response(200, text="x")

    client, clock = make_client(handler, delay=2.0, obey_robots=False)
    client.fetch("http://vok.rep.kp/a")
    client.fetch("http://www.vok.rep.kp/b")
    client.fetch("http://vok.rep.kp/c")
    assert clock.sleeps == [2.0, 2.0]
    assert site_key("http://www.vok.rep.kp/x") == site_key("http://vok.rep.kp/y")


def test_conditional_get_sends_validators_and_returns_304():
    seen = {}

    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        seen.update(request.headers)
        return httpx.Response(304)

    client, _ = make_client(handler)
    result = client.fetch("http://vok.rep.kp/a", etag='"abc"', last_modified="Sat, 28 Nov 2026 00:00:00 GMT")
    assert result.status == 304
    assert seen["if-none-match"] == '"abc"'
    assert seen["if-modified-since"] == "Sat, 28 Nov 2026 00:00:00 GMT"


def test_declared_oversized_body_is_refused_without_retry():
    calls = []

    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        calls.append(1)
        return httpx.Response(200, content=b"x" * 2000)

    client, _ = make_client(handler, max_bytes=1000)
    with pytest.raises(FetchFailed) as failure:
        client.fetch("http://vok.rep.kp/a")
    assert "1000-byte cap" in failure.value.attempts[0]
    assert len(calls) == 1 and not failure.value.retryable


def test_user_agent_identifies_the_project():
    seen = {}

    def handler(request):
        seen["ua"] = request.headers["user-agent"]
        return httpx.Response(404)

    client, _ = make_client(handler)
    client.fetch("http://vok.rep.kp/robots.txt")
    assert seen["ua"].startswith("dprk-archive/") and "http" in seen["ua"]


def test_robots_disallow_is_obeyed():
    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nDisallow: /private/\n")
        return httpx.Response(200, text="x")

    client, _ = make_client(handler)
    assert client.fetch("http://vok.rep.kp/public").status == 200
    with pytest.raises(DisallowedByRobots):
        client.fetch("http://vok.rep.kp/private/page")


def test_robots_5xx_means_disallow_all_and_4xx_means_allow_all():
    def failing(request):
        return httpx.Response(503) if request.url.path == "/robots.txt" else httpx.Response(200, text="x")

    client, _ = make_client(failing)
    with pytest.raises(DisallowedByRobots):
        client.fetch("http://vok.rep.kp/a")

    def missing(request):
        return httpx.Response(404) if request.url.path == "/robots.txt" else httpx.Response(200, text="x")

    client, _ = make_client(missing)
    assert client.fetch("http://vok.rep.kp/a").status == 200


def test_robots_crawl_delay_raises_the_delay():
    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nCrawl-delay: 5\n")
        return httpx.Response(200, text="x")

    client, clock = make_client(handler, delay=1.0)
    client.fetch("http://vok.rep.kp/a")
    client.fetch("http://vok.rep.kp/b")
    assert 5.0 in clock.sleeps


def test_redirect_loop_fails_without_retry():
    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(302, headers={"Location": "/loop"})

    client, _ = make_client(handler)
    with pytest.raises(FetchFailed) as failure:
        client.fetch("http://vok.rep.kp/loop")
    assert "redirect" in failure.value.attempts[0] and len(failure.value.attempts) == 1
