"""Prescriptions in the window: drafts per patient, agents cannot sign, a practitioner signs
one patient's ready prescriptions with the attestation shown (real SoftHSM2 token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from csos_desktop.domain.attestation import RX_SIGNING_ATTESTATION, SIGN_BUTTON_LABEL
from csos_desktop.gui.dialogs.rx_signing import RxSigningJob
from csos_desktop.gui.dialogs.signing import Phase
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.signing import TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.prescriptions import PrescriptionsScreen
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.access import Actor, SigningRefused
from csos_desktop.store import Store, open_store
from csos_desktop.store.prescriptions import RxState
from tests.conftest import TEST_PIN, Provisioned
from tests.gui.conftest import on_token_thread
from tests.integration.rx.conftest import crl_check
from tests.unit.rx.helpers import BOB, permit, practice, rx_input
from tests.unit.store.helpers import Clock

OTHER_PATIENT = {
    "name": "Tom Baker",
    "address": {
        "street": "9 Oak Road",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    },
}


@pytest.fixture()
def rx_store(store_path: Path, rsa_token: Provisioned) -> Iterator[Store]:
    """A practice (admin, practitioner permitted to sign with the RSA token's certificate,
    agent) and three drafts by the agent: two for Maria Lopez, one for Tom Baker."""
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        permit(store, clock, certificate_der=rsa_token.certificate_der)
        for data in (
            rx_input(clock),
            rx_input(clock, quantity=10),
            rx_input(clock, patient=OTHER_PATIENT),
        ):
            rx_drafts.add_draft(store, BOB, data, now=clock())
        yield store


def _screen(
    qtbot: QtBot, store: Store, worker: TokenWorker | None, ca: TestCa
) -> PrescriptionsScreen:
    screen = PrescriptionsScreen(store, SigningLauncher(worker), revocation=lambda: crl_check(ca))
    qtbot.addWidget(screen)
    screen.show()
    return screen


def _act_as(screen: PrescriptionsScreen, user_id: str) -> None:
    """Choose the user in the list and press Act as (choosing alone changes nobody)."""
    screen.acting_user.choose(user_id)
    screen.acting_user.act_button.click()
    assert screen.acting is not None and screen.acting.user_id == user_id


def test_an_agent_sees_the_drafts_but_cannot_sign(
    qtbot: QtBot, rx_store: Store, token_worker: TokenWorker, target: TokenTarget, test_ca: TestCa
) -> None:
    screen = _screen(qtbot, rx_store, token_worker, test_ca)
    _act_as(screen, "bob")
    assert screen.drafts.topLevelItemCount() == 2  # one line per patient
    names = {
        screen.drafts.topLevelItem(i).text(0)  # type: ignore[union-attr]
        for i in range(2)
    }
    assert names == {"Maria Lopez — 2 draft(s)", "Tom Baker — 1 draft(s)"}
    assert not screen.sign_button.isVisibleTo(screen)
    assert "only the practitioner signs" in screen.status.text()
    assert "operating-system login" in screen.binding.text()
    # The job itself refuses an agent too, before any PIN, and the refusal is audited.
    group = rx_drafts.queue(rx_store)[0]
    job = RxSigningJob(
        rx_store.path,
        Actor("bob"),
        group.patient_key,
        [d.rx_id for d in group.drafts],
        target,
        crl_check(test_ca),
    )
    with pytest.raises(SigningRefused, match="only the practitioner signs"):
        on_token_thread(qtbot, token_worker, lambda: job.preview(lambda _e: None))
    assert any(e.event == "rx.access-denied" for e in rx_store.audit.entries())


def test_a_practitioner_reviews_attests_and_signs_one_patients_ready_prescriptions(
    qtbot: QtBot, rx_store: Store, token_worker: TokenWorker, test_ca: TestCa
) -> None:
    screen = _screen(qtbot, rx_store, token_worker, test_ca)
    qtbot.waitUntil(
        lambda: (
            token_worker.last_status is not None
            and token_worker.last_status.certificate is not None
        ),
        timeout=10_000,
    )
    _act_as(screen, "drsmith")
    assert screen.sign_button.isVisibleTo(screen) and not screen.sign_button.isEnabled()
    maria = next(
        screen.drafts.topLevelItem(i)
        for i in range(2)
        if screen.drafts.topLevelItem(i).text(0).startswith("Maria")
    )  # type: ignore[union-attr]
    assert maria is not None
    for j in range(maria.childCount()):
        maria.child(j).setCheckState(0, Qt.CheckState.Checked)  # type: ignore[union-attr]
    assert screen.ready.count() == 2 and screen.sign_button.isEnabled()
    ready = next(iter(screen.ready_ids().values()))

    screen.sign_button.click()
    dialog = screen.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=20_000)
    assert dialog.attestation.text() == RX_SIGNING_ATTESTATION
    assert dialog.attestation.isVisibleTo(dialog)
    assert dialog.sign_button.text() == SIGN_BUTTON_LABEL
    shown = dialog.summary.toPlainText()
    for rx_id in ready:
        for line in rx_store.prescriptions.prescription(rx_id).review_lines()[1:]:
            assert " ".join(line.split()) in " ".join(shown.split())
    assert "Prescription 2 of 2" in shown and "Signing as Dr. Jane Smith" in shown

    qtbot.keyClicks(dialog.pin, TEST_PIN)  # type: ignore[no-untyped-call]
    dialog.sign_button.click()
    assert dialog.pin.text() == ""  # cleared the moment Sign is pressed
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=30_000)
    assert dialog.outcome is not None and len(dialog.outcome.signed) == 2, dialog.outcome
    assert {rx_store.prescriptions.get(i).state for i in ready} == {RxState.SIGNED}
    assert [d.patient_name for d in rx_store.prescriptions.drafts()] == ["Tom Baker"]
    events = [e.event for e in rx_store.audit.entries()]
    assert events.count("rx.signed") == 2
    assert TEST_PIN not in str([e.details for e in rx_store.audit.entries()])
    # The screen re-read the queue: only Tom Baker's draft is left.
    assert screen.drafts.topLevelItemCount() == 1
    dialog.close()
