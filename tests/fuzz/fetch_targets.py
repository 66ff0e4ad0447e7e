"""The revocation fetcher against hostile HTTP answers: whatever a server a certificate
names sends back (status lines, redirects, lengths that lie, chunked garbage, floods,
stalls, wrong content types), the fetcher returns at most its cap in bytes or raises
FetchFailed, follows no redirect to another server, and stops at its deadline."""

from __future__ import annotations

import contextlib
import functools
import socket
import socketserver
import threading
from dataclasses import dataclass, field

from csos_desktop.trust.crl_cache import CrlUnreadable, parse_crl
from csos_desktop.trust.fetch import FetchFailed, FetchRules, fetch_crl, post_ocsp
from tests.fuzz.targets import count

MAX_BYTES = 64 * 1024
RULES = FetchRules(allow_private=True, deadline=0.4, max_bytes=MAX_BYTES)


@dataclass
class Script:
    """What the hostile server sends next: a head, then body parts with optional stalls."""

    head: bytes = b"HTTP/1.1 200 OK\r\n\r\n"
    parts: list[tuple[float, bytes]] = field(default_factory=list)
    hits: int = 0


class _Hostile(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.script = Script()
        self.stop = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.BaseRequestHandler):
    server: _Hostile

    def handle(self) -> None:
        script = self.server.script
        script.hits += 1
        self.request.settimeout(2.0)
        try:
            self.request.recv(65536)  # the request; its content does not matter here
            self.request.sendall(script.head)
            for stall, part in script.parts:
                if stall and self.server.stop.wait(stall):
                    return
                self.request.sendall(part)
            self.request.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client gave up first, as it may


@functools.cache
def servers() -> tuple[_Hostile, _Hostile]:
    """The hostile server, and an "inside" one a redirect may point at (never asked)."""
    out = []
    for _ in range(2):
        srv = _Hostile()
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        out.append(srv)
    return out[0], out[1]


def check_fetch(script: Script, *, ocsp: bool) -> None:
    count("fetch")
    hostile, inside = servers()
    hostile.script = script
    before = inside.script.hits
    url = f"{hostile.url}/ca.crl"
    try:
        body = post_ocsp(url, b"\x30\x00", RULES) if ocsp else fetch_crl(url, RULES)
    except FetchFailed as exc:
        text = str(exc)
        assert "HTTP/1" not in text and "Traceback" not in text, text
        body = None
    assert inside.script.hits == before, "a redirect to another server was followed"
    if body is not None:
        assert len(body) <= MAX_BYTES
        with contextlib.suppress(CrlUnreadable):
            parse_crl(body)
