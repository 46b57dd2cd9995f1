"""A loopback HTTP server that misbehaves on purpose, one path per fault (in the manner of Scrapy's mockserver).

It speaks raw sockets so it can do what a well-behaved HTTP library will not: reset connections,
close without replying, send less than its Content-Length, drip bytes, never finish.

``FaultServer``: ``GET /{fault}[/anything][?after=N&times=K&interval=S&chunked=1]`` answers with that fault
applied to a small Voice of Korea article page (``ARTICLE``); any other path answers that page, ``/ok``
answers ``PAGE``. ``times=K`` applies the fault to the first K requests of that exact path only.

``faultproxy.FaultProxy`` puts the same faults in front of the offline mirror.

Both log every request in ``log`` as ``(path, time.monotonic())``, and every response in ``served``
(bytes written, whether the client hung up first) so that tests can see waits and abandoned bodies.

``LEDGER`` collects, from tests that passed their assertions, how many faults of each kind they injected;
with ``DPRK_FAULT_LEDGER=path.json`` it is written out when the test process ends, and
``python tests/faultserver.py path.json`` prints it as the table in docs/reliability.md.
"""

from __future__ import annotations

import atexit
import email.utils
import json
import os
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

HOME_PATH = "/index.php/home/main/en"
PAGE = b"<html><body><p>fine</p></body></html>"

# A Voice of Korea article as the mirror renders it: mixed-script chrome, NBSP, curly quotes, a leader's
# name in its own element. The encoding faults must leave its text exactly as it is here.
ARTICLE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Voice of Korea</title>
</head><body>
<div class="top-bar"><a href="/index.php/home/main/ko">조선어</a> <a href="/index.php/home/main/ru">Русский</a>
<a href="/index.php/home/main/en">첫페지로</a></div>
<div class="content-area">
  <div class="article-head">
    <h2 class="article-title">Letters of pledge adopted<br>September 30, 2026</h2>
    <p class="article-date">2026.10.7</p>
  </div>
  <div class="article-body">
    <p>Letters of pledge to
<nobr><strong><font style='font-size:11pt;'>Kim Jong Un</font></strong></nobr>
were adopted at the rallies held in Pyongyang.\u00a0The participants called it \u201ca great honour\u201d.</p>
    <p>Next paragraph: the farmers of Mundok County vowed to bring in a bumper harvest \u2014 again.</p>
  </div>
</div>
<div class="footer">Copyright &copy; Voice of Korea.</div>
</body></html>
""".encode("utf-8")

# A "not found" page served with status 200 in the site's own chrome (a soft 404).
NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Voice of Korea</title></head><body>\n"
    "<div class=\"top-bar\"><a href=\"/index.php/home/main/ko\">조선어</a></div>\n"
    "<div class=\"content-area\"><p>Sorry, the page you requested was not found.</p></div>\n"
    "</body></html>\n"
).encode("utf-8")

HUGE_TEXT_NODE = 15 * 1024 * 1024
_TIMEOUT_LIMIT = 60.0  # a "timeout" fault never holds a connection longer than this


@dataclass
class Response:
    """A response to send: status, headers in order, body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def is_html_page(self) -> bool:
        return self.status == 200 and b"</body>" in self.body.lower()


