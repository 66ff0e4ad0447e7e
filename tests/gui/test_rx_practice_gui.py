"""Practice users and signing permissions in the window (21 CFR 1311.125), on the real
SoftHSM2 token: the first administrator adds the practice, one person proposes a
permission naming the token's certificate, a second person, a registrant, approves it with
token and PIN; a revocation is entered by one and executed by another. Signing without a
permission is refused in the signing dialog, before the PIN, with the reason."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.prescriptions import PrescriptionsScreen
from csos_desktop.gui.screens.rx_practice import PracticePanel
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.store import Store, open_store
from csos_desktop.store.access import GrantState
from tests.conftest import TEST_PIN, Provisioned, machine_policy_at
from tests.gui.test_prescriptions_gui import _act_as
from tests.integration.rx.conftest import crl_check
from tests.ntp import ntp_policy_line
from tests.unit.rx.helpers import BOB, permit, practice, rx_input
from tests.unit.store.helpers import Clock


@pytest.fixture()
def empty_store(store_path: Path) -> Iterator[Store]:
    with open_store(store_path) as store:
        yield store


def _screen(qtbot: QtBot, store: Store, worker: TokenWorker, ca: TestCa) -> PrescriptionsScreen:
    screen = PrescriptionsScreen(store, SigningLauncher(worker), revocation=lambda: crl_check(ca))
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(
        lambda: worker.last_status is not None and worker.last_status.certificate is not None,
        timeout=10_000,
    )
    return screen


def _add(panel: PracticePanel, user_id: str, name: str, role: str, dea: str = "") -> None:
    panel.new_id.setText(user_id)
    panel.new_name.setText(name)
    panel.new_role.setCurrentIndex(panel.new_role.findText(role))
    panel.new_dea.setText(dea)
    panel.add_button.click()


def _select(table: object, text: str) -> None:
    from PySide6.QtWidgets import QTableWidget

    assert isinstance(table, QTableWidget)
    [item] = [
        it
        for r in range(table.rowCount())
        if (it := table.item(r, 0)) is not None and it.text() == text
    ]
    table.setCurrentCell(item.row(), 0)


def _second_person(qtbot: QtBot, panel: PracticePanel, button: object, pin: str) -> SigningDialog:
    """Press Approve / Execute revocation, type the PIN in the signing dialog, sign."""
    from PySide6.QtWidgets import QPushButton

    assert isinstance(button, QPushButton)
    button.click()
    dialog = panel.dialog
    assert isinstance(dialog, SigningDialog)
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=20_000)
    qtbot.keyClicks(dialog.pin, pin)  # type: ignore[no-untyped-call]
    dialog.sign_button.click()
    assert dialog.pin.text() == ""
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=30_000)
    return dialog


def test_users_and_a_two_person_permission_and_its_two_step_revocation(
    qtbot: QtBot, empty_store: Store, token_worker: TokenWorker, test_ca: TestCa
) -> None:
    screen = _screen(qtbot, empty_store, token_worker, test_ca)
    panel = screen.practice
    assert panel is not None
    screen.tabs.setCurrentIndex(2)
    assert "first access administrator" in screen.status.text()
    # The first user must be an access administrator (the service says so).
    _add(panel, "drsmith", "Dr. Jane Smith", "practitioner", "AB1234563")
    assert "first user must be an access administrator" in panel.status.text()
    _add(panel, "ann", "Ann Admin", "access administrator")
    assert panel.users.rowCount() == 1
    _act_as(screen, "ann")
    _add(panel, "drsmith", "Dr. Jane Smith", "practitioner", "AB1234563")
    _add(panel, "bob", "Bob Agent", "agent", "AB1234563")
    assert "An agent has no DEA number" in panel.status.text()
    assert panel.users.rowCount() == 2

    # First person: the permission names the certificate on the token (no PIN).
    _select(panel.users, "drsmith")
    panel.expires.setText("2029-10-31")
    panel.propose_button.click()  # the registration not confirmed as checked: refused
    qtbot.waitUntil(lambda: "Before proposing" in panel.status.text(), timeout=20_000)
    panel.verified.setChecked(True)
    panel.propose_button.click()
    qtbot.waitUntil(lambda: "Proposed permission #1" in panel.status.text(), timeout=20_000)
    [grant] = empty_store.rx_grants.all()
    assert grant.state is GrantState.PROPOSED and grant.certificate_sha256

    # The proposer cannot approve it: the dialog says why, nothing changes.
    _select(panel.grants, "1")
    dialog = _second_person(qtbot, panel, panel.approve_button, TEST_PIN)
    assert dialog.outcome is not None and not dialog.outcome.signed
    assert "second person must approve it" in dialog.summary.toPlainText()
    dialog.close()
    assert empty_store.rx_grants.get(1).state is GrantState.PROPOSED
    # The second person, a registrant, approves with their token and PIN.
    _act_as(screen, "drsmith")
    _select(panel.grants, "1")
    dialog = _second_person(qtbot, panel, panel.approve_button, TEST_PIN)
    assert dialog.outcome is not None and dialog.outcome.signed, dialog.outcome
    dialog.close()
    assert empty_store.rx_grants.get(1).state is GrantState.ACTIVE
    assert "#1 active" in panel.users.item(1, 4).text()  # type: ignore[union-attr]

    # Revocation, step one: entered by one person; signing stops at once.
    _act_as(screen, "ann")
    _select(panel.grants, "1")
    panel.revoke_button.click()
    assert "Give the reason" in panel.status.text()
    panel.reason.setText("left the practice")
    panel.revoke_button.click()
    assert "entered" in panel.status.text()
    entered = empty_store.rx_grants.get(1)
    assert entered.revoke_entered_by == "ann" and not entered.may_sign
    # Step two: not by the one who entered it; by a registrant with token and PIN.
    _select(panel.grants, "1")
    dialog = _second_person(qtbot, panel, panel.execute_button, TEST_PIN)
    assert "second person executes it" in dialog.summary.toPlainText()
    dialog.close()
    _act_as(screen, "drsmith")
    _select(panel.grants, "1")
    dialog = _second_person(qtbot, panel, panel.execute_button, TEST_PIN)
    assert dialog.outcome is not None and dialog.outcome.signed, dialog.outcome
    dialog.close()
    revoked = empty_store.rx_grants.get(1)
    assert revoked.state is GrantState.REVOKED and revoked.revoked_by == "drsmith"
    assert "revoked by drsmith" in panel.grants.item(0, 6).text()  # type: ignore[union-attr]
    audit = list(empty_store.audit.entries())
    events = [e.event for e in audit]
    for event in ("rx.grant-proposed", "rx.grant-approved", "rx.grant-revoke-entered"):
        assert event in events, event
    denied = [e.details["action"] for e in audit if e.event == "rx.access-denied"]
    assert denied == ["grant-approve", "grant-revoke-execute"]  # the two refused persons
    assert TEST_PIN not in str([e.details for e in audit])


def test_signing_without_a_permission_is_refused_with_the_reason(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, test_ca: TestCa
) -> None:
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)  # Dr. Smith is on record, but no permission was granted
        rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
        screen = _screen(qtbot, store, token_worker, test_ca)
        _act_as(screen, "drsmith")
        top = screen.drafts.topLevelItem(0)
        assert top is not None and top.child(0) is not None
        top.child(0).setCheckState(0, Qt.CheckState.Checked)  # type: ignore[union-attr]
        screen.sign_button.click()
        dialog = screen.dialog
        assert dialog is not None
        qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=20_000)
        assert "drsmith has no permission to sign" in dialog.status.text()
        assert not dialog.sign_button.isEnabled()
        denied = [e for e in store.audit.entries() if e.event == "rx.access-denied"]
        assert denied and denied[-1].details["reason"] == "no-permission"
        assert len(store.prescriptions.drafts()) == 1
        dialog.close()


def _refused_in_dialog(qtbot: QtBot, screen: PrescriptionsScreen) -> str:
    """Tick the first patient's drafts, press Review and sign: the dialog's refusal."""
    _act_as(screen, "drsmith")
    top = screen.drafts.topLevelItem(0)
    assert top is not None
    for j in range(top.childCount()):
        top.child(j).setCheckState(0, Qt.CheckState.Checked)  # type: ignore[union-attr]
    screen.sign_button.click()
    dialog = screen.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=20_000)
    assert not dialog.sign_button.isEnabled()
    text = html.unescape(dialog.status.text())
    dialog.close()
    return text


def test_a_certificate_other_than_the_granted_one_is_refused_with_the_reason(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, test_ca: TestCa
) -> None:
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        permit(store, clock)  # granted for Dr. Smith's other certificate, not the token's
        rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
        screen = _screen(qtbot, store, token_worker, test_ca)
        shown = _refused_in_dialog(qtbot, screen)
        assert "is not the one drsmith's permission #1 was granted for" in shown
        assert len(store.prescriptions.drafts()) == 1


def test_a_software_token_is_refused_for_prescriptions_with_the_reason(
    qtbot: QtBot,
    store_path: Path,
    token_worker: TokenWorker,
    test_ca: TestCa,
    rsa_token: Provisioned,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        permit(store, clock, certificate_der=rsa_token.certificate_der)
        rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
        screen = _screen(qtbot, store, token_worker, test_ca)
        # This machine's policy no longer allows software tokens (the product's default).
        policy = machine_policy_at(monkeypatch, tmp_path / "policy.toml")
        policy.write_text("[settings]\n" + ntp_policy_line(), encoding="utf-8")
        shown = _refused_in_dialog(qtbot, screen)
        assert "software" in shown.lower() and "1311.115" in shown, shown
        assert len(store.prescriptions.drafts()) == 1
