"""AS2 on 127.0.0.1: a signed, encrypted message, a signed MDN whose MIC is checked.

The partner is a real HTTP server on loopback running the receiving side of
``pki.as2_message`` (decrypt, verify, answer with a signed MDN); the AS2 keys are RSA
key files with self-signed certificates, as AS2 partners exchange them.
"""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from csos_desktop.pki.as2_message import (
    As2Error,
    As2Party,
    As2Problem,
    build_mdn,
    build_message,
    open_message,
)
from csos_desktop.sandbox.as2_parties import self_signed_party
from csos_desktop.sync.as2 import As2Connection, send_as2

NOW = datetime.now(UTC).replace(microsecond=0)
PAYLOAD = b"\x30\x80 a signed 850 stands here \x00\xff"


def party(name: str) -> As2Party:
    return self_signed_party(name, NOW)


PHARMACY, DISTRIBUTOR, STRANGER = party("pharmacy"), party("distributor"), party("stranger")


@dataclass
class Partner:
    url: str
    received: list[bytes]
    #: Changes the MDN's MIC (a partner that received other bytes, or a forger).
    mic: Callable[[str], str] = lambda mic: mic


@pytest.fixture()
def partner() -> Iterator[Partner]:
    state = Partner("", [])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            message_id = self.headers["Message-ID"]
            try:
                opened = open_message(
                    self.headers["Content-Type"], body, DISTRIBUTOR, PHARMACY.certificate
                )
                state.received.append(opened.payload)
                mdn_type, mdn = build_mdn(message_id, state.mic(opened.mic), DISTRIBUTOR, NOW)
            except As2Error as exc:
                mdn_type, mdn = build_mdn(message_id, "", DISTRIBUTOR, NOW, error=exc.problem.value)
            self.send_response(200)
            self.send_header("Content-Type", mdn_type)
            self.send_header("Content-Length", str(len(mdn)))
            self.end_headers()
            self.wfile.write(mdn)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/as2"
    yield state
    server.shutdown()
    server.server_close()


def connection(url: str, ours: As2Party = PHARMACY, *, encrypt: bool = True) -> As2Connection:
    return As2Connection(url, "PHARMACY", "DISTRIBUTOR", ours, DISTRIBUTOR.certificate, encrypt)


@pytest.mark.parametrize("encrypt", [True, False])
def test_a_signed_order_goes_over_as2_and_its_signed_mdn_is_verified(
    partner: Partner, encrypt: bool
) -> None:
    mdn = send_as2(
        connection(partner.url, encrypt=encrypt), PAYLOAD, message_id="<o-1@csos>", now=NOW
    )
    assert partner.received == [PAYLOAD]  # byte for byte through signing and encryption
    assert mdn.processed and mdn.original_message_id == "<o-1@csos>"
    assert mdn.body and mdn.mic.endswith(", sha-256")


def test_an_mdn_with_another_mic_is_refused(partner: Partner) -> None:
    partner.mic = lambda mic: "AAAA" + mic[4:]
    with pytest.raises(As2Error) as e:
        send_as2(connection(partner.url), PAYLOAD, message_id="<o-2@csos>", now=NOW)
    assert e.value.problem is As2Problem.MDN_MIC and "not the one sent" in str(e.value)


def test_a_message_signed_by_another_key_is_refused_and_the_mdn_says_so(
    partner: Partner,
) -> None:
    with pytest.raises(As2Error) as e:
        send_as2(connection(partner.url, STRANGER), PAYLOAD, message_id="<o-3@csos>", now=NOW)
    assert e.value.problem is As2Problem.MDN_FAILED and "as2-signature" in str(e.value)
    assert partner.received == []


def test_an_unsigned_message_is_refused() -> None:
    with pytest.raises(As2Error) as e:
        open_message("application/x-csos-signed-order", PAYLOAD, DISTRIBUTOR, PHARMACY.certificate)
    assert e.value.problem is As2Problem.NOT_SIGNED


def test_a_changed_byte_in_a_signed_message_is_refused() -> None:
    ctype, body, _ = build_message(
        PAYLOAD, PHARMACY, DISTRIBUTOR.certificate, NOW, message_id="<o-4@csos>", encrypt=False
    )
    with pytest.raises(As2Error) as e:
        # The payload travels in base64: change one of its characters.
        line = base64.encodebytes(PAYLOAD).split(b"\n")[0]
        changed = line[:-4] + (b"AAAA" if not line.endswith(b"AAAA") else b"BBBB")
        assert line in body
        open_message(ctype, body.replace(line, changed, 1), DISTRIBUTOR, PHARMACY.certificate)
    assert e.value.problem is As2Problem.SIGNATURE


def test_a_message_encrypted_for_someone_else_cannot_be_opened() -> None:
    ctype, body, _ = build_message(
        PAYLOAD, PHARMACY, STRANGER.certificate, NOW, message_id="<o-5@csos>"
    )
    with pytest.raises(As2Error) as e:
        open_message(ctype, body, DISTRIBUTOR, PHARMACY.certificate)
    assert e.value.problem is As2Problem.DECRYPTION