def head(status: int, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    """The status line and headers of a response that closes its connection."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _response(status: str, body: bytes, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body) if length is None else length}",
             "Content-Type: text/html; charset=utf-8", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Request:
    """What the client asked for."""

    target: str  # as sent: path and query
    headers: dict[str, str]  # names lower-cased

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def params(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(urlsplit(self.target).query).items()}


@dataclass
class Served:
    """One response as it went out: which fault, how many bytes, whether the client hung up first."""

    path: str
    fault: str | None
    started: float
    ended: float = 0.0
    sent: int = 0
    client_hung_up: bool = False


class Connection:
    """The socket of one request, counting what is written to it."""

    def __init__(self, sock: socket.socket, served: Served, server):
        self.sock = sock
        self.served = served
        self.server = server

    def send(self, data: bytes) -> bool:
        """Write all of ``data``; False when the client has hung up."""
        view = memoryview(data)
        while view:
            try:
                # send(), not sendall(): a body abandoned half-way must show how much of it went out.
                written = self.sock.send(view[:65536])
            except OSError:
                self.served.client_hung_up = True
                return False
            self.served.sent += written
            view = view[written:]
        return True

    def respond(self, response: Response) -> None:
        body = b"" if response.status in (204, 304) else response.body
        self.send(head(response.status, response.headers, None if response.status in (204, 304) else len(body)) + body)

    def reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()

    def wait_for_hangup(self, limit: float = _TIMEOUT_LIMIT) -> None:
        """Hold the connection without answering until the client gives up (or the server stops)."""
        stop = time.monotonic() + limit
        while time.monotonic() < stop and not self.server.stopping:
            readable, _, _ = select.select([self.sock], [], [], 0.05)
            if readable:
                try:
                    if not self.sock.recv(4096):
                        self.served.client_hung_up = True
                        return
                except OSError:
                    self.served.client_hung_up = True
                    return

    def pause(self, seconds: float) -> bool:
        """Sleep, but notice a server stop; False if the server is stopping."""
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            if self.server.stopping:
                return False
            time.sleep(min(0.05, max(0.0, stop - time.monotonic())))
        return True


# --- the faults --------------------------------------------------------------------------------------
#
# Each takes (connection, request, good) where good() returns the response the page should have had,
# and returns the fault's name if it was applied, None if it could not apply (the good response is
# then sent as it is). Content faults need an HTML page with status 200.


def _html_headers(response: Response, content_type: str | None = None) -> dict[str, str]:
    headers = {k: v for k, v in response.headers.items() if k in ("ETag", "Last-Modified")}
    headers["Content-Type"] = content_type or response.content_type() or "text/html; charset=utf-8"
    return headers


def _status_fault(status: int, retry_after: str | None = None):
    def fault(conn: Connection, request: Request, good) -> str:
        headers = {"Content-Type": "text/html; charset=utf-8"}
        after = request.params.get("after")
        if retry_after == "seconds":
            headers["Retry-After"] = str(after or conn.server.retry_after)
        elif retry_after == "date":
            when = time.time() + float(after or conn.server.retry_after)
            headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
        body = f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>".encode()
        conn.respond(Response(status, headers, body))
        return "status-%d" % status if retry_after is None else f"{status}-retry-after-{retry_after}"

    return fault


def fault_reset(conn, request, good):
    conn.reset()
    return "reset"


def fault_empty(conn, request, good):
    conn.close()
    return "empty"


def fault_timeout(conn, request, good):
    conn.wait_for_hangup()
    return "timeout"


def fault_truncated(conn, request, good):
    page = good()
    if page.status != 200 or not page.body:
        return None
    conn.send(head(200, _html_headers(page), len(page.body)) + page.body[: len(page.body) // 2])
    conn.close()
    return "truncated"


def fault_drip(conn, request, good):
    page = good()
    if page.status != 200 or not page.body:
        return None
    interval = float(request.params.get("interval", conn.server.drip_interval))
    if not conn.send(head(200, _html_headers(page), len(page.body))):
        return "drip"
    for index in range(len(page.body)):
        if not conn.pause(interval) or not conn.send(page.body[index : index + 1]):
            break
    return "drip"


def fault_drip_headers(conn, request, good):
    # A tarpit: the status line and headers one byte at a time, each byte well within any read timeout.
    page = good()
    interval = float(request.params.get("interval", conn.server.drip_interval))
    padding = {f"X-Padding-{n}": "." * 60 for n in range(200)}  # under h11's 16 KB header limit
    data = head(page.status, {**_html_headers(page), **padding}, len(page.body)) + page.body
    for index in range(len(data)):
        if not conn.pause(interval) or not conn.send(data[index : index + 1]):
            break
    return "drip-headers"


def fault_endless(conn, request, good):
    conn.send(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
    chunk = b"x" * 65536
    while not conn.server.stopping and conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk)):
        pass
    return "endless"


def fault_redirect_loop(conn, request, good):
    conn.respond(Response(302, {"Location": request.target, "Content-Type": "text/html"}, b""))
    return "redirect-loop"


def fault_redirect_home(conn, request, good):
    # The site's way of saying "no such article": a redirect to the home page, which answers 200.
    conn.respond(Response(302, {"Location": HOME_PATH, "Content-Type": "text/html"}, b""))
    return "redirect-home"


def fault_soft_404(conn, request, good):
    conn.respond(Response(200, {"Content-Type": "text/html; charset=utf-8"}, NOT_FOUND_PAGE))
    return "soft-404"


def fault_empty_body(conn, request, good):
    conn.respond(Response(200, {"Content-Type": "text/html; charset=utf-8"}, b""))
    return "empty-body"


def _content_fault(name: str, transform):
    """A fault that rewrites a good HTML page: transform(response) -> (content_type, body) or None."""

    def fault(conn: Connection, request: Request, good) -> str | None:
        page = good()
        if not page.is_html_page():
            return None
        changed = transform(page, request)
        if changed is None:
            return None
        content_type, body = changed
        chunked = request.params.get("chunked") == "1"
        headers = _html_headers(page, content_type)
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
            conn.send(head(200, headers))
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                if not conn.send(b"%x\r\n%s\r\n" % (len(piece), piece)):
                    return name
            conn.send(b"0\r\n\r\n")
        else:
            conn.send(head(200, headers, len(body)) + body)
        return name

    return fault


_META = re.compile(rb"<meta[^>]*charset[^>]*>\s*", re.IGNORECASE)
_FOOTER = re.compile(rb'(<div class="footer">)')
_BODY_DIV = re.compile(rb'<div class="article-body">.*?</div>\s*', re.DOTALL)
_PARAGRAPH_WORD = re.compile(rb"(<p>[^<]{3})")


def _without_meta(body: bytes) -> bytes:
    return _META.sub(b"", body, count=1)


def _incomplete(page: Response, request):
    # Cut mid-page with an honest Content-Length: the bytes all arrive, the page does not.
    return page.content_type(), page.body[: int(len(page.body) * 0.55)]


def _huge_text_node(page: Response, request):
    node = b"x" * HUGE_TEXT_NODE
    body = page.body.replace(b"</body>", b"<p>" + node + b"</p></body>", 1)
    return page.content_type(), body


def _charset_contradicts(page: Response, request):
    # The header names a single-byte charset, the bytes are UTF-8: the commonest server misconfiguration.
    return "text/html; charset=iso-8859-1", _without_meta(page.body)


def _meta_contradicts(page: Response, request):
    body = _without_meta(page.body).replace(b"<head>", b'<head>\n<meta charset="windows-1252">', 1)
    return "text/html", body


def _no_charset(page: Response, request):
    return "text/html", _without_meta(page.body)


def _invalid_utf8(page: Response, request):
    # Stray bytes that are no UTF-8 at all, outside the article, on a page that declares no charset.
    body = _FOOTER.sub(b"\xff\xfe\xc3(\x80 \\1", _without_meta(page.body), count=1)
    return "text/html", body


def _legacy_cp1252(page: Response, request):
    # The same page as a legacy windows-1252 site would send it: characters outside it as references.
    text = _without_meta(page.body).decode("utf-8")
    return "text/html", text.encode("cp1252", "xmlcharrefreplace")


def _nul_bytes(page: Response, request):
    # NULs inside words of every paragraph and as padding after the end, as half-written pages have.
    body = _PARAGRAPH_WORD.sub(lambda m: m.group(1) + b"\x00", page.body) + b"\x00" * 64
    return "text/html; charset=utf-8", body


def _bom_utf16(page: Response, request):
    # A UTF-16 page with its byte-order mark, served under a header that says otherwise.
    return "text/html; charset=iso-8859-1", b"\xff\xfe" + page.body.decode("utf-8").encode("utf-16-le")


def _no_container(page: Response, request):
    if b'class="article-body"' not in page.body:
        return None
    return page.content_type(), page.body.replace(b'class="article-body"', b'class="story-text"', 1)


def _body_missing(page: Response, request):
    if b'class="article-body"' not in page.body:
        return None
    return page.content_type(), _BODY_DIV.sub(b"", page.body, count=1)


FAULTS = {
    # transport
    "reset": fault_reset,
    "empty": fault_empty,
    "timeout": fault_timeout,
    "truncated": fault_truncated,
    "drip": fault_drip,
    "drip-headers": fault_drip_headers,
    "endless": fault_endless,
    "redirect-loop": fault_redirect_loop,
    "redirect-home": fault_redirect_home,
    # status codes
    **{f"status-{code}": _status_fault(code) for code in (400, 403, 404, 408, 410, 429, 500, 502, 503, 504)},
    "429-retry-after-seconds": _status_fault(429, "seconds"),
    "503-retry-after-seconds": _status_fault(503, "seconds"),
    "429-retry-after-date": _status_fault(429, "date"),
    "503-retry-after-date": _status_fault(503, "date"),
    # pages that arrive whole but are not what they should be
    "soft-404": fault_soft_404,
    "empty-body": fault_empty_body,
    "incomplete": _content_fault("incomplete", _incomplete),
    "huge-text-node": _content_fault("huge-text-node", _huge_text_node),
    "no-container": _content_fault("no-container", _no_container),
    "body-missing": _content_fault("body-missing", _body_missing),
    # encodings
    "charset-contradicts": _content_fault("charset-contradicts", _charset_contradicts),
    "meta-contradicts": _content_fault("meta-contradicts", _meta_contradicts),
    "no-charset": _content_fault("no-charset", _no_charset),
    "invalid-utf8": _content_fault("invalid-utf8", _invalid_utf8),
    "legacy-cp1252": _content_fault("legacy-cp1252", _legacy_cp1252),
    "nul-bytes": _content_fault("nul-bytes", _nul_bytes),
    "bom-utf16": _content_fault("bom-utf16", _bom_utf16),
}
RETRYABLE_STATUS_FAULTS = ["status-408", "status-429", "status-500", "status-502", "status-503", "status-504",
                           "429-retry-after-seconds", "503-retry-after-seconds", "429-retry-after-date",
                           "503-retry-after-date"]
TRANSPORT_FAULTS = ["reset", "empty", "timeout", "truncated", "drip", "drip-headers", "endless", "redirect-loop"]
BROKEN_PAGE_FAULTS = ["redirect-home", "soft-404", "empty-body", "incomplete", "huge-text-node", "body-missing"]
ENCODING_FAULTS = ["charset-contradicts", "meta-contradicts", "no-charset", "invalid-utf8", "legacy-cp1252",
                   "nul-bytes", "bom-utf16"]
# Faults after which the page must still be stored with exactly its text.
HARMLESS_FAULTS = ENCODING_FAULTS + ["no-container"]
# What a crawl through the proxy meets by default: everything that a live, healthy article can suffer.
# 404 and 410 are left out: said twice they are, by contract, a removal (tests add them where they are safe).
DEFAULT_MIX = RETRYABLE_STATUS_FAULTS + TRANSPORT_FAULTS + BROKEN_PAGE_FAULTS + HARMLESS_FAULTS + ["status-400", "status-403"]

ROBOTS = {
    "missing": Response(404, {"Content-Type": "text/html"}, b"<html><body>not found</body></html>"),
    "allow": Response(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /hls/\n"),
    "disallow": Response(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n"),
    "5xx": Response(503, {"Content-Type": "text/html"}, b"<html><body>busy</body></html>"),
}


def read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[1], headers)


class _Handler(socketserver.BaseRequestHandler):
    server: _FaultTCPServer

    def handle(self):
        request = read_request(self.request)
        if request is None:
            return
        self.server.handle_request_with_faults(self.request, request)


class _FaultTCPServer(socketserver.ThreadingTCPServer):
    """What the fault server and the proxy share: the socket loop, logs and the fault dispatch."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, robots: str = "missing", retry_after: float = 1, drip_interval: float = 0.05):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots = robots
        self.retry_after = retry_after
        self.drip_interval = drip_interval
        self.stopping = False
        self.log: list[tuple[str, float]] = []
        self.served: list[Served] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Start serving in a background thread; returns self."""
        return self.__enter__()

    def stop(self) -> None:
        self.stopping = True
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def requests_to(self, path: str) -> list[float]:
        """When each request for ``path`` (path and query as sent) arrived."""
        with self.lock:
            return [at for p, at in self.log if p == path]

    def choose(self, request: Request) -> str | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def good_response(self, request: Request, conditional: bool = True) -> Response:  # pragma: no cover
        raise NotImplementedError

    def handle_request_with_faults(self, sock: socket.socket, request: Request) -> None:
        arrived = time.monotonic()
        if request.path == "/robots.txt" and self.robots != "pass":
            fault = "robots-" + self.robots
        else:
            fault = self.choose(request)
        served = Served(request.target, fault, arrived)
        with self.lock:
            self.log.append((request.target, arrived))
            self.served.append(served)
        conn = Connection(sock, served, self)
        try:
            if fault is None:
                conn.respond(self.good_response(request))
            elif fault.startswith("robots-"):
                if self.robots == "timeout":
                    conn.wait_for_hangup()
                else:
                    conn.respond(ROBOTS[self.robots])
            else:
                cache: list[Response] = []

                def good() -> Response:
                    # A fault that rewrites the page wants the page itself, not a 304.
                    if not cache:
                        cache.append(self.good_response(request, conditional=False))
                    return cache[0]

                applied = FAULTS[fault](conn, request, good)
                served.fault = applied
                if applied is None:
                    conn.respond(good())
        finally:
            served.ended = time.monotonic()

    def counts(self) -> Counter:
        """How many responses of each fault were sent (robots faults included)."""
        with self.lock:
            return Counter(s.fault for s in self.served if s.fault and s.fault != "robots-missing")


class FaultServer(_FaultTCPServer):
    """Answers ``/{fault}/...`` with that fault (see the module docstring); ``robots`` picks robots.txt's answer."""

    def __init__(self, robots: str = "missing", retry_after: float = 1, drip_interval: float = 0.05,
                 page: bytes = ARTICLE):
        super().__init__(robots=robots, retry_after=retry_after, drip_interval=drip_interval)
        self.page = page
        self._seen: Counter = Counter()

    # Routes kept from the first version of this server: /ok, /drip (an endless drip of "x"), /flaky.
    def choose(self, request: Request) -> str | None:
        with self.lock:
            self._seen[request.target] += 1
            nth = self._seen[request.target]
        name = request.path.strip("/").split("/")[0]
        if name == "flaky":
            return "empty" if nth == 1 else None
        if name not in FAULTS:
            return None
        times = request.params.get("times")
        if times is not None and nth > int(times):
            return None
        return name

    def good_response(self, request: Request, conditional: bool = True) -> Response:
        name = request.path.strip("/").split("/")[0]
        if name in ("ok", "flaky"):
            return Response(200, {"Content-Type": "text/html; charset=utf-8"}, PAGE)
        if name == "drip" and "interval" not in request.params:
            # The original /drip: a body of 100,000 "x" that never ends in any test's lifetime.
            return Response(200, {"Content-Type": "text/html; charset=utf-8"}, b"x" * 100_000)
        if request.path == HOME_PATH:
            return Response(200, {"Content-Type": "text/html; charset=utf-8"},
                            b"<html><head><title>Voice of Korea</title></head><body><div class=\"block\"></div></body></html>")
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, self.page)


