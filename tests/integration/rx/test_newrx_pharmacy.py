"""NewRx routed to the chosen pharmacy's mailbox on the reference server, and the pharmacy's
verify-and-archive on receipt (21 CFR 1311.205, 1311.210), all on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.script.newrx import SignatureIndicator, build_newrx, with_signature
from csos_desktop.pki.cms_parse import digest_matches, parse_signed_data, signature_valid
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.ceremony import SigningList, sign_ready
from csos_desktop.services.rx.queue import sign_queued
from csos_desktop.services.rx.receive import PharmacyTrust, Received, receive, sign_received
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.sync.worker import CursorFile, SyncWorker
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from csos_desktop.trust.revocation import RevocationData
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import Sandbox, StartSandbox, start_sandbox
from tests.integration.rx.conftest import Ceremony, crl_check, identity_with
from tests.integration.signing import chain_of, issue_for_token
from tests.integration.store.tokens import TestPin
from tests.unit.rx.helpers import BOB, SMITH, rx_input
from tests.unit.script.samples import sample_prescription
from tests.unit.store.helpers import Clock

__all__ = ["start_sandbox"]  # the fixture, used here

MAIN_STREET = "1234567"
LAKESIDE = "7654321"
Token = tuple[TokenSession, SigningIdentity]


@pytest.fixture()
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    return start_sandbox()


@pytest.fixture()
def pharmacy_store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with open_store(tmp_path / "pharmacy.db", clock=clock) as s:
        yield s


def _der(cert: object) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))  # type: ignore[attr-defined]


def trust_of(ca: TestCa) -> PharmacyTrust:
    """The sandbox root as anchor, its issuing CA, and the CA's current CRLs."""

    def current_crls(*_: object) -> RevocationData:
        return RevocationData(
            tuple(
                asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
                for c in (ca.crl(), ca.root_crl())
            )
        )

    return PharmacyTrust([_der(ca.root_certificate)], [_der(ca.issuing_certificate)], current_crls)


def directory_entry(sandbox: Sandbox, ncpdp_id: str) -> Pharmacy:
    with sandbox.client() as client:
        return next(p for p in client.pharmacy_directory() if p.ncpdp_id == ncpdp_id)


def sign_newrx(
    token: Token,
    ca: TestCa,
    rx: Prescription,
    pharmacy: Pharmacy,
    identity: SigningIdentity | None = None,
) -> bytes:
    ts, default = token
    session = SigningSession(ts, identity or default, chain_of(ca), SigningPurpose.PRESCRIPTION)
    signing_list = SigningList([rx])
    signing_list.mark_ready(rx.rx_id)
    [done] = sign_ready(signing_list, session, Ceremony(), {rx.rx_id: pharmacy})
    assert done.newrx is not None
    return done.newrx.message


def deliver(sandbox: Sandbox, ncpdp_id: str, rx_id: str, message: bytes) -> None:
    with sandbox.client() as client:
        client.send_newrx(ncpdp_id, rx_id, message)


def receive_all(
    sandbox: Sandbox, store: Store, ca: TestCa, own: str = MAIN_STREET
) -> list[Received]:
    """`csos rx receive --server`: every message in the mailbox, verified, kept, answered.

    Checked at the real time: the CA's CRLs are issued now, after the test clock started."""
    now = datetime.now(UTC).replace(microsecond=0)
    with sandbox.client() as client:
        out = []
        for m in client.newrx_inbox(own):
            got = receive(
                store, m.message, own_ncpdp_id=own, source="server", trust=trust_of(ca), now=now
            )
            client.answer_newrx(own, m.message_id, got.answer)
            out.append(got)
        return out


