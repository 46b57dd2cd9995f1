"""HTTP, politely: robots.txt, one request at a time per host, delays, retries, deadlines, size caps.

Nothing here parses HTML or touches the database: `PoliteClient.fetch` returns the raw bytes and the
facts of the response, or raises `FetchFailed` with every attempt that went wrong.
"""

from __future__ import annotations

import email.utils
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from . import PROJECT_URL, __version__

USER_AGENT = f"dprk-archive/{__version__} (+{PROJECT_URL}; research archive of state media)"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
HEADERS_KEPT = ("content-type", "etag", "last-modified", "content-length", "retry-after", "location", "date")


class FetchFailed(Exception):
    """Every attempt at a URL failed; `attempts` lists what went wrong each time."""

    def __init__(self, url: str, attempts: list[str], retryable: bool = True):
        self.url = url
        self.attempts = attempts
        self.retryable = retryable
        super().__init__(f"{url}: {attempts[-1] if attempts else 'failed'}")


class DisallowedByRobots(FetchFailed):
    """robots.txt forbids the URL (or could not be read, which RFC 9309 treats as forbidding all)."""

    def __init__(self, url: str, reason: str):
        super().__init__(url, [reason], retryable=False)


class _AttemptError(Exception):
    """One attempt went wrong; `retryable` says whether another attempt may help."""

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class FetchResult:
    """The raw response to one request, after retries: status, kept headers, body bytes."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: str
    failed_attempts: list[str] = field(default_factory=list)  # attempts that failed before this one succeeded

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def site_key(url: str) -> str:
    """Politeness is per site: www.vok.rep.kp and vok.rep.kp are one server, so one queue."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    return f"{host}:{parts.port or ''}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header in either form (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class PoliteClient:
    """One injected httpx client with the crawler's manners; every request of a run goes through it."""

    def __init__(
        self,
        *,
        delay: float = 1.0,
        max_attempts: int = 3,
        backoff: float = 2.0,
        retry_after_cap: float = 300.0,
        deadline: float = 60.0,
        max_bytes: int = 10 * 1024 * 1024,
        obey_robots: bool = True,
        user_agent: str = USER_AGENT,
        proxy: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep=time.sleep,
        clock=time.monotonic,
    ):
        self.delay = delay
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.retry_after_cap = retry_after_cap
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.obey_robots = obey_robots
        self.user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._next_allowed: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self.requests = 0  # every HTTP request sent, robots.txt and retries included
        self._sockets: list[socket.socket] = []  # every socket this client opened (see _attempt's watchdog)
        self._sockets_lock = threading.Lock()
        self._http = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            # httpx applies these per socket operation, not per request: fetch() enforces the total deadline.
            timeout=httpx.Timeout(min(30.0, deadline), connect=min(15.0, deadline)),
            follow_redirects=True,
            max_redirects=5,
            proxy=proxy,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET a URL with robots, delay, retries, deadline and size cap; 304/404/410 are results, not errors."""
        if self.obey_robots and not self._allowed(url):
            raise DisallowedByRobots(url, "disallowed by robots.txt")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        failures: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = self._attempt(url, headers)
            except _AttemptError as error:
                failures.append(str(error))
                if not error.retryable or attempt == self.max_attempts:
                    raise FetchFailed(url, failures, retryable=error.retryable) from None
                self._wait_before_retry(url, attempt, error.retry_after)
                continue
            result.failed_attempts = failures
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_before_retry(self, url: str, attempt: int, retry_after: float | None) -> None:
        wait = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if retry_after is not None:
            # A server that says when to come back knows its ban better than our backoff does.
            wait = max(wait, min(retry_after, self.retry_after_cap))
        key = site_key(url)
        self._next_allowed[key] = max(self._next_allowed.get(key, 0.0), self._clock() + wait)

    def _wait_for_turn(self, url: str) -> None:
        key = site_key(url)
        pause = self._next_allowed.get(key, 0.0) - self._clock()
        if pause > 0:
            self._sleep(pause)

    def _attempt(self, url: str, headers: dict[str, str]) -> FetchResult:
        self._wait_for_turn(url)
        started = self._clock()
        self.requests += 1
        # httpx's timeouts are per socket read, and _read_body checks the deadline only between chunks:
        # a server that drips its *headers* a byte at a time held a request for up to 16 KB times the
        # read timeout (hours). At the deadline this watchdog shuts the client's sockets down, which
        # wakes the blocked read; the error is then reported as the deadline it is.
        expired = threading.Event()
        watchdog = threading.Timer(self.deadline, self._abort_reads, args=(expired,))
        watchdog.daemon = True
        watchdog.start()
        try:
            with self._http.stream("GET", url, headers=headers, extensions={"trace": self._trace}) as response:
                body = self._read_body(response, started)
        except httpx.TooManyRedirects:
            raise _AttemptError("too many redirects (a redirect loop)", retryable=False) from None
        except httpx.TimeoutException as error:
            raise _AttemptError(f"timed out ({type(error).__name__})", retryable=True) from None
        except httpx.TransportError as error:
            if expired.is_set():
                raise _AttemptError(f"response not complete within the {self.deadline:g} s deadline",
                                    retryable=True) from None
            # Resets, empty replies and bodies shorter than their Content-Length all land here.
            raise _AttemptError(f"{type(error).__name__}: {error or 'connection failed'}", retryable=True) from None
        finally:
            watchdog.cancel()
            self._next_allowed[site_key(url)] = self._clock() + self.delay
        status = response.status_code
        kept = {name: response.headers[name] for name in HEADERS_KEPT if name in response.headers}
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _AttemptError(f"HTTP {status}", retryable=True, retry_after=retry_after)
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=status,
            headers=kept,
            body=body,
            fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )

    def _trace(self, event: str, info: dict) -> None:
        """httpcore's trace hook: remember each new connection's socket, for the deadline watchdog."""
        if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                with self._sockets_lock:
                    self._sockets = [s for s in self._sockets if s.fileno() != -1] + [sock]

    def _abort_reads(self, expired: threading.Event) -> None:
        """The deadline passed: shut down every socket of this client (one request at a time uses them)."""
        expired.set()
        with self._sockets_lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def _read_body(self, response: httpx.Response, started: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _AttemptError(f"body of {declared} bytes exceeds the {self.max_bytes}-byte cap", retryable=False)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _AttemptError(f"body exceeds the {self.max_bytes}-byte cap", retryable=False)
            if self._clock() - started > self.deadline:
                raise _AttemptError(f"response not complete within the {self.deadline:g} s deadline", retryable=True)
            chunks.append(chunk)
        return b"".join(chunks)

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(self.user_agent, url)

    def _load_robots(self, origin: str) -> RobotFileParser | None:
        """Read robots.txt by RFC 9309: 4xx means no rules, 5xx or unreachable means disallow everything."""
        url = f"{origin}/robots.txt"
        rules = RobotFileParser(url)
        try:
            result = self.fetch_unchecked(url)
        except FetchFailed:
            rules.disallow_all = True
            return rules
        if 400 <= result.status < 500:
            return None
        if result.status >= 500:
            rules.disallow_all = True
            return rules
        rules.parse(result.body.decode("utf-8", "replace").splitlines())
        crawl_delay = rules.crawl_delay(self.user_agent)
        if crawl_delay:
            self.delay = max(self.delay, float(crawl_delay))
        return rules

    def fetch_unchecked(self, url: str) -> FetchResult:
        """Fetch without consulting robots.txt (used for robots.txt itself)."""
        obey, self.obey_robots = self.obey_robots, False
        try:
            return self.fetch(url)
        finally:
            self.obey_robots = obey