# --- the ledger behind docs/reliability.md ----------------------------------------------------------

LEDGER: Counter = Counter()  # (fault, outcome) -> count


def record(counts, outcome: str = "survived") -> None:
    """Add a passing test's injected faults (a Counter or dict name -> count) to the ledger."""
    for name, count in dict(counts).items():
        if count and name != "robots-missing":
            LEDGER[(name, outcome)] += int(count)


def _write_ledger() -> None:
    path = os.environ.get("DPRK_FAULT_LEDGER")
    if not path or not LEDGER:
        return
    rows = [{"fault": name, "outcome": outcome, "count": count} for (name, outcome), count in sorted(LEDGER.items())]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(rows, out, indent=1)


atexit.register(_write_ledger)


# What each fault is and what the archive must do about it: the rows of the table in docs/reliability.md.
DESCRIPTIONS = {
    "reset": "connection reset (RST) before any reply: retried, then an error; never a version or a removal",
    "empty": "connection closed without a reply: retried, then an error",
    "timeout": "request accepted, never answered: abandoned at the read timeout or the total deadline",
    "truncated": "body shorter than its Content-Length: retried, never stored",
    "drip": "body dripped a byte at a time: abandoned at the total deadline",
    "drip-headers": "status line and headers dripped a byte at a time (a tarpit): abandoned at the deadline",
    "endless": "a chunked body that never ends: cut at the size cap, the rest never read",
    "redirect-loop": "a redirect to itself: given up without retry",
    "redirect-home": "a redirect to the home page (the site's soft 404): an error, never a removal",
    **{f"status-{code}": f"HTTP {code}: retried up to 3 attempts, then an error; never a removal"
       for code in (408, 429, 500, 502, 503, 504)},
    "status-400": "HTTP 400: not retried, an error",
    "status-403": "HTTP 403 (a ban): not retried, an error; never a removal",
    "status-404": "HTTP 404: once is an error (or 'missing'), removal only when a later check confirms it",
    "status-410": "HTTP 410: as 404",
    "429-retry-after-seconds": "429 with Retry-After in seconds: waited for, up to the cap",
    "503-retry-after-seconds": "503 with Retry-After in seconds: waited for, up to the cap",
    "429-retry-after-date": "429 with Retry-After as an HTTP date: waited for, up to the cap",
    "503-retry-after-date": "503 with Retry-After as an HTTP date: waited for, up to the cap",
    "soft-404": "200 page in the site's chrome that says 'not found': an error, never a version or a removal",
    "empty-body": "200 with an empty body: an error",
    "incomplete": "page cut mid-way with an honest Content-Length: 'truncated page', never a version",
    "huge-text-node": "a 15 MB text node: refused at the size cap before or while reading",
    "no-container": "article container renamed: the density fallback stores the same text",
    "body-missing": "article body removed, chrome left: an error, never a chrome-only version",
    "charset-contradicts": "header says iso-8859-1, bytes are UTF-8: same text stored, decision recorded",
    "meta-contradicts": "<meta> says windows-1252, bytes are UTF-8: same text stored",
    "no-charset": "no charset in header or page: same text stored (UTF-8 by validity)",
    "invalid-utf8": "stray invalid bytes in the footer, no charset: article text unchanged",
    "legacy-cp1252": "the page as windows-1252 with character references: same text stored",
    "nul-bytes": "NUL bytes inside words and after the end: same text stored",
    "bom-utf16": "UTF-16 with a BOM under a header that says otherwise: same text stored",
    "robots-disallow": "robots.txt disallows everything: nothing else is fetched, the run fails",
    "robots-5xx": "robots.txt answers 5xx: treated as 'disallow all' (RFC 9309), nothing fetched",
    "robots-timeout": "robots.txt never answers: treated as unreachable, nothing fetched",
    # Not faults of the server: what the crash tests do to the processes and files themselves.
    "404 or 410 twice on a known article": "a real removal: marked removed only after the second answer, versions kept",
    "SIGKILL during a crawl": "crawler killed at a random point: the DB passes integrity_check, every version is "
                              "complete, the next run finishes the work with no duplicates",
    "SIGKILL during build": "build killed at a random point: the published file byte-identical, no -wal/-journal",
    "corrupted temporary file (garbage pages)": "the build's temporary file overwritten with garbage before the "
                                                "check: refused, the published file byte-identical",
    "corrupted temporary file (truncated)": "the build's temporary file cut short before the check: refused, "
                                            "the published file byte-identical",
    "leftover temporary files (garbage)": "files a killed build left behind: removed by the next build, "
                                          "nothing else in the folder touched",
    # Attacks on the published site (tests/test_site_security.py, tests/test_browser.py, tests/test_site_load.py).
    "write or schema change in SQL (INSERT, UPDATE, DELETE, DROP, CREATE, WITH … INSERT, PRAGMA)":
        "refused with an error; the table still answers",
    "ATTACH or load_extension": "refused (Datasette's check, SQLite's attach limit 0 and an authorizer)",
    "stacked statements": "refused: one statement per query",
    "POST, PUT, PATCH or DELETE to query, canned query, table, row or /-/ pages":
        "405 before Datasette sees it; no cookie set",
    "runaway query (WITH RECURSIVE, randomblob, zeroblob, printf)":
        "stopped by the SQL time limit or the 10 MB value cap, the server unharmed",
    "off-site redirect (/\\host, //host, %5C)": "404, never a Location header leaving the site",
    "scraped <script>, event handler or javascript: URL on a page":
        "shown as text on every page type, feed and search result; never live markup or a javascript: link",
    "scraped script in Chromium (alert dialogs watched)":
        "pages showing the payloads, search-all's script-rendered results included: no dialog, no live element",
    "published file after the attack suite (sha256, -wal, -journal)": "sha256 unchanged, nothing beside it",
    "20 concurrent clients for 30 s (requests)":
        "list, facet, search, SQL, CSV/JSON and download requests: no 5xx, every answer checked against sqlite3",
}


