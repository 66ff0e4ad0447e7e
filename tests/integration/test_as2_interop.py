"""AS2 with software we did not write: OpenSSL's S/MIME (`openssl cms`) signs, encrypts,
reads and verifies, as other AS2 products (built on it or on the same RFCs) do.

Partners differ in what the RFCs allow: a base64 signature part, bare LF line ends, a
SHA-1 MIC asked for, header names in other case, "processed/warning", asynchronous or no
receipts. Each is sent or answered here as such a partner would.
"""

from __future__ import annotations

import base64
import email
import hashlib
import http.server
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from csos_desktop.pki.as2_message import As2Error, As2Problem, build_message, verify_mdn
from csos_desktop.sandbox.as2_parties import write_party
from csos_desktop.store import Store, open_store
from csos_desktop.sync.as2_inbox import As2Inbox, serve, serve_in_thread
from tests.integration.test_as2 import DISTRIBUTOR, PHARMACY, STRANGER
from tests.integration.test_as2_inbox import ACK

INBOX = As2Inbox(PHARMACY, "PHARMACY", DISTRIBUTOR.certificate, "DISTRIBUTOR")
#: The part a partner signs: its headers as that software writes them (no encoding header).
PART = b"Content-Type: application/edi-x12\r\n\r\n" + ACK
ASKED_SHA1 = (
    "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha1"
)


@dataclass(frozen=True)
class Files:
    dir: Path
    dist_key: Path
    dist_cert: Path
    pharmacy_key: Path
    pharmacy_cert: Path


@pytest.fixture()
def files(tmp_path: Path) -> Files:
    dk, dc = write_party(tmp_path, "distributor", DISTRIBUTOR)
    pk, pc = write_party(tmp_path, "pharmacy", PHARMACY)
    return Files(tmp_path, dk, dc, pk, pc)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        yield s


