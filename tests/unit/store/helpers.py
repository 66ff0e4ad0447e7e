"""Store test helpers: a settable clock, a software CSOS signer, sample order input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import Order
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders.order_signer import SignedOrder, dated_for_signing
from csos_desktop.services.signing import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    default_checks,
)
from csos_desktop.services.signing.checks import certificate_in_validity
from csos_desktop.token.identity import SigningIdentity
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA
from tests.unit.domain.samples import sample_order_input

#: A second purchaser, for "unique per purchaser" checks (valid check digit).
OTHER_DEA = "BC2345672"


@dataclass
class Clock:
    """Starts at the real time (certificates are issued for it); tests move it on."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def order_input(*, number: str | None = None, dea: str = PURCHASER_DEA) -> dict[str, Any]:
    """Sample order input; without ``number`` the store assigns the next order number."""
    data = sample_order_input()
    del data["order_number"]
    if number is not None:
        data["order_number"] = number
    data["purchaser"]["dea_number"] = dea
    return data


class SoftwareKey:
    """A P-256 key in memory standing in for the token in pure store tests."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def software_identity(ca: TestCa, dea: str = PURCHASER_DEA) -> tuple[SigningIdentity, CmsSigner]:
    key = SoftwareKey()
    cert = ca.issue_for_public_key(
        key.key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Main Street Pharmacy"),
        dea_number=dea,
        schedules=ALL_SCHEDULES,
        days=730,
        not_before=datetime.now(UTC) - timedelta(days=1),
    )
    der = cert.public_bytes(Encoding.DER)
    info = read_csos_profile(asn1_x509.Certificate.load(der))
    identity = SigningIdentity(b"\x01", der, info, "software")
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    return identity, CmsSigner(key, der, chain)


class SoftwareOrderSigner:
    """Does what OrderSigningSession does, with the key in memory."""

    def __init__(self, identity: SigningIdentity, cms: CmsSigner, clock: Clock) -> None:
        self.identity = identity
        self._cms = cms
        self._clock = clock

    def sign(self, order: Order) -> SignedOrder:
        now = self._clock()
        facts = SigningFacts(SigningPurpose.ORDER, self.identity, (), None, now)
        # The pre-PIN stage as a token session runs it, but for the network checks (clock
        # reference, trust anchors, CRLs): tests/integration run those with real servers.
        offline = PrePinChecks(session=(certificate_in_validity,), items=default_checks().items)
        offline.run(facts, [order])
        dated = dated_for_signing(order, now)
        document = canonical_bytes(dated.to_document())
        return SignedOrder(dated, document, self._cms.sign(document, now))


class SoftwareDocumentSigner:
    def __init__(self, identity: SigningIdentity, cms: CmsSigner, clock: Clock) -> None:
        self.identity = identity
        self._cms = cms
        self._clock = clock

    def sign(self, document: bytes) -> bytes:
        return self._cms.sign(document, self._clock())


def flagged_order_input() -> dict[str, Any]:
    """Fifty cases of a catalogued schedule II product: SOM flags it (five times the floor)."""
    data = order_input()
    data["lines"] = [
        {
            "line_no": 1,
            "ndc": "99101-0010-01",
            "item_name": "Oxycodone 5 mg tablet",
            "strength": "5 mg",
            "dosage_form": "tablet",
            "package_size": 100,
            "quantity": 50,
            "schedule": "2",
        }
    ]
    return data


#: A real product's NDC (oxycodone 15 mg, brand name only), absent from the synthetic
#: catalogue; its item name names no ingredient the DEA code table knows.
BRAND_NDC = "00406-8515-01"


def brand_order_input(packages: int = 1) -> dict[str, Any]:
    """One line of a product only the distributor's history (if any) can place."""
    data = order_input(number=f"{datetime.now(UTC):%y}X000500")
    data["lines"] = [
        {
            "line_no": 1,
            "ndc": BRAND_NDC,
            "item_name": "Roxicodone 15 mg tablet",
            "strength": "15 mg",
            "dosage_form": "tablet",
            "package_size": 100,
            "quantity": packages,
            "schedule": "2",
        }
    ]
    return data
