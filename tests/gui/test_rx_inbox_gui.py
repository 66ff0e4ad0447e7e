"""The pharmacy's prescription inbox screen: received NewRx listed with the verdict kept,
the selected one shown for dispensing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.domain.script.newrx import SignatureIndicator, build_newrx, with_signature
from csos_desktop.gui.dialogs.signing import Phase
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.rx_inbox import RxInboxScreen
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import Store, open_store
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.rx.test_newrx_pharmacy import MAIN_STREET, sign_newrx, trust_of
from tests.integration.store.tokens import open_identity
from tests.unit.script.samples import sample_pharmacy, sample_prescription


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "pharmacy.db") as s:
        yield s


def test_received_files_are_listed_with_their_verdicts_and_shown_for_dispensing(
    qtbot: QtBot, store: Store, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    ts, identity = open_identity(rsa_token)
    with ts:
        rx = sample_prescription(datetime.now(UTC))
        message = sign_newrx((ts, identity), test_ca, rx, sample_pharmacy())
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(message)
    bad.write_bytes(message.replace(b"<Value>20</Value>", b"<Value>90</Value>"))
    screen = RxInboxScreen(store, trust=trust_of(test_ca))
    qtbot.addWidget(screen)
    screen.receive_files([good])
    assert "NCPDP ID first" in screen.message.text() and not store.script.all()
    screen.ncpdp_id.setText(MAIN_STREET)
    screen.receive_files([good, bad])
    assert screen.table.topLevelItemCount() == 2
    items = [screen.table.topLevelItem(i) for i in range(2)]
    rows = {item.text(2): item for item in items if item is not None}
    assert rows["good.xml"].text(4) == "Verified on receipt"
    assert rows["bad.xml"].text(4).startswith("NOT verified")
    assert "digest-mismatch" in rows["bad.xml"].text(5)
    screen.table.setCurrentItem(rows["good.xml"])
    shown = screen.detail.text()
    assert "Verified on receipt" in shown and "Maria Lopez" in shown
    assert "Main Street Pharmacy (NCPDP 1234567)" in shown
    assert [m.message for m in store.script.all()] == [message, bad.read_bytes()]


def test_an_indicator_only_record_is_signed_by_the_pharmacist_from_the_inbox(
    qtbot: QtBot, store: Store, token_worker: TokenWorker, test_ca: TestCa, tmp_path: Path
) -> None:
    rx = sample_prescription(datetime.now(UTC))
    message = with_signature(build_newrx(rx, sample_pharmacy()), SignatureIndicator())
    path = tmp_path / "indicator.xml"
    path.write_bytes(message)
    screen = RxInboxScreen(store, launcher=SigningLauncher(token_worker), trust=trust_of(test_ca))
    qtbot.addWidget(screen)
    qtbot.waitUntil(
        lambda: (
            token_worker.last_status is not None
            and token_worker.last_status.certificate is not None
        ),
        timeout=10_000,
    )
    screen.ncpdp_id.setText(MAIN_STREET)
    screen.receive_files([path])
    assert "pharmacy to sign" in screen.detail.text() and screen.sign_button.isEnabled()
    screen.sign_button.click()
    dialog = screen.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=20_000)
    assert "signing indicator only" in dialog.summary.toPlainText()
    qtbot.keyClicks(dialog.pin, TEST_PIN)  # type: ignore[no-untyped-call]
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=30_000)
    [record] = store.script.all()
    assert record.pharmacy_signature is not None and record.message == message
    assert "Signed by the pharmacy" in screen.detail.text()
    assert not screen.sign_button.isEnabled()
    dialog.close()