def openssl(*args: str | Path, data: bytes | None = None) -> bytes:
    done = subprocess.run(
        ["openssl", *map(str, args)], input=data, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def headers_of(eml: bytes) -> tuple[str, bytes]:
    """(Content-Type, body) of an S/MIME file openssl wrote (CRLF or LF line ends)."""
    crlf = eml.find(b"\r\n\r\n")
    lf = eml.find(b"\n\n")
    cut, gap = (crlf, 4) if crlf >= 0 and (lf < 0 or crlf < lf) else (lf, 2)
    head = eml[:cut].decode().replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ")
    fields = dict(line.split(":", 1) for line in head.split("\n") if ":" in line)
    return fields["Content-Type"].strip(), eml[cut + gap :]


def _sha(name: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(name, data).digest()).decode()


def openssl_signed(files: Files, *, crlf: bool = True, md: str = "sha256") -> bytes:
    """PART signed by the distributor's key with `openssl cms -sign` (detached S/MIME)."""
    (files.dir / "part").write_bytes(PART)
    return openssl(
        "cms", "-sign", "-binary", *(["-crlfeol"] if crlf else []), "-md", md,
        "-in", files.dir / "part", "-signer", files.dist_cert, "-inkey", files.dist_key,
    )  # fmt: skip


def as2_headers(ctype: str, **more: str) -> dict[str, str]:
    return {
        "content-type": ctype,
        "as2-from": "DISTRIBUTOR",
        "as2-to": "PHARMACY",
        "message-id": "<openssl-1@partner>",
        "disposition-notification-to": "mailto:edi@distributor.example",
        **more,
    }


def test_an_openssl_signed_and_encrypted_message_is_taken_with_the_sha1_mic_asked(
    files: Files, store: Store
) -> None:
    signed = openssl_signed(files)
    (files.dir / "signed.eml").write_bytes(signed)
    encrypted = openssl(
        "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER",
        "-in", files.dir / "signed.eml", files.pharmacy_cert,
    )  # fmt: skip
    got = INBOX.handle(
        store,
        as2_headers(
            'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
            **{"disposition-notification-options": ASKED_SHA1},
        ),
        encrypted,
    )
    assert got.problem is None and got.received is not None
    assert store.x12.get(got.received.control_number).document == ACK  # byte for byte
    # The receipt carries the MIC the partner computes itself: SHA-1 over the signed part.
    sha1 = openssl("dgst", "-sha1", "-binary", data=PART)
    mic = base64.b64encode(sha1).decode() + ", sha1"
    assert mic.encode() in got.mdn.replace(b"\r\n", b"\n")
    mdn = verify_mdn(
        got.mdn_type, got.mdn, PHARMACY.certificate, message_id="<openssl-1@partner>", sent_mic=mic
    )
    assert mdn.processed
    # And OpenSSL verifies the signed receipt we wrote (base64 signature part).
    (files.dir / "mdn.eml").write_bytes(f"Content-Type: {got.mdn_type}\r\n\r\n".encode() + got.mdn)
    openssl(
        "cms", "-verify", "-noverify", "-in", files.dir / "mdn.eml",
        "-certfile", files.pharmacy_cert, "-out", files.dir / "report",
    )  # fmt: skip
    assert b"disposition-notification" in (files.dir / "report").read_bytes()


def test_an_openssl_message_with_bare_lf_line_ends_verifies_in_canonical_form(
    files: Files, store: Store
) -> None:
    signed = openssl_signed(files, crlf=False)
    assert b"\r\n" not in signed.split(b"\n\n", 1)[0]  # OpenSSL wrote LF only
    ctype, body = headers_of(signed)
    got = INBOX.handle(store, as2_headers(ctype), body)  # not encrypted (allowed over TLS)
    assert got.problem is None and got.received is not None, got.problem
    assert store.x12.get(got.received.control_number).document == ACK


def test_a_message_whose_signature_does_not_cover_the_part_is_refused(
    files: Files, store: Store
) -> None:
    ctype, body = headers_of(openssl_signed(files))
    tampered = (
        body.replace(b"ISA*", b"ISA|", 1) if b"ISA*" in body else body.replace(b"ST", b"SX", 1)
    )
    got = INBOX.handle(store, as2_headers(ctype), tampered)
    assert got.received is None and got.problem is not None
    assert got.problem.startswith("as2-signature")


def test_openssl_decrypts_and_verifies_the_message_we_send(files: Files) -> None:
    ctype, body, mic = build_message(
        ACK, PHARMACY, DISTRIBUTOR.certificate, DISTRIBUTOR.certificate.not_valid_before_utc,
        message_id="<us@csos-desktop>", payload_type="application/edi-x12",
    )  # fmt: skip
    assert ctype.startswith("application/pkcs7-mime")
    (files.dir / "msg.der").write_bytes(body)
    inner = openssl(
        "cms", "-decrypt", "-inform", "DER", "-in", files.dir / "msg.der",
        "-recip", files.dist_cert, "-inkey", files.dist_key,
    )  # fmt: skip
    (files.dir / "inner.eml").write_bytes(inner)
    content = openssl(
        "cms", "-verify", "-noverify", "-in", files.dir / "inner.eml",
        "-certfile", files.pharmacy_cert,
    )  # fmt: skip
    # The signed part as OpenSSL hands it over; Python's own MIME reader decodes it.
    part = email.message_from_bytes(content)
    assert part.get_content_type() == "application/edi-x12"
    assert part.get_payload(decode=True) == ACK
    # The MIC we expect back is the one the partner computes over that signed part.
    assert mic == _sha("sha256", content) + ", sha-256"


def test_a_foreign_mdn_with_other_spellings_and_a_warning_is_accepted(files: Files) -> None:
    # Header names in another case, a "SHA-256" spelled "sha256", angle brackets dropped,
    # processed with a warning, signed by OpenSSL (base64 signature, LF line ends).
    sent_mic = _sha("sha256", PART) + ", sha-256"
    notification = (
        "original-message-id: us-1@csos-desktop\r\n"
        f"received-content-mic: {_sha('sha256', PART)}, sha256\r\n"
        "disposition: automatic-action/MDN-sent-automatically; "
        "processed/warning: duplicate-document\r\n"
    )
    report = (
        "--R\r\nContent-Type: text/plain\r\n\r\nReceived.\r\n"
        "--R\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"{notification}\r\n--R--\r\n"
    )
    part = (
        b"Content-Type: multipart/report; report-type=disposition-notification; "
        b'boundary="R"\r\n\r\n'
    )
    (files.dir / "report").write_bytes(part + report.encode())
    signed = openssl(
        "cms", "-sign", "-binary", "-in", files.dir / "report",
        "-signer", files.dist_cert, "-inkey", files.dist_key,
    )  # fmt: skip
    ctype, body = headers_of(signed)
    mdn = verify_mdn(
        ctype, body, DISTRIBUTOR.certificate, message_id="<us-1@csos-desktop>", sent_mic=sent_mic
    )
    assert mdn.processed and "warning" in mdn.disposition
    with pytest.raises(As2Error) as wrong:  # another MIC is still refused
        verify_mdn(
            ctype, body, DISTRIBUTOR.certificate, message_id="<us-1@csos-desktop>",
            sent_mic=_sha("sha256", b"other") + ", sha-256",
        )  # fmt: skip
    assert wrong.value.problem is As2Problem.MDN_MIC


def test_no_receipt_asked_none_sent_and_unsigned_when_unsigned_asked(
    files: Files, store: Store
) -> None:
    ctype, body = headers_of(openssl_signed(files))
    quiet = {k: v for k, v in as2_headers(ctype).items() if k != "disposition-notification-to"}
    got = INBOX.handle(store, quiet, body)
    assert got.received is not None and got.mdn == b"" and got.mdn_type == ""
    got = INBOX.handle(store, as2_headers(ctype, **{"message-id": "<openssl-2@partner>"}), body)
    assert got.mdn_type.startswith("multipart/report") and b"processed" in got.mdn


@dataclass
class Catcher:
    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    got_one: threading.Event = field(default_factory=threading.Event)


@pytest.fixture()
def catcher() -> Iterator[Catcher]:
    """The partner's endpoint for asynchronous receipts."""
    state = Catcher()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            state.got_one.set()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/mdn"
    yield state
    server.shutdown()
    server.server_close()


def until(done: Callable[[], bool], seconds: float = 30) -> bool:
    """Poll with sleeps: a timed Event.wait never times out under libfaketime
    (make test-off-hours), time.sleep does."""
    for _ in range(int(seconds / 0.02)):
        if done():
            return True
        time.sleep(0.02)
    return done()


def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.read()


def test_an_asynchronous_receipt_is_posted_to_the_address_the_partner_gave(
    tmp_path: Path, files: Files, catcher: Catcher
) -> None:
    lines: list[str] = []
    server = serve(
        INBOX, lambda: open_store(tmp_path / "csos.db"), "127.0.0.1", 0, report=lines.append
    )
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        ctype, body = headers_of(openssl_signed(files))
        headers = as2_headers(
            ctype,
            **{
                "receipt-delivery-option": catcher.url,
                "disposition-notification-options": ASKED_SHA1,
            },
        )
        status, answer = _post(url, headers, body)
        assert status == 200 and answer == b""  # the receipt does not come on this answer
        assert until(catcher.got_one.is_set)
        [(mdn_headers, mdn)] = catcher.received
        assert mdn_headers["as2-from"] == "PHARMACY" and mdn_headers["as2-to"] == "DISTRIBUTOR"
        verify_mdn(
            mdn_headers["content-type"], mdn, PHARMACY.certificate,
            message_id="<openssl-1@partner>",
            sent_mic=base64.b64encode(hashlib.sha1(PART).digest()).decode() + ", sha1",
        )  # fmt: skip
        # The report line follows the partner's answer.
        assert until(lambda: any("asynchronous receipt delivered" in ln for ln in lines)), lines

        # A message that fails its checks is answered on the spot, and the address it
        # names is never called (it comes from an unauthenticated sender).
        catcher.got_one.clear()
        forged = build_message(
            ACK, STRANGER, PHARMACY.certificate, STRANGER.certificate.not_valid_before_utc,
            message_id="<forged@x>", payload_type="application/edi-x12",
        )  # fmt: skip
        forged_headers = {**headers, "content-type": forged[0], "message-id": "<forged@x>"}
        status, answer = _post(url, forged_headers, forged[1])
        assert status == 200 and b"processed/error: as2-signature" in answer
        time.sleep(1)  # long enough for a POST on loopback, were one made
        assert not catcher.got_one.is_set()
        assert len(catcher.received) == 1
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("md", ["sha1", "sha512"])
def test_a_message_signed_with_another_hash_than_sha_256_is_kept_and_refused_saying_so(
    files: Files, store: Store, md: str
) -> None:
    # One CMS reader for orders, statements and AS2, and it takes SHA-256 signatures only
    # (docs/x12.md); the partner is told which in the error MDN, and the bytes are kept.
    ctype, body = headers_of(openssl_signed(files, md=md))
    got = INBOX.handle(store, as2_headers(ctype), body)
    assert got.received is None and got.problem is not None
    assert got.problem.startswith("as2-signature") and "SHA-256" in got.problem
    assert b"processed/error: as2-signature" in got.mdn
