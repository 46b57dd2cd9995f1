"""Harden the public site: cap SQL string/blob sizes, refuse ATTACH, writes and every method but GET, close an
open redirect."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

from datasette import hookimpl

# Nothing published is near this size; a query building a bigger string (randomblob, zeroblob,
# printf padding) is refused before it can eat the server's memory. The progress-handler time limit
# cannot stop such a query: it is one VM instruction.
MAX_VALUE_BYTES = 10_000_000

# Datasette's own databases, which it writes to itself.
_INTERNAL = {"_internal", "_memory"}

_WRITE_ACTIONS = {
    getattr(sqlite3, name)
    for name in (
        "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE",
        "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_TRIGGER",
        "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW", "SQLITE_DROP_INDEX",
        "SQLITE_DROP_TABLE", "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_TABLE", "SQLITE_DROP_TEMP_TRIGGER",
        "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW", "SQLITE_ALTER_TABLE",
        "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_CREATE_VTABLE", "SQLITE_DROP_VTABLE",
        "SQLITE_ATTACH", "SQLITE_DETACH",
    )
}
_DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "writefile", "readfile", "edit"}

# Nothing on a read-only archive is done by POST, PUT or DELETE. Datasette 0.65 answers a POST to a
# table or a read-only canned query with a 500 (an assertion in its view), and a POST to /-/messages
# sets a cookie: refusing every other method before Datasette sees it closes all of these at once.
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def _authorizer(action, arg1, arg2, db_name, trigger):
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_schema"):
        # SQLite itself asks this while an FTS5 table connects (it re-reads the schema); a user's
        # UPDATE of the schema table would still fail, on a file opened read-only and immutable.
        return sqlite3.SQLITE_OK
    if action in _WRITE_ACTIONS:
        # The file is opened immutable already; this also stops what read-only mode allows (temp
        # tables, ATTACH) and any write path a future Datasette might open.
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn, database, datasette):
    """Cap value sizes, forbid ATTACH, and deny every write on the published databases."""
    if database in _INTERNAL:
        return
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.set_authorizer(_authorizer)


def is_unsafe_path(path: str) -> bool:
    """True for paths that Datasette 0.65 would turn into an off-site redirect (/\\host, //host)."""
    return "\\" in path or path.startswith("//") or path.startswith("/\\")


def safe_location(location: str, host: str | None) -> str:
    """A redirect target that stays on this site: off-site targets become "/"."""
    if "\\" in location or any(ord(c) < 32 for c in location):
        return "/"
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        if parts.scheme in ("http", "https") and host and parts.netloc == host:
            return location
        return "/"
    if not location.startswith("/") or location.startswith("//"):
        return "/"
    return location


@hookimpl
def asgi_wrapper(datasette):
    """Answer 405 to any method but GET, 404 to backslash and double-slash paths, keep every Location
    header on this site, and forbid content sniffing."""

    def wrap(app):
        async def guarded(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if scope.get("method", "GET").upper() not in READ_METHODS:
                return await _plain(send, 405, b"Method not allowed: this archive is read-only",
                                    ((b"allow", ", ".join(READ_METHODS).encode()),))
            raw = scope.get("raw_path") or b""
            path = scope.get("path") or ""
            # Datasette 0.65 answers GET /\example.com/ with Location: /\example.com, which browsers
            # read as //example.com. The raw path is checked too: %5C decodes to a backslash.
            if is_unsafe_path(path) or b"\\" in raw or raw.lower().startswith(b"/%5c") or raw.startswith(b"//"):
                return await _not_found(send)
            host = None
            for name, value in scope.get("headers") or []:
                if name == b"host":
                    host = value.decode("latin-1")

            async def send_safe(message):
                if message["type"] == "http.response.start":
                    # Scraped text goes out as CSV and JSON too: a browser must never sniff those as HTML.
                    headers = [(b"x-content-type-options", b"nosniff")]
                    for name, value in message.get("headers") or []:
                        if name.lower() == b"location":
                            value = safe_location(value.decode("latin-1"), host).encode("latin-1")
                        if name.lower() != b"x-content-type-options":
                            headers.append((name, value))
                    message = {**message, "headers": headers}
                await send(message)

            return await app(scope, receive, send_safe)

        return guarded

    return wrap


async def _not_found(send):
    await _plain(send, 404, b"Not found")


async def _plain(send, status: int, body: bytes, extra_headers: tuple[tuple[bytes, bytes], ...] = ()):
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
