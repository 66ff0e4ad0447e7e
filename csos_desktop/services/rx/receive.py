"""The pharmacy side of EPCS on NCPDP SCRIPT (21 CFR 1311.205, 1311.210, 1311.305).

Each NewRx received (from the network's mailbox or a file) is verified once, on receipt,
and kept byte-exact with the verdict and the time, whatever it is: unreadable XML, a
missing 1306.05 element, a signature over other bytes, another pharmacy's message. The
answer is a SCRIPT Status (verified) or Error (the reasons). A message that carries only
the indicator that two-factor signing took place is signed by the pharmacy itself
(:func:`sign_received`, 1311.210(c)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.script.answer import build_answer
from csos_desktop.pki.script_check import (
    NewRxVerification,
    ReceivedVerdict,
    read_message,
    verify_newrx,
)
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.signing import SigningSession
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.script_messages import ScriptMessage
from csos_desktop.trust.revocation import RevocationData, RevocationSource

#: Revocation data for a signer: (signer, intermediates, anchors, now) → CRLs / OCSP.
RevocationLookup = Callable[
    [
        asn1_x509.Certificate,
        Sequence[asn1_x509.Certificate],
        Sequence[asn1_x509.Certificate],
        datetime,
    ],
    RevocationData,
]


def fetched_revocation(offline: bool = False) -> RevocationLookup:
    """The product's revocation data: the CRL cache and the one fetcher (trust/)."""
    source = RevocationSource()

    def lookup(
        signer: asn1_x509.Certificate,
        intermediates: Sequence[asn1_x509.Certificate],
        anchors: Sequence[asn1_x509.Certificate],
        now: datetime,
    ) -> RevocationData:
        return source.for_path(signer, intermediates, anchors, now=now, offline=offline)

    return lookup


def fixed_revocation(crls: Sequence[asn1_crl.CertificateList]) -> RevocationLookup:
    """Exactly these CRLs (``--crl`` files), nothing fetched."""
    data = RevocationData(tuple(crls))

    def lookup(*_: object) -> RevocationData:
        return data

    return lookup


@dataclass(frozen=True)
class PharmacyTrust:
    """What a received signature is checked against."""

    anchors: Sequence[asn1_x509.Certificate]
    intermediates: Sequence[asn1_x509.Certificate] = ()
    revocation: RevocationLookup | None = None  # None: fetched_revocation()


@dataclass(frozen=True)
class Received:
    record: ScriptMessage
    verification: NewRxVerification
    answer: bytes
    replayed: bool = False

    @property
    def needs_pharmacy_signature(self) -> bool:
        return (
            self.verification.verdict is ReceivedVerdict.INDICATOR_ONLY
            and self.record.pharmacy_signature is None
        )


def receive(
    store: Store,
    message: bytes,
    *,
    own_ncpdp_id: str,
    source: str,
    trust: PharmacyTrust,
    now: datetime,
) -> Received:
    """Verify *message* on receipt, keep it with the verdict, and make the answer."""
    held = store.script.received_sha256(hashlib.sha256(message).hexdigest())
    read = read_message(message)
    revocation = RevocationData()
    signer = read.signer
    if signer is not None:
        lookup = trust.revocation or fetched_revocation()
        revocation = lookup(signer, trust.intermediates, trust.anchors, now)
    verification = verify_newrx(
        read,
        own_ncpdp_id=own_ncpdp_id,
        trust_roots=trust.anchors,
        intermediates=trust.intermediates,
        crls=revocation.crls,
        ocsps=revocation.ocsps,
        now=now,
    )
    if held is not None:  # the same bytes fetched again: one record, the first verdict
        return Received(held, verification, held.answer or b"", replayed=True)
    newrx = verification.newrx
    rx_id = newrx.prescription.rx_id if newrx else None
    answer = build_answer(
        own_ncpdp_id=own_ncpdp_id,
        message_id=f"{own_ncpdp_id}-{hashlib.sha256(message).hexdigest()[:20]}",
        # The sender's MessageID (ours is the rx id; another system's is its own).
        relates_to=(newrx.message_id if newrx else "")
        or rx_id
        or hashlib.sha256(message).hexdigest(),
        to=newrx.sender if newrx else "",
        reasons=[(f.code, f.message) for f in verification.findings],
        now=now,
    )
    details = {**verification.to_json(), "revocation_notes": list(revocation.notes)}
    with store.transaction():
        message_id = store.script.add_received(
            message,
            rx_id=rx_id,
            ncpdp_id=newrx.pharmacy.ncpdp_id if newrx else None,
            source=source,
            verdict=verification.verdict.value,
            verification=details,
            now=now,
        )
        store.script.set_answer(message_id, answer)
        store.audit.append(
            AuditEvent.RX_RECEIVED,
            at=now,
            details={
                "message_id": message_id,
                "rx_id": rx_id,
                "source": source,
                "verdict": verification.verdict.value,
                "codes": [f.code for f in verification.findings],
                "message_sha256": hashlib.sha256(message).hexdigest(),
            },
        )
    return Received(store.script.get(message_id), verification, answer)