def ledger_table(rows: list[dict]) -> str:
    """The rows of a written ledger as a Markdown table: fault, what it is, injected, outcome.

    Every described fault gets a row: one the run never injected shows 0 and "not injected", so a gap
    in the suite is as visible as a fault it survived.
    """
    recorded = {row["fault"] for row in rows}
    rows = rows + [{"fault": name, "count": 0, "outcome": "**not injected**"} for name in DESCRIPTIONS
                   if name not in recorded]
    order = {name: position for position, name in enumerate(DESCRIPTIONS)}
    lines = ["| fault or attack | what it is, and what must happen | injected | outcome |", "|---|---|---:|---|"]
    for row in sorted(rows, key=lambda r: (order.get(r["fault"], len(order)), r["fault"], r["outcome"])):
        # Markdown would take "<script>" or "<meta>" in a row for markup of its own.
        what = DESCRIPTIONS.get(row["fault"], "").replace("<", "&lt;")
        fault = row["fault"].replace("|", "\\|").replace("<", "&lt;")
        lines.append(f"| {fault} | {what} | {row['count']:,} | {row['outcome']} |")
    return "\n".join(lines)


def write_ledger_table(doc: str, table: str) -> None:
    """Replace the table between the ledger markers of docs/reliability.md."""
    with open(doc, encoding="utf-8") as handle:
        text = handle.read()
    start = text.index("\n", text.index("<!-- ledger")) + 1
    end = text.index("<!-- /ledger -->")
    with open(doc, "w", encoding="utf-8") as handle:
        handle.write(text[:start] + table + "\n" + text[end:])


if __name__ == "__main__":
    # python tests/faultserver.py build/fault-ledger.json [--write docs/reliability.md]
    with open(sys.argv[1], encoding="utf-8") as handle:
        ledger = ledger_table(json.load(handle))
    if sys.argv[2:3] == ["--write"]:
        write_ledger_table(sys.argv[3], ledger)
    else:
        print(ledger)
