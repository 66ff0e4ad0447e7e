"""Drafts: prepared by agents or the practitioner, every change audited, queued per patient."""

from __future__ import annotations

import sqlite3

import pytest

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.prescription import PrescriptionInvalid
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.access import AccessDenied, DenyReason
from csos_desktop.services.rx.users import add_user
from csos_desktop.store import Store
from csos_desktop.store.access import Role
from csos_desktop.store.prescriptions import OUTBOX_KIND, DraftChanged, RxState
from tests.unit.rx.helpers import ANN, BOB, JONES_DEA, SMITH, practice, rx_input
from tests.unit.store.helpers import Clock


@pytest.fixture()
def ready(store: Store, clock: Clock) -> Store:
    practice(store, clock)
    return store


def test_an_agent_prepares_a_draft_and_its_digest_is_audited(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    assert rec.state is RxState.DRAFT and rec.prepared_by == "bob"
    stored = ready.prescriptions.prescription(rec.rx_id)
    assert stored.patient.name == "Maria Lopez"
    [entry] = [e for e in ready.audit.entries() if e.event == "rx.draft-added"]
    assert entry.details["sha256"] == rec.draft_sha256 and entry.details["by"] == "bob"
    assert "Maria Lopez" not in str(entry.to_json())  # the log carries digests, not names


def test_a_change_to_a_draft_is_audited_with_before_and_after_digests(
    ready: Store, clock: Clock
) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    new = rx_drafts.update_draft(
        ready,
        SMITH,
        rec.rx_id[:8],
        rx_input(clock, quantity=12, directions="1 tablet at night"),
        now=clock(),
    )
    assert new.draft_sha256 != rec.draft_sha256
    assert ready.prescriptions.prescription(rec.rx_id).quantity == 12
    [entry] = [e for e in ready.audit.entries() if e.event == "rx.draft-changed"]
    assert entry.details["before_sha256"] == rec.draft_sha256
    assert entry.details["after_sha256"] == new.draft_sha256
    assert entry.details["fields"] == ["directions", "quantity"]
    assert entry.details["by"] == "drsmith"


def test_a_change_made_on_a_stale_version_saves_nothing(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    rx_drafts.update_draft(ready, BOB, rec.rx_id, rx_input(clock, quantity=10), now=clock())
    with pytest.raises(DraftChanged, match="changed by someone else"):
        rx_drafts.update_draft(
            ready,
            SMITH,
            rec.rx_id,
            rx_input(clock, quantity=30),
            now=clock(),
            expected_sha256=rec.draft_sha256,
        )
    assert ready.prescriptions.prescription(rec.rx_id).quantity == 10


def test_an_unchanged_draft_is_not_a_change(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    with pytest.raises(InputError, match="nothing changed"):
        rx_drafts.update_draft(ready, BOB, rec.rx_id, rx_input(clock), now=clock())


def test_the_prescription_rules_apply_to_drafts(ready: Store, clock: Clock) -> None:
    with pytest.raises(PrescriptionInvalid, match="may not be refilled"):
        rx_drafts.add_draft(ready, BOB, rx_input(clock, refills=1), now=clock())
    assert ready.prescriptions.drafts() == []


def test_who_may_prepare_what(ready: Store, clock: Clock) -> None:
    with pytest.raises(AccessDenied) as denied:
        rx_drafts.add_draft(ready, ANN, rx_input(clock), now=clock())
    assert denied.value.reason is DenyReason.ROLE
    add_user(ready, ANN, "drjones", "Dr. Jones", Role.PRACTITIONER, JONES_DEA, now=clock())
    jones = rx_input(clock)
    jones["practitioner"] = {**jones["practitioner"], "dea_number": JONES_DEA}
    with pytest.raises(AccessDenied, match="only your own") as denied:
        rx_drafts.add_draft(ready, SMITH, jones, now=clock())
    assert denied.value.reason is DenyReason.DEA_MISMATCH
    assert rx_drafts.add_draft(ready, BOB, jones, now=clock()).practitioner_dea == JONES_DEA


def test_a_draft_for_a_practitioner_not_on_record_is_refused(ready: Store, clock: Clock) -> None:
    data = rx_input(clock)
    data["practitioner"] = {**data["practitioner"], "dea_number": JONES_DEA}
    with pytest.raises(InputError, match="not an active practitioner here"):
        rx_drafts.add_draft(ready, BOB, data, now=clock())


def test_the_queue_groups_drafts_per_patient(ready: Store, clock: Clock) -> None:
    a = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    b = rx_drafts.add_draft(ready, BOB, rx_input(clock, quantity=5), now=clock())
    other = rx_input(clock)
    other["patient"] = {**other["patient"], "name": "John Roe"}
    c = rx_drafts.add_draft(ready, BOB, other, now=clock())
    groups = rx_drafts.queue(ready)
    assert [(g.patient_name, {d.rx_id for d in g.drafts}) for g in groups] == [
        ("John Roe", {c.rx_id}),
        ("Maria Lopez", {a.rx_id, b.rx_id}),
    ]
    assert rx_drafts.find_patient(ready, "AB1234563", "maria lopez").patient_key == a.patient_key
    assert rx_drafts.find_patient(ready, "AB1234563", a.patient_key[:12]).patient_name == (
        "Maria Lopez"
    )
    with pytest.raises(InputError, match="No draft for patient"):
        rx_drafts.find_patient(ready, "AB1234563", "Nobody")


def test_a_voided_draft_leaves_the_queue_but_stays_on_record(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    rx_drafts.void_draft(ready, BOB, rec.rx_id, "duplicate", now=clock())
    assert rx_drafts.queue(ready) == []
    assert ready.prescriptions.get(rec.rx_id).state is RxState.VOID
    with pytest.raises(sqlite3.IntegrityError):
        ready.conn.execute("UPDATE prescriptions SET state = 'draft'")
    with pytest.raises(sqlite3.IntegrityError):
        ready.conn.execute("DELETE FROM prescriptions")


def test_a_draft_cannot_be_printed_as_a_prescription(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    with pytest.raises(InputError, match="only a signed prescription"):
        rx_drafts.printed_copy(ready, BOB, rec.rx_id, now=clock())


def test_the_outbox_takes_prescription_messages(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, BOB, rx_input(clock), now=clock())
    with ready.transaction():
        oid = ready.prescriptions.queue_transmission(rec.rx_id, clock())
    row = ready.conn.execute(
        "SELECT kind, idempotency_key FROM outbox WHERE outbox_id = ?", (oid,)
    ).fetchone()
    assert tuple(row) == (OUTBOX_KIND, f"prescription:{rec.rx_id}")
    transmission = ready.prescriptions.transmission(rec.rx_id)
    assert transmission is not None and transmission.status == "waiting to be sent"
