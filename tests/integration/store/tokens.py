"""Store tests on the real SoftHSM2 tokens: identity, PIN interaction, signer wrappers, OpenSSL."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order import Order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import token_by_label
from csos_desktop.services.orders.batch import OrderSigner
from csos_desktop.services.orders.order_signer import SignedOrder
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.services.signing.documents import TokenDocumentSigner
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import SigningIdentity, choose_identity, signing_identities
from csos_desktop.token.session import TokenSession
from csos_desktop.token.slots import TokenInfo
from tests.conftest import TEST_PIN, Provisioned


def open_identity(prov: Provisioned) -> tuple[TokenSession, SigningIdentity]:
    """A not-yet-logged-in session on the token and its CSOS identity."""
    ts = TokenSession(token_by_label(prov.hsm.module, prov.hsm.label))
    ts.open_public()
    identity = choose_identity(signing_identities(read_certificates(ts)))
    return ts, identity


@contextmanager
def document_signer(prov: Provisioned, ca: TestCa) -> Iterator[TokenDocumentSigner]:
    """The pharmacist's token, logged in, signing documents (receipts, archive manifests)."""
    with prov.session() as ts:
        identity = choose_identity(signing_identities(read_certificates(ts)))
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        yield TokenDocumentSigner(
            SigningSession(ts, identity, chain, SigningPurpose.ARCHIVE_MANIFEST)
        )


class TestPin:
    """The Interaction a pharmacist would be: types the PIN when asked, counts the asks."""

    __test__ = False

    def __init__(self) -> None:
        self.asked = 0

    def ask_pin(self, token: TokenInfo, warning: str | None) -> str | None:
        self.asked += 1
        return TEST_PIN

    def show_pin_pad_prompt(self, token: TokenInfo) -> None:
        raise AssertionError("SoftHSM2 has no PIN pad")

    def notify(self, message: str) -> None:
        pass


class FailsAtSignature:
    """A real signer whose ``n``-th signature is preceded by ``event`` (the token pulled...)."""

    def __init__(self, inner: OrderSigner, n: int, event: Callable[[], None]) -> None:
        self.identity = inner.identity
        self.inner = inner
        self.n = n
        self.event = event
        self.calls = 0
        self.produced: list[SignedOrder] = []

    def sign(self, order: Order) -> SignedOrder:
        self.calls += 1
        if self.calls == self.n:
            self.event()
        signed = self.inner.sign(order)
        self.produced.append(signed)
        return signed


def openssl_verify(
    tmp: Path, ca: TestCa, document: Path, signature: Path
) -> subprocess.CompletedProcess[str]:
    root = tmp / "root.pem"
    root.write_bytes(ca.root_certificate.public_bytes(Encoding.PEM))
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(signature),
            "-content",
            str(document),
            "-CAfile",
            str(root),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
