"""A practice on record: two administrators, a practitioner (registrant), an agent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.grants import approve_grant, propose_grant
from csos_desktop.services.rx.users import add_user
from csos_desktop.store import Store
from csos_desktop.store.access import Grant, Role
from tests.unit.domain.rx_samples import PRACTITIONER_DEA, sample_rx_input
from tests.unit.store.helpers import Clock

ANN, CARL, SMITH, BOB = Actor("ann", "ann-os"), Actor("carl"), Actor("drsmith"), Actor("bob")
#: A second practitioner's DEA number (valid check digit), not the test certificate's.
JONES_DEA = "BJ6125341"


def practice(store: Store, clock: Clock) -> None:
    add_user(store, None, "ann", "Ann Admin", Role.ACCESS_ADMIN, None, now=clock())
    for user_id, name, role, dea in (
        ("carl", "Carl Admin", Role.ACCESS_ADMIN, None),
        ("drsmith", "Dr. Jane Smith", Role.PRACTITIONER, PRACTITIONER_DEA),
        ("bob", "Bob Agent", Role.AGENT, None),
    ):
        add_user(store, ANN, user_id, name, role, dea, now=clock())


def certificate(name: str) -> bytes:
    """A practitioner's certificate without DEA extensions (a CSP's, 1311.105), DER."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650 * 2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


SMITH_CERT = certificate("Jane Smith")
#: The day Dr. Smith's DEA registration ends, far from the tests' clocks.
REGISTRATION_ENDS = date(2029, 10, 31)


def propose(
    store: Store,
    clock: Clock,
    actor: Actor = ANN,
    user_id: str = "drsmith",
    *,
    registration_verified: bool = True,
    certificate_der: bytes = SMITH_CERT,
    registration_expires: date = REGISTRATION_ENDS,
) -> Grant:
    """The first person enters a permission for *user_id* naming their certificate."""
    return propose_grant(
        store,
        actor,
        user_id,
        certificate_der=certificate_der,
        registration_expires=registration_expires,
        registration_verified=registration_verified,
        now=clock(),
    )


def permit(
    store: Store,
    clock: Clock,
    user_id: str = "drsmith",
    approver: Actor = SMITH,
    certificate_der: bytes = SMITH_CERT,
) -> Grant:
    """Ann proposes, a registrant approves (in a solo practice, the practitioner)."""
    g = propose(store, clock, ANN, user_id, certificate_der=certificate_der)
    return approve_grant(store, approver, g.grant_id, now=clock())


def rx_input(clock: Clock, **changes: Any) -> dict[str, Any]:
    data = sample_rx_input(clock.now.astimezone().date().isoformat())
    data.update(changes)
    return data


def events(store: Store) -> list[str]:
    return [e.event for e in store.audit.entries() if e.event.startswith("rx.")]


def sign_at(store: Store, clock: Clock, at: datetime, **changes: object) -> str:
    """A draft signed at *at*: the signed bytes are what the log reads."""
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock, **changes), now=clock())
    rx = store.prescriptions.prescription(rec.rx_id)
    with store.transaction():
        store.prescriptions.mark_signed(
            rec.rx_id,
            expected_sha256=rec.draft_sha256,
            document=canonical_bytes(rx.to_document()),
            signature=b"signature of " + rec.rx_id.encode(),
            signed_at=at,
            signed_by="drsmith",
            signer_subject="Jane Smith",
            signer_dea=rx.practitioner.dea_number.value,
            certificate_der=SMITH_CERT,
        )
    return rec.rx_id