def test_the_chosen_pharmacy_gets_the_newrx_and_verifies_it_on_receipt(
    store: Store,
    pharmacy_store: Store,
    clock: Clock,
    token: Token,
    test_ca: TestCa,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    main = directory_entry(sandbox, MAIN_STREET)
    rx_id = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock()).rx_id
    ts, identity = token
    session = SigningSession(
        ts, identity, chain_of(test_ca), SigningPurpose.PRESCRIPTION, clock=clock
    )
    sign_queued(
        store,
        SMITH,
        "Maria Lopez",
        session,
        Ceremony(),
        crl_check(test_ca),
        clock=clock,
        pharmacies={rx_id: main},
    )
    sent = store.script.sent_for(rx_id)
    assert sent is not None and sent.ncpdp_id == MAIN_STREET
    # No rx_pharmacy_id is set: the outbox sends to the pharmacy chosen in the signed message.
    with sandbox.client() as client:
        worker = SyncWorker(store, client, CursorFile(tmp_path / "cursor.json", sandbox.url))
        report = worker.run_once()
    assert rx_id in report.sent or not report.refused, report
    [transmitted] = [e for e in store.audit.entries() if e.event == AuditEvent.RX_TRANSMITTED]
    assert transmitted.details["pharmacy_id"] == MAIN_STREET
    with sandbox.client() as client:
        assert client.newrx_inbox(LAKESIDE) == []  # nothing to anyone else

    [got] = receive_all(sandbox, pharmacy_store, test_ca)
    assert got.verification.verdict.value == "verified", got.verification.findings
    kept = pharmacy_store.script.get(got.record.message_id)
    assert kept.message == sent.message and kept.intact
    assert kept.verdict == "verified" and kept.at >= clock()
    assert b"<Status><Code>010</Code></Status>" in (kept.answer or b"")
    assert got.verification.newrx is not None
    assert got.verification.newrx.prescription == store.prescriptions.prescription(rx_id)
    # The same message fetched again is one record.
    again = receive(
        pharmacy_store,
        sent.message,
        own_ncpdp_id=MAIN_STREET,
        source="server",
        trust=trust_of(test_ca),
        now=datetime.now(UTC),
    )
    assert again.replayed and again.record.message_id == kept.message_id


def test_a_revoked_practitioner_is_not_verified_and_kept(
    rsa_token: Provisioned,
    token: Token,
    test_ca: TestCa,
    sandbox: Sandbox,
    pharmacy_store: Store,
    clock: Clock,
) -> None:
    cert = issue_for_token(test_ca, rsa_token)
    identity = identity_with(token[1], cert)
    rx = sample_prescription(clock())
    message = sign_newrx(token, test_ca, rx, directory_entry(sandbox, MAIN_STREET), identity)
    test_ca.revoke(
        cert.serial_number, reason="keyCompromise", when=datetime.now(UTC) - timedelta(minutes=1)
    )
    deliver(sandbox, MAIN_STREET, rx.rx_id, message)
    [got] = receive_all(sandbox, pharmacy_store, test_ca)
    assert got.verification.verdict.value == "not-verified"
    assert "certificate-revoked" in {f.code for f in got.verification.findings}
    kept = pharmacy_store.script.get(got.record.message_id)
    assert kept.message == message and b"<Error><Code>900</Code>" in (kept.answer or b"")


def test_an_indicator_only_message_is_signed_by_the_pharmacy(
    rsa_token: Provisioned, test_ca: TestCa, sandbox: Sandbox, pharmacy_store: Store, clock: Clock
) -> None:
    rx = sample_prescription(clock())
    message = with_signature(
        build_newrx(rx, directory_entry(sandbox, MAIN_STREET)), SignatureIndicator()
    )
    deliver(sandbox, MAIN_STREET, rx.rx_id, message)
    [got] = receive_all(sandbox, pharmacy_store, test_ca)
    assert got.verification.verdict.value == "indicator-only" and got.needs_pharmacy_signature
    with rsa_token.session() as ts:
        from csos_desktop.token.certs import read_certificates
        from csos_desktop.token.identity import choose_identity, signing_identities

        identity = choose_identity(signing_identities(read_certificates(ts)))
        session = SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ARCHIVE_MANIFEST)
        signed = sign_received(
            pharmacy_store, got.record.message_id, session, TestPin(), now=clock()
        )
    assert signed.pharmacy_signature is not None and signed.message == message
    parsed = parse_signed_data(signed.pharmacy_signature)
    assert signature_valid(parsed) and digest_matches(parsed, message)
    events = [e.event for e in pharmacy_store.audit.entries()]
    assert AuditEvent.RX_RECEIVED_SIGNED in events


def test_a_newrx_for_another_pharmacy_is_refused_and_kept(
    token: Token, test_ca: TestCa, sandbox: Sandbox, pharmacy_store: Store, clock: Clock
) -> None:
    rx = sample_prescription(clock())
    message = sign_newrx(token, test_ca, rx, directory_entry(sandbox, LAKESIDE))
    deliver(sandbox, MAIN_STREET, rx.rx_id, message)  # the network put it in our mailbox
    [got] = receive_all(sandbox, pharmacy_store, test_ca)
    assert [f.code for f in got.verification.findings] == ["for-another-pharmacy"]
    assert "Lakeside Pharmacy" in got.verification.findings[0].message
    kept = pharmacy_store.script.get(got.record.message_id)
    assert kept.verdict == "not-verified" and kept.message == message
