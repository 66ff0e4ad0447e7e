"""Signing queued prescriptions on the real token (21 CFR 1311.125, 1311.140, 1311.150)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.attestation import RX_SIGNING_ATTESTATION
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.token_errors import WrongPin
from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.pki.signed_check import Reason
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.audit.checkpoint import verify_checkpoints
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.access import Actor, DenyReason, SigningRefused
from csos_desktop.services.rx.alerts import AlertKind, alerts
from csos_desktop.services.rx.users import add_user
from csos_desktop.store import Store
from csos_desktop.store.access import Role
from csos_desktop.store.prescriptions import DraftChanged, RxState
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.rx.conftest import (
    Ceremony,
    SignMaria,
    Token,
    identity_with,
    queue_two_for_maria_one_for_john,
)
from tests.integration.signing import issue_for_token
from tests.integration.store.tokens import openssl_verify
from tests.unit.rx.helpers import ANN, BOB, JONES_DEA, certificate, permit, rx_input
from tests.unit.store.helpers import Clock

UTC_ZONE = UTC


def verify(ca: TestCa, document: bytes, signature: bytes) -> list[Reason]:
    root = asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))
    crls = [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(), ca.root_crl())
    ]
    result = verify_prescription(
        document, signature, trust_roots=[root], crls=crls, now=datetime.now(UTC)
    )
    return list(result.reasons)


def events(store: Store) -> list[str]:
    return [e.event for e in store.audit.entries() if e.event.startswith("rx.")]


def test_the_practitioner_signs_one_patient_s_queue_with_token_and_pin(
    store: Store,
    clock: Clock,
    test_ca: TestCa,
    tmp_path: Path,
    sign_maria: SignMaria,
) -> None:
    a, b, john = queue_two_for_maria_one_for_john(store, clock)
    ceremony = Ceremony()
    signed = sign_maria(ceremony)
    assert {s.rx_id for s in signed} == {a, b} and ceremony.asked == 1
    [review] = ceremony.shown
    assert RX_SIGNING_ATTESTATION in review and "Prescription 2 of 2" in review
    assert store.prescriptions.get(john).state is RxState.DRAFT
    for s in signed:
        stored = store.prescriptions.signed(s.rx_id)
        assert (
            stored.intact() and stored.signed_by == "drsmith" and stored.signer_dea == ("AB1234563")
        )
        assert Prescription.from_document(load_document(stored.document)).rx_id == s.rx_id
        assert verify(test_ca, stored.document, stored.signature) == []
        assert store.prescriptions.get(s.rx_id).state is RxState.SIGNED
    (tmp_path / "rx.json").write_bytes(signed[0].document)
    (tmp_path / "rx.p7s").write_bytes(signed[0].signature)
    done = openssl_verify(tmp_path, test_ca, tmp_path / "rx.json", tmp_path / "rx.p7s")
    assert done.returncode == 0, done.stderr
    queued = store.conn.execute(
        "SELECT record_id FROM outbox WHERE kind = 'prescription' AND sent_at IS NULL"
    ).fetchall()
    assert {r[0] for r in queued} == {a, b}
    assert events(store)[-3:] == ["rx.sign-attempt", "rx.signed", "rx.signed"]
    result = next(e for e in store.audit.entries() if e.event == "rx.signed")
    assert result.details["revocation"] == "good" and result.details["by"] == "drsmith"
    assert (
        result.details["document_sha256"]
        == store.prescriptions.signed(str(result.details["rx_id"])).document_sha256
    )
    assert all(TEST_PIN not in str(e.to_json()) for e in store.audit.entries())
    assert store.audit.verify().intact
    # The session ended by signing the audit chain's head, after the last rx.signed.
    [checkpoint] = list(store.checkpoints.all())
    last_signed = [e for e in store.audit.entries() if e.event == "rx.signed"][-1]
    assert checkpoint.entry_id == last_signed.entry_id
    assert verify_checkpoints(store).problems == []


def test_a_signed_prescription_never_changes_and_a_changed_copy_is_digest_mismatch(
    store: Store, clock: Clock, test_ca: TestCa, sign_maria: SignMaria
) -> None:
    rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    [s] = sign_maria()
    for sql in (
        "UPDATE signed_prescriptions SET document = x'00'",
        "DELETE FROM signed_prescriptions",
        "UPDATE prescriptions SET draft_document = x'00'",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute(sql)
    with pytest.raises(DraftChanged, match="is signed"):
        rx_drafts.update_draft(store, BOB, s.rx_id, rx_input(clock, quantity=90), now=clock())
    changed = s.document.replace(b'"quantity":20', b'"quantity":90')
    assert changed != s.document
    assert Reason.DIGEST_MISMATCH in verify(test_ca, changed, s.signature)


def test_an_agent_cannot_sign(store: Store, clock: Clock, sign_maria: SignMaria) -> None:
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    ceremony = Ceremony()
    with pytest.raises(SigningRefused) as refused:
        sign_maria(ceremony, actor=BOB)
    assert refused.value.reason is DenyReason.ROLE and ceremony.asked == 0
    assert store.prescriptions.get(rec.rx_id).state is RxState.DRAFT
    denied = list(store.audit.entries())[-1]
    assert denied.event == "rx.access-denied" and denied.details["action"] == "sign"


def test_a_practitioner_whose_certificate_dea_differs_from_their_record_is_refused(
    store: Store, clock: Clock, token: Token, sign_maria: SignMaria
) -> None:
    add_user(store, ANN, "drjones", "Dr. Jones", Role.PRACTITIONER, JONES_DEA, now=clock())
    permit(store, clock, "drjones", Actor("drjones"), certificate("Dr. Jones"))
    data = rx_input(clock)
    data["practitioner"] = {**data["practitioner"], "dea_number": JONES_DEA}
    rx_drafts.add_draft(store, BOB, data, now=clock())
    ceremony = Ceremony()
    with pytest.raises(SigningRefused, match="sign with your own token") as refused:
        sign_maria(ceremony, actor=Actor("drjones"))
    assert refused.value.reason is DenyReason.DEA_MISMATCH and ceremony.asked == 0


def test_a_certificate_other_than_the_granted_one_is_refused_before_the_pin(
    store: Store,
    clock: Clock,
    token: Token,
    test_ca: TestCa,
    rsa_token: Provisioned,
    sign_maria: SignMaria,
) -> None:
    # Same key, same DEA number, valid and not revoked: still not the certificate granted.
    _, identity = token
    other = identity_with(identity, issue_for_token(test_ca, rsa_token))
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    ceremony = Ceremony()
    with pytest.raises(SigningRefused, match="not the one") as refused:
        sign_maria(ceremony, identity=other)
    assert refused.value.reason is DenyReason.CERTIFICATE_NOT_GRANTED and ceremony.asked == 0
    assert store.prescriptions.get(rec.rx_id).state is RxState.DRAFT
    denied = list(store.audit.entries())[-1]
    assert denied.event == "rx.access-denied"
    assert denied.details["reason"] == "certificate-not-granted"


def test_a_revoked_certificate_signs_nothing_and_raises_an_alert(
    store: Store,
    clock: Clock,
    token: Token,
    test_ca: TestCa,
    rsa_token: Provisioned,
    sign_maria: SignMaria,
) -> None:
    _, identity = token
    cert = issue_for_token(test_ca, rsa_token)
    revoked = identity_with(identity, cert)
    test_ca.revoke(
        cert.serial_number, reason="keyCompromise", when=datetime.now(UTC) - timedelta(minutes=1)
    )
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    ceremony = Ceremony()
    with pytest.raises(SigningRefused, match="revoked") as refused:
        sign_maria(ceremony, identity=revoked)
    assert refused.value.reason is DenyReason.CERTIFICATE_REVOKED and ceremony.asked == 0
    assert store.prescriptions.get(rec.rx_id).state is RxState.DRAFT
    [alert] = alerts(store.audit.entries(), zone=UTC_ZONE)
    assert alert.kind is AlertKind.REVOKED_CERTIFICATE_USED
    assert str(cert.serial_number) in alert.message


def test_an_expired_certificate_signs_nothing(
    store: Store,
    clock: Clock,
    token: Token,
    test_ca: TestCa,
    rsa_token: Provisioned,
    sign_maria: SignMaria,
) -> None:
    _, identity = token
    old = identity_with(
        identity,
        issue_for_token(
            test_ca, rsa_token, days=5, not_before=datetime.now(UTC) - timedelta(days=30)
        ),
    )
    rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    with pytest.raises(SigningRefused, match="expired") as refused:
        sign_maria(identity=old)
    assert refused.value.reason is DenyReason.CERTIFICATE_EXPIRED


def test_a_wrong_pin_is_audited_signs_nothing_and_repeated_raises_an_alert(
    store: Store, clock: Clock, sign_maria: SignMaria
) -> None:
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    for _ in range(3):
        clock.advance(minutes=2)
        with pytest.raises(WrongPin):
            sign_maria(Ceremony("wrongpin"))
    assert store.prescriptions.get(rec.rx_id).state is RxState.DRAFT
    assert store.conn.execute("SELECT count(*) FROM signed_prescriptions").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert events(store)[-2:] == ["rx.sign-attempt", "rx.auth-failed"]
    failed = [e for e in store.audit.entries() if e.event == "rx.auth-failed"]
    assert len(failed) == 3 and failed[0].details["reason"] == "WrongPin"
    assert all("wrongpin" not in str(e.to_json()) for e in store.audit.entries())
    [alert] = alerts(store.audit.entries(), zone=UTC_ZONE)
    assert alert.kind is AlertKind.REPEATED_AUTH_FAILURE and alert.user == "drsmith"
    clock.advance(minutes=1)
    assert sign_maria()
    assert store.audit.verify().intact


def test_a_draft_changed_during_review_is_not_signed(
    store: Store, clock: Clock, sign_maria: SignMaria
) -> None:
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())

    class EditedMeanwhile(Ceremony):
        def show_attestation(self, review: str) -> None:
            rx_drafts.update_draft(store, BOB, rec.rx_id, rx_input(clock, quantity=60), now=clock())

    with pytest.raises(DraftChanged):
        sign_maria(EditedMeanwhile())
    assert store.prescriptions.get(rec.rx_id).state is RxState.DRAFT
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert events(store)[-1] == "rx.sign-failed"


def test_a_draft_from_an_earlier_day_is_dated_the_day_it_is_signed(
    store: Store, clock: Clock, sign_maria: SignMaria
) -> None:
    yesterday = (clock.now.astimezone() - timedelta(days=1)).date()
    rec = rx_drafts.add_draft(
        store, BOB, rx_input(clock, date_of_issue=yesterday.isoformat()), now=clock()
    )
    [s] = sign_maria()
    signed = Prescription.from_document(load_document(s.document))
    assert signed.date_of_issue == clock.now.astimezone().date()
    attempt = [e for e in store.audit.entries() if e.event == "rx.sign-attempt"][-1]
    assert attempt.details["redated"] == [rec.rx_id]


def test_a_printed_copy_is_marked_not_valid_for_dispensing(
    store: Store, clock: Clock, sign_maria: SignMaria
) -> None:
    rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    [s] = sign_maria()
    text = rx_drafts.printed_copy(store, BOB, s.rx_id[:8], now=clock())
    lines = text.splitlines()
    assert lines[0] == lines[-1] == "COPY – NOT VALID FOR DISPENSING"
    assert "Maria Lopez" in text and "waiting to be sent" in text
    assert events(store)[-1] == "rx.copy-printed"
