"""The distributor and the CA bound what an unauthenticated client can send.

Raw TLS sockets, because a well-behaved HTTP client would not send a 50 MB body to a
server that already refused it, nor stop half-way through its headers.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ca_server import start_ca
from csos_desktop.sandbox.https import RunningServer
from csos_desktop.sandbox.limits import RequestLimits
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox, signed

FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"x" * 65536
QUICK = RequestLimits(body_timeout=0.5, header_timeout=0.5)


def _connect(url: str, ca_bundle: Path) -> ssl.SSLSocket:
    parts = urlsplit(url)
    ctx = ssl.create_default_context(cafile=str(ca_bundle))
    raw = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=parts.hostname)


def _answer(sock: ssl.SSLSocket, data: bytes = b"") -> tuple[int, bytes]:
    """Status and the whole response (headers and the Content-Length body)."""
    sock.settimeout(10)
    try:
        while not _complete(data):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except (ConnectionResetError, ssl.SSLError):
        pass
    head = data.split(b"\r\n", 1)[0].split()
    return (int(head[1]) if len(head) > 1 else 0), data


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _post_big(url: str, ca_bundle: Path, path: str, *, chunked: bool) -> tuple[int, bytes, int]:
    """POST 50 MB (declared, or chunked without a length); stop when the server answers.

    Non-blocking writes, so a server that stops reading cannot leave the client stuck in
    a send while the answer waits to be read.
    """
    sock = _connect(url, ca_bundle)
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {FIFTY_MB}".encode()
    sock.sendall(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\n" + framing + b"\r\n\r\n"
    )
    piece = (b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n") if chunked else CHUNK
    sent, pending, answer, done = 0, b"", b"", False
    sock.setblocking(False)
    while sent < FIFTY_MB and not done:
        readable, writable, _ = select.select([sock], [sock], [], 10)
        if readable or sock.pending():
            try:  # TLS 1.3 session tickets make the socket readable too: only data counts
                answer = sock.recv(65536)
                done = True  # the answer's first bytes, or the end of the connection
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except (ConnectionResetError, ssl.SSLError):
                break
            continue
        if not writable:
            break  # the server went quiet: read what it said
        pending = pending or piece
        try:
            n = sock.send(pending)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            continue
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            break  # the server answered and closed
        sent += n
        pending = pending[n:]
    sock.setblocking(True)
    status, data = _answer(sock, answer)
    sock.close()
    return status, data, sent


@pytest.mark.parametrize("chunked", [False, True])
def test_distributor_refuses_a_50_mb_body_before_authentication(
    start_sandbox: StartSandbox, chunked: bool
) -> None:
    sandbox = start_sandbox()
    status, data, sent = _post_big(
        sandbox.url, sandbox.running.tls.ca_bundle, "/v1/orders", chunked=chunked
    )
    assert status == 413, data[:300]  # not 401: no token was sent, and it was not checked
    assert b"too-large" in data
    assert sent < 8 * 1024 * 1024  # refused early, not after buffering the lot
    with sandbox.client() as client:  # the server is still serving
        client.health()


def test_distributor_refuses_a_body_that_stops_arriving(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(limits=QUICK)
    sock = _connect(sandbox.url, sandbox.running.tls.ca_bundle)
    sock.sendall(
        b"POST /v1/orders HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n" + b"{" * 10
    )
    started = time.monotonic()
    status, data = _answer(sock)
    sock.close()
    assert status == 408, data[:300]
    assert b"request-timeout" in data
    assert time.monotonic() - started < 8


def test_distributor_closes_a_connection_whose_headers_never_end(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(limits=QUICK)
    sock = _connect(sandbox.url, sandbox.running.tls.ca_bundle)
    sock.sendall(b"POST /v1/orders HTTP/1.1\r\nHost: localhost\r\n")
    deadline = time.monotonic() + 8
    closed = False
    sock.settimeout(1)
    while time.monotonic() < deadline and not closed:
        try:
            sock.sendall(b"X-Slow: 1\r\n")  # a header line at a time, never the blank line
            closed = sock.recv(1024) == b""
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            closed = True
    sock.close()
    assert closed, "the server kept waiting for headers that never end"


def test_a_small_order_still_goes_through_the_limits(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(limits=QUICK)
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
        assert record.status == "accepted", record
        assert client.order(key).status == "accepted"


@pytest.fixture
def ca_server(tmp_path: Path) -> Iterator[tuple[RunningServer, TestCa]]:
    ca = TestCa.init(tmp_path / "ca")
    server = start_ca(ca, limits=RequestLimits(max_body=64 * 1024, body_timeout=0.5))
    yield server, ca
    server.stop()


@pytest.mark.parametrize("path", ["/revocation-request", "/.well-known/est/simpleenroll", "/ocsp"])
def test_ca_refuses_a_50_mb_body_on_every_post(
    ca_server: tuple[RunningServer, TestCa], path: str
) -> None:
    server, _ = ca_server
    status, data, sent = _post_big(server.url, server.tls.ca_bundle, path, chunked=False)
    assert status == 413, data[:300]
    assert b"CSOS-Error: too-large" in data or b"csos-error: too-large" in data.lower()
    assert sent < 8 * 1024 * 1024


def test_ca_refuses_a_slow_body(ca_server: tuple[RunningServer, TestCa]) -> None:
    server, _ = ca_server
    sock = _connect(server.url, server.tls.ca_bundle)
    sock.sendall(
        b"POST /revocation-request HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500\r\n\r\n{"
    )
    status, data = _answer(sock)
    sock.close()
    assert status == 408, data[:300]
