"""The sandbox servers against slow and numerous clients, and the CA against code guessing.

Real servers on 127.0.0.1 over TLS. A client trickling its body one byte a second is cut
at the whole-body deadline (before: the timeout was per piece, so a byte every 14 s held
a connection for days); connections past the cap are turned away; the CA answers an
unknown reference number exactly as a wrong code and counts wrong tries per reference
and per source address (127.0.0.2 and 127.0.0.3 are other clients on loopback).
"""

from __future__ import annotations

import select
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ca_server import start_ca
from csos_desktop.sandbox.codes import DEFAULT_MAX_ATTEMPTS, SOURCE_MAX_FAILURES, CodeStore
from csos_desktop.sandbox.https import RunningServer
from csos_desktop.sandbox.limits import RequestLimits
from tests.integration.distributor.conftest import StartSandbox
from tests.integration.distributor.test_limits import _answer, _connect

#: Short enough for a test, long enough for a loaded machine to send the headers.
DEADLINE = RequestLimits(body_timeout=2.0, max_connections=3)
BODY = 12  # bytes declared; sent one a second, they would take 12 s


def _trickle(url: str, ca_bundle: Path, path: str) -> tuple[int, bytes, int]:
    """POST a BODY-byte body one byte a second; (status, answer, bytes sent by then)."""
    sock = _connect(url, ca_bundle)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {BODY}\r\n\r\n".encode()
    )
    sent = 0
    while sent < BODY:
        readable, _, _ = select.select([sock], [], [], 1.0)
        if readable or sock.pending():
            sock.setblocking(False)
            try:
                first = sock.recv(65536)
            except ssl.SSLWantReadError:  # a TLS 1.3 session ticket, not an answer
                continue
            finally:
                sock.setblocking(True)
            status, data = _answer(sock, first)
            sock.close()
            return status, data, sent
        sock.sendall(b"{")
        sent += 1
    status, data = _answer(sock)
    sock.close()
    return status, data, sent


def test_the_distributor_cuts_a_trickled_body_at_the_deadline(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(limits=DEADLINE)
    status, data, sent = _trickle(sandbox.url, sandbox.running.tls.ca_bundle, "/v1/orders")
    assert status == 408 and b"request-timeout" in data, data[:300]
    assert sent < BODY  # answered while the client was still sending


@pytest.fixture
def ca_server(tmp_path: Path) -> Iterator[tuple[RunningServer, TestCa]]:
    ca = TestCa.init(tmp_path / "ca")
    server = start_ca(ca, limits=DEADLINE)
    yield server, ca
    server.stop()


def test_the_ca_cuts_a_trickled_body_at_the_deadline(
    ca_server: tuple[RunningServer, TestCa],
) -> None:
    server, _ = ca_server
    status, data, sent = _trickle(server.url, server.tls.ca_bundle, "/revocation-request")
    assert status == 408, data[:300]
    assert sent < BODY


def test_connections_past_the_cap_are_turned_away(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(limits=DEADLINE)
    ca_bundle = sandbox.running.tls.ca_bundle
    held = []
    for _ in range(DEADLINE.max_connections):
        sock = _connect(sandbox.url, ca_bundle)
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n")  # headers never end
        held.append(sock)
    extra = _connect(sandbox.url, ca_bundle)
    status, data = _answer(extra)
    extra.close()
    assert status == 503 and b"too many connections" in data, data[:300]
    for sock in held:
        sock.close()
    with sandbox.client() as client:  # once they are gone, the server serves again
        assert client.health() is not None


def _client(server: RunningServer, source: str) -> httpx.Client:
    tls = ssl.create_default_context(cafile=str(server.tls.ca_bundle))
    transport = httpx.HTTPTransport(verify=tls, local_address=source)
    return httpx.Client(base_url=server.url, transport=transport, timeout=10)


def _ask(client: httpx.Client, reference: str, code: str) -> httpx.Response:
    return client.get("/enrolment/application", auth=(reference, code))


def _codes(ca: TestCa) -> tuple[str, str]:
    issued = CodeStore(ca.directory).issue(
        name="Main Street Pharmacy", dea_number="AB1234563", schedules=parse_schedule_list("2")
    )
    return issued.reference_number, issued.authorization_code


def test_the_ca_answers_an_unknown_reference_exactly_as_a_wrong_code(
    ca_server: tuple[RunningServer, TestCa],
) -> None:
    server, ca = ca_server
    reference, _ = _codes(ca)
    with _client(server, "127.0.0.1") as client:
        for _ in range(DEFAULT_MAX_ATTEMPTS - 1):
            wrong, unknown = _ask(client, reference, "NOPE"), _ask(client, "0123456789", "NOPE")
            assert (wrong.status_code, wrong.content) == (unknown.status_code, unknown.content)
            assert b"left" not in wrong.content


def test_wrong_codes_lock_out_the_guesser_not_the_applicant(
    ca_server: tuple[RunningServer, TestCa],
) -> None:
    server, ca = ca_server
    reference, code = _codes(ca)
    with _client(server, "127.0.0.2") as guesser:
        for _ in range(DEFAULT_MAX_ATTEMPTS):
            _ask(guesser, reference, "NOPE")
        assert b"locked" in _ask(guesser, reference, code).content
    with _client(server, "127.0.0.1") as applicant:
        assert _ask(applicant, reference, code).status_code == 200


def test_an_address_spraying_reference_numbers_is_locked_out(
    ca_server: tuple[RunningServer, TestCa],
) -> None:
    server, ca = ca_server
    reference, code = _codes(ca)
    with _client(server, "127.0.0.3") as sprayer:
        for n in range(SOURCE_MAX_FAILURES):
            assert _ask(sprayer, f"{n:010d}", "NOPE").status_code == 401
        assert b"locked" in _ask(sprayer, reference, code).content
    with _client(server, "127.0.0.1") as applicant:
        assert _ask(applicant, reference, code).status_code == 200
