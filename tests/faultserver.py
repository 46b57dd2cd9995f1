"""A loopback HTTP server that misbehaves on purpose, one path per fault (in the manner of Scrapy's mockserver).

It speaks raw sockets so it can do what a well-behaved HTTP library will not: reset connections,
close without replying, send less than its Content-Length, drip bytes, never finish.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time


def _response(status: str, body: bytes, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body) if length is None else length}",
             "Content-Type: text/html; charset=utf-8", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


PAGE = b"<html><body><p>fine</p></body></html>"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
        path = data.split(b" ", 2)[1].decode()
        self.server.log.append((path, time.monotonic()))
        fault = getattr(self, "fault_" + path.strip("/").split("/")[0].replace("-", "_"), None)
        (fault or self.fault_ok)(path)

    def send(self, payload: bytes):
        self.request.sendall(payload)

    def fault_ok(self, path):
        self.send(_response("200 OK", PAGE))

    def fault_robots_txt(self, path):
        self.send(_response("404 Not Found", b""))

    def fault_reset(self, path):
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()

    def fault_empty(self, path):
        self.request.close()

    def fault_truncated(self, path):
        self.send(_response("200 OK", PAGE[:20], length=len(PAGE)))

    def fault_drip(self, path):
        self.send(_response("200 OK", b"", length=100_000))
        for _ in range(100_000):
            try:
                self.send(b"x")
            except OSError:
                return
            time.sleep(0.05)

    def fault_endless(self, path):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        try:
            while True:
                self.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            return

    def fault_flaky(self, path):
        # Fails the first time each path is asked for, then answers: a retry must recover it.
        count = sum(1 for p, _ in self.server.log if p == path)
        if count == 1:
            self.request.close()
        else:
            self.fault_ok(path)


class FaultServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[tuple[str, float]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