class NotIndicatorOnly(InputError):
    """Only a record received with the indicator alone is signed by the pharmacy."""


def sign_received(
    store: Store,
    message_id: int,
    session: SigningSession,
    interaction: Interaction,
    *,
    now: datetime,
) -> ScriptMessage:
    """1311.210(c): the pharmacy signs the received record (CMS over its exact bytes)."""
    record = store.script.get(message_id)
    if record.verdict != ReceivedVerdict.INDICATOR_ONLY.value:
        raise NotIndicatorOnly(
            f"Message {message_id} is {record.verdict}: only a prescription received with "
            "the signing indicator alone is signed by the pharmacy (21 CFR 1311.210(c))."
        )
    if record.pharmacy_signature is not None:
        raise NotIndicatorOnly(f"Message {message_id} was signed by the pharmacy already.")
    session.check_session()
    session.log_in(interaction)
    signature = session.sign(record.message)
    with store.transaction():
        store.script.add_pharmacy_signature(message_id, signature, now=now)
        store.audit.append(
            AuditEvent.RX_RECEIVED_SIGNED,
            at=now,
            details={
                "message_id": message_id,
                "rx_id": record.rx_id,
                "signature_sha256": hashlib.sha256(signature).hexdigest(),
                "signer": session.identity.info.subject,
            },
        )
    return store.script.get(message_id)


def default_trust(offline: bool = False) -> PharmacyTrust:
    """The configured trust anchors, the enrolment chain as intermediates, fetched CRLs."""
    from csos_desktop import paths
    from csos_desktop.pki.certfile import load_certificates
    from csos_desktop.services.context import current

    chain = paths.chain_file()
    intermediates = [
        asn1_x509.Certificate.load(der)
        for der in (load_certificates(chain) if chain.exists() else [])
    ]
    return PharmacyTrust(current().trust_anchors(), intermediates, fetched_revocation(offline))


def received_messages(store: Store) -> list[ScriptMessage]:
    """What the pharmacy has received, newest first (the inbox screen's list)."""
    from csos_desktop.store.script_messages import Direction

    return list(reversed(store.script.all(Direction.RECEIVED)))


def received_message(store: Store, message_id: int) -> ScriptMessage:
    """One kept message, with its verdict and the pharmacy's signature if signed."""
    return store.script.get(message_id)


def review_of(record: ScriptMessage) -> list[str]:
    """The prescription as shown for dispensing, or why it cannot be shown."""
    read = read_message(record.message)
    if read.newrx is None:
        return [f"Not readable: {f.message}" for f in read.findings]
    pharmacy = read.newrx.pharmacy
    return [
        *read.newrx.prescription.review_lines(),
        f"To pharmacy:    {pharmacy.name} (NCPDP {pharmacy.ncpdp_id})",
    ]


def reasons_of(record: ScriptMessage) -> list[tuple[str, str]]:
    """(code, sentence) for each reason kept with a received message's verdict."""
    reasons = (record.verification or {}).get("reasons", [])
    if not isinstance(reasons, list):
        return []
    return [(str(r.get("code")), str(r.get("message"))) for r in reasons if isinstance(r, dict)]
