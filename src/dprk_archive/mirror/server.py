"""The mirror's HTTP server: routing (also as an HTTP proxy for vok.rep.kp), conditional GET, truth and stats."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from ..sources.vok import MEDIA_FAMILIES, TEXT_FAMILIES, classify_url
from . import render
from .site import LISTING_BY_PATH, MirrorSite

_HOME = re.compile(r"^/index\.php/home/main/en/?$")
_COLIST = re.compile(r"^/index\.php/Colist/(?P<name>[A-Za-z0-9]+)/(?P<cat>\d+)/en(?:/(?P<page>\d+))?/?$")
KINDS = ("listing", "article", "media", "robots", "other")
_NOT_FOUND = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
_TRUTH_CHUNK = 1 << 16


class MirrorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server holding the site of the current day and the request counters."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: MirrorSite):
        super().__init__(address, _Handler)
        self.site = site  # replaced whole by set_day: a request keeps the day it started on
        self._counts = dict.fromkeys(KINDS, 0)
        self._counts_lock = threading.Lock()

    def count(self, kind: str) -> None:
        """Count one request of a kind (listing, article, media, robots, other)."""
        with self._counts_lock:
            self._counts[kind] += 1

    def stats(self) -> dict:
        """Requests served since start, by kind, in the /_mirror/stats.json shape."""
        with self._counts_lock:
            return {"requests": dict(self._counts)}

    def handle_error(self, request, client_address) -> None:
        """Stay quiet when a client hangs up mid-response (crawlers time out); report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def is_own_host(self, host: str) -> bool:
        """Whether a Host (or absolute-form authority) names this server rather than vok.rep.kp."""
        return host.rpartition(":")[2] == str(self.server_address[1])


@dataclass
class _Request:
    host: str  # the host links are written for: "vok.rep.kp", "www.vok.rep.kp" or this server's "ip:port"
    path: str
    kind: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a crawler fetches many pages over one connection
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the client's
    # delayed ACK hold every kept-alive response back by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "vok-mirror"
    sys_version = ""
    server: MirrorHTTPServer

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._answer(send_body=True)

    def do_HEAD(self):  # noqa: N802
        self._answer(send_body=False)

    def log_message(self, format, *args):  # noqa: A002
        pass  # a crawl makes thousands of requests; /_mirror/stats.json counts them instead

    def _answer(self, send_body: bool) -> None:
        request = self._request()
        if request is None:
            self.server.count("other")
            return self._send(502, b"The mirror serves only vok.rep.kp.\n", "text/plain; charset=utf-8", send_body)
        if request.path == "/_mirror/truth.json":
            return self._send_truth(self.server.site, send_body)
        if request.path == "/_mirror/stats.json":
            body = json.dumps(self.server.stats()).encode()
            return self._send(200, body, "application/json", send_body)
        self.server.count(request.kind)
        page = self._page(self.server.site, request)
        if page is None:
            return self._send(404, _NOT_FOUND, "text/html; charset=utf-8", send_body)
        if isinstance(page, bytes):
            return self._send(200, page, "text/plain; charset=utf-8", send_body)
        self._send_page(page, send_body)

    def _request(self) -> _Request | None:
        """Where the request is for: absolute-form (proxy use) or origin-form with a Host header."""
        target = self.path
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", target):
            parts = urlsplit(target)
            host = parts.netloc.lower()
            if not _is_vok(host) and not self.server.is_own_host(host):
                return None  # used as a proxy for another site
        else:
            parts = urlsplit(target)
            host = (self.headers.get("Host") or "").strip().lower()
            if not host:
                address, port = self.server.server_address[:2]
                host = f"{address}:{port}"
        if _is_vok(host):
            host = host.removesuffix(":80")
        return _Request(host, parts.path or "/", _kind(parts.path or "/"))

    def _page(self, site: MirrorSite, request: _Request):
        """The page for a path on the site's day, bytes for robots.txt, or None for a 404."""
        path = request.path
        if path == "/robots.txt":
            return render.ROBOTS_TXT
        if _HOME.match(path):
            return render.home_page(site, request.host)
        colist = _COLIST.match(path)
        if colist:
            listing = LISTING_BY_PATH.get((colist["name"], colist["cat"]))
            if listing is None:
                return None
            return render.listing_page(site, listing, int(colist["page"] or 1), request.host)
        info = classify_url(path)
        if info is None or info.family not in TEXT_FAMILIES and info.family not in MEDIA_FAMILIES:
            return None
        item = site.find(info.id)
        # One spelling per item: the wrong family or category for an id is a 404, as is a removed item.
        if item is None or not site.is_live(item.index) or item.family != info.family:
            return None
        if info.category is not None and info.category != item.listing.cat_id:
            return None
        if item.is_media:
            return render.media_page(site, item)
        return render.article_page(site, item, request.host)

    def _send_page(self, page: render.Page, send_body: bool) -> None:
        etag = '"' + hashlib.blake2b(page.body, digest_size=16).hexdigest() + '"'
        modified = calendar.timegm(page.last_modified.timetuple())
        last_modified = formatdate(modified, usegmt=True)
        if _not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), etag, modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return
        self._send(200, page.body, page.content_type, send_body, {"ETag": etag, "Last-Modified": last_modified})

    def _send(self, status: int, body: bytes, content_type: str, send_body: bool, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_truth(self, site: MirrorSite, send_body: bool) -> None:
        """Stream /_mirror/truth.json: at 300,000 articles it is tens of megabytes, built as it goes."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        chunked = self.request_version != "HTTP/1.0"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if not send_body:
            return
        buffer: list[str] = []
        size = 0

        def write(text: str, force: bool = False) -> None:
            nonlocal size
            buffer.append(text)
            size += len(text)
            if size >= _TRUTH_CHUNK or force:
                data = "".join(buffer).encode("utf-8")
                buffer.clear()
                size = 0
                if data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

        for text in truth_json(site):
            write(text)
        write("", force=True)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def truth_json(site: MirrorSite):
    """Yield the ground-truth JSON of a site's day in pieces (day, articles, removed, media, edited)."""
    yield f'{{"day": {site.day}, "articles": ['
    lists: dict[str, list] = {"removed": [], "media": []}
    edited: dict[str, int] = {}
    first = True
    for kind, value in site.truth():
        if kind == "article":
            yield ("" if first else ", ") + json.dumps(value, ensure_ascii=False)
            first = False
        elif kind == "edited":
            edited[value[0]] = value[1]
        else:
            lists[kind].append(value)
    yield f'], "removed": {json.dumps(lists["removed"])}, "media": {json.dumps(lists["media"])}'
    yield f', "edited": {json.dumps(edited)}}}'


def _is_vok(host: str) -> bool:
    return host.removesuffix(":80") in render.VOK_HOSTS


def _kind(path: str) -> str:
    """Which stats counter a path belongs to (home counts as a listing)."""
    if path == "/robots.txt":
        return "robots"
    if _HOME.match(path) or _COLIST.match(path):
        return "listing"
    info = classify_url(path)
    if info is not None and info.family in TEXT_FAMILIES:
        return "article"
    if info is not None and info.family in MEDIA_FAMILIES:
        return "media"
    return "other"


def _not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, modified: int) -> bool:
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2); weak tags compare equal to strong ones.
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since is not None and since.timestamp() >= modified
    return False


