"""Signed prescriptions from the outbox to the sandbox's pharmacy inbox, over real TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.prescription import parse_prescription_input
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor import db as ddb
from csos_desktop.sandbox.distributor.customers import add_customer
from csos_desktop.sandbox.distributor.pharmacy import SANDBOX_PHARMACY
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEntry, AuditEvent
from csos_desktop.sync.client import DistributorClient, RetryPolicy
from csos_desktop.sync.errors import DistributorRefused
from csos_desktop.sync.worker import CursorFile, SyncWorker
from tests.integration.distributor.conftest import Sandbox, StartSandbox
from tests.unit.domain.rx_samples import PRACTITIONER_DEA
from tests.unit.rx.helpers import practice, rx_input
from tests.unit.store.helpers import Clock, software_identity

#: A third DEA number (valid check digit) for a second sandbox customer.
OTHER_DEA = "BC2345672"


def signed_rx(store: Store, ca: TestCa, clock: Clock, *, tamper: bool = False) -> str:
    """A prescription signed by the practitioner's (software) key, stored and queued as
    signing from the queue does; ``tamper`` stores bytes other than those signed."""
    identity, cms = software_identity(ca, PRACTITIONER_DEA)
    now = clock()
    rx = parse_prescription_input(rx_input(clock), now=now)
    document = canonical_bytes(rx.to_document())
    signature = cms.sign(document, now)
    stored = document.replace(b'"quantity":20', b'"quantity":80') if tamper else document
    assert stored != document or not tamper
    with store.transaction():
        rec = store.prescriptions.insert_draft(rx, prepared_by="drsmith", now=now)
        store.prescriptions.mark_signed(
            rx.rx_id,
            expected_sha256=rec.draft_sha256,
            document=stored,
            signature=signature,
            signed_at=now,
            signed_by="drsmith",
            signer_subject=identity.info.subject,
            signer_dea=rx.practitioner.dea_number.value,
            certificate_der=identity.certificate_der,
        )
        store.prescriptions.queue_transmission(rx.rx_id, now)
    return rx.rx_id


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db", clock=clock) as s:
        practice(s, clock)
        yield s


def worker(
    store: Store, client: DistributorClient, tmp_path: Path, pharmacy_id: str = SANDBOX_PHARMACY
) -> SyncWorker:
    return SyncWorker(
        store, client, CursorFile(tmp_path / "cursor.json", "sandbox"), pharmacy_id=pharmacy_id
    )


def inbox_rows(sandbox: Sandbox) -> list[sa.Row[object]]:
    with sandbox.running.distributor.engine.connect() as conn:
        return list(conn.execute(sa.select(ddb.pharmacy_prescriptions)))


def rx_events(store: Store, event: AuditEvent) -> list[AuditEntry]:
    return [e for e in store.audit.entries() if e.event == event]


def test_a_signed_prescription_is_transmitted_and_accepted(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock)
    with sandbox.client() as client:
        report = worker(store, client, tmp_path).run_once()
        assert report.sent == [rx_id] and report.refused == [] and report.stopped is None
        assert store.outbox.pending() == []
        transmission = store.prescriptions.transmission(rx_id)
        assert transmission is not None and transmission.status == "transmitted"
        [entry] = rx_events(store, AuditEvent.RX_TRANSMITTED)
        assert entry.details["rx_id"] == rx_id
        assert entry.details["pharmacy_status"] == "accepted"
        assert entry.details["pharmacy_id"] == SANDBOX_PHARMACY
        assert rx_events(store, AuditEvent.RX_TRANSMISSION_FAILED) == []
        record = client.prescription(SANDBOX_PHARMACY, rx_id)
        assert record.accepted and record.reasons == ()
        assert record.practitioner_dea_number == PRACTITIONER_DEA
        assert (record.retain_until - record.received_at.date()).days >= 730
    [row] = inbox_rows(sandbox)
    kept = store.prescriptions.signed(rx_id)
    assert (row.document, row.signature) == (kept.document, kept.signature)  # byte-exact
    assert store.audit.verify().intact


def test_a_tampered_prescription_is_kept_by_the_inbox_as_rejected_and_reported(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock, tamper=True)
    with sandbox.client() as client:
        report = worker(store, client, tmp_path).run_once()
        assert report.refused == [rx_id] and report.sent == []
        assert store.outbox.pending() == []  # the verdict is final: not resent
        [failed] = rx_events(store, AuditEvent.RX_TRANSMISSION_FAILED)
        assert failed.details["reason"] == "rejected-by-pharmacy"
        assert "digest-mismatch" in failed.details["codes"]  # type: ignore[operator]
        record = client.prescription(SANDBOX_PHARMACY, rx_id)
        assert record.status == "rejected"
        assert "digest-mismatch" in [r.code for r in record.reasons]
    [row] = inbox_rows(sandbox)
    assert row.status == "rejected"
    assert row.document == store.prescriptions.signed(rx_id).document  # kept as received


def test_pharmacy_down_keeps_the_prescription_queued_reports_it_and_sends_it_later(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock)
    dead = DistributorClient(
        "https://127.0.0.1:9",
        "t",
        ca_bundle=sandbox.running.tls.ca_bundle,
        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
    )
    with dead:
        for _ in range(2):
            report = worker(store, dead, tmp_path).run_once()
            assert report.stopped and report.sent == []
    [pending] = store.outbox.pending()
    assert pending.record_id == rx_id and pending.attempts == 2
    transmission = store.prescriptions.transmission(rx_id)
    assert transmission is not None and transmission.status == "failed, will retry"
    # Reported once (the first failure), not on every pass.
    [failed] = rx_events(store, AuditEvent.RX_TRANSMISSION_FAILED)
    assert failed.details["retrying"] is True and failed.details["reason"] == "unreachable"
    assert inbox_rows(sandbox) == []
    with sandbox.client() as client:
        assert worker(store, client, tmp_path).run_once().sent == [rx_id]
    assert store.outbox.pending() == []
    assert len(inbox_rows(sandbox)) == 1


def test_a_duplicate_send_is_stored_once(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock)
    kept = store.prescriptions.signed(rx_id)
    with sandbox.client() as client:
        first = client.submit_prescription(
            SANDBOX_PHARMACY, rx_id, kept.document, kept.signature
        )  # then the client "died"
        assert first.accepted and not first.replayed
        assert worker(store, client, tmp_path).run_once().sent == [rx_id]
        again = client.submit_prescription(SANDBOX_PHARMACY, rx_id, kept.document, kept.signature)
        assert again.replayed and again.received_at == first.received_at
        with pytest.raises(DistributorRefused) as conflict:  # same key, other bytes
            client.submit_prescription(
                SANDBOX_PHARMACY, rx_id, kept.document + b" ", kept.signature
            )
        assert conflict.value.status == 409
        assert conflict.value.problem.code == "idempotency-conflict"
    assert len(inbox_rows(sandbox)) == 1


def test_an_unknown_pharmacy_refuses_and_the_message_is_withdrawn(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock)
    with sandbox.client() as client:
        report = worker(store, client, tmp_path, pharmacy_id="no-such-pharmacy").run_once()
    assert report.refused == [rx_id] and report.stopped is None
    assert store.outbox.pending() == []
    [failed] = rx_events(store, AuditEvent.RX_TRANSMISSION_FAILED)
    assert failed.details["reason"] == "refused" and failed.details["retrying"] is False
    assert failed.details["messages_withdrawn"] == 1
    assert "no-such-pharmacy" in str(failed.details["problem"])
    assert inbox_rows(sandbox) == []


def test_a_record_is_shown_to_its_sender_and_its_pharmacy_only(
    start_sandbox: StartSandbox, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    pharmacy, token = add_customer(
        sandbox.running.distributor.engine, dea_number=OTHER_DEA, name="Corner Pharmacy"
    )
    rx_id = signed_rx(store, test_ca, clock)
    kept = store.prescriptions.signed(rx_id)
    with sandbox.client() as sender, sandbox.client(token=token) as other:
        sender.submit_prescription(str(pharmacy.id), rx_id, kept.document, kept.signature)
        assert other.prescription(str(pharmacy.id), rx_id).accepted  # the pharmacy reads it
        assert sender.prescription(str(pharmacy.id), rx_id).accepted
        for who, where in ((other, SANDBOX_PHARMACY), (sender, SANDBOX_PHARMACY)):
            with pytest.raises(DistributorRefused) as missing:
                who.prescription(where, rx_id)
            assert missing.value.status == 404


def test_the_key_must_be_the_rx_id(
    start_sandbox: StartSandbox, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock)
    kept = store.prescriptions.signed(rx_id)
    with sandbox.client() as client, pytest.raises(DistributorRefused) as wrong:
        client.submit_prescription(SANDBOX_PHARMACY, "not-the-rx-id", kept.document, kept.signature)
    assert wrong.value.status == 422 and wrong.value.problem.code == "idempotency-key-mismatch"
    assert inbox_rows(sandbox) == []


def test_without_a_pharmacy_set_a_prescription_stays_queued_and_says_why(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, store: Store, clock: Clock
) -> None:
    sandbox = start_sandbox()
    rx_id = signed_rx(store, test_ca, clock)
    with sandbox.client() as client:
        report = SyncWorker(store, client, CursorFile(tmp_path / "c.json", "sandbox")).run_once()
    assert rx_id not in report.sent and report.refused == []
    [queued] = store.outbox.pending()
    assert queued.record_id == rx_id and "rx_pharmacy_id" in str(queued.last_error)
    assert inbox_rows(sandbox) == []  # nothing went to the sandbox's inbox by default