class RunningMirror:
    """A mirror serving in a background thread, for tests and for the demo."""

    def __init__(self, server: MirrorHTTPServer, thread: threading.Thread):
        self._server = server
        self._thread = thread
        port = server.server_address[1]
        address = server.server_address[0]
        address = "127.0.0.1" if address in ("0.0.0.0", "") else address
        self.base_url = f"http://{address}:{port}"
        self.port = port

    @property
    def site(self) -> MirrorSite:
        """The site of the day being served."""
        return self._server.site

    @property
    def day(self) -> int:
        return self._server.site.day

    def set_day(self, day: int) -> None:
        """Serve another day from now on (requests in flight finish on the old one)."""
        self._server.site = self._server.site.at_day(day)

    def stats(self) -> dict:
        """Requests served since start, by kind (the /_mirror/stats.json document)."""
        return self._server.stats()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningMirror:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_mirror(host: str = "127.0.0.1", port: int = 0, day: int = 0, articles: int = 300, seed: int = 1) -> RunningMirror:
    """Start a mirror in a background thread (port 0: any free port) and return a handle to it."""
    server = MirrorHTTPServer((host, port), MirrorSite(articles, seed, day))
    # a short poll interval: stop() waits for it, and tests start and stop many mirrors
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="vok-mirror", daemon=True)
    thread.start()
    return RunningMirror(server, thread)


def serve_mirror(host: str, port: int, day: int, articles: int, seed: int) -> None:
    """Serve the mirror until interrupted (the ``dprk-archive mirror`` command)."""
    import click

    started = time.monotonic()
    site = MirrorSite(articles, seed, day)
    try:
        server = MirrorHTTPServer((host, port), site)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    address = f"http://{host}:{server.server_address[1]}"
    print(
        f"Voice of Korea offline mirror (synthetic sample data): day {day}, {site.total:,} items, seed {seed},"
        f" ready in {time.monotonic() - started:.1f} s\n"
        f"  {address}{render.HOME_PATH}\n"
        f"  as vok.rep.kp: use {address} as the HTTP proxy, or send 'Host: vok.rep.kp'\n"
        f"  ground truth {address}/_mirror/truth.json, request counts {address}/_mirror/stats.json",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
