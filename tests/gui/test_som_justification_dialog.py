"""The signing dialog's SOM list: one row per flagged order, kept only with the signature.

Offscreen, with a real SoftHSM2 token on the token thread and a real store.
"""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import TEST_PIN
from tests.unit.store.helpers import flagged_order_input, order_input

SOM_EVENTS = {AuditEvent.SOM_WARNING_ACKNOWLEDGED, AuditEvent.SOM_DISPOSITION}
WHY = "two new hospice patients admitted this week"


def _open(
    qtbot: QtBot, store_path: Path, ids: list[str], worker: TokenWorker, target: TokenTarget
) -> SigningDialog:
    dialog = SigningDialog(OrderBatch(store_path, ids, target), worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase in (Phase.BLOCKED, Phase.READY), timeout=10_000)
    return dialog


def _flagged_draft(store_path: Path) -> str:
    with open_store(store_path) as store:
        [rec] = svc.import_orders(store, flagged_order_input(), source="file:import.json")
    return rec.order_id


def _som_entries(store_path: Path) -> list[str]:
    with open_store(store_path) as store:
        return [e.event for e in store.audit.entries() if e.event in SOM_EVENTS]


def test_cancel_after_a_justification_keeps_nothing_and_the_warning_comes_back(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    order_id = _flagged_draft(store_path)
    dialog = _open(qtbot, store_path, [order_id], token_worker, target)
    assert dialog.phase is Phase.BLOCKED
    qtbot.keyClicks(dialog.justifications.fields[order_id], WHY)
    dialog.justify_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    dialog.cancel_button.click()
    assert dialog.result() == SigningDialog.DialogCode.Rejected

    assert _som_entries(store_path) == []  # no justification, no "cleared"
    with open_store(store_path) as store:
        assert store.orders.get(order_id).state is OrderState.DRAFT
    again = _open(qtbot, store_path, [order_id], token_worker, target)
    assert again.phase is Phase.BLOCKED and again.justifications.isVisible()
    assert again.justifications.fields[order_id].text() == ""
    assert again.justifications.flag_labels[order_id]
    assert "Needed" in again.justifications.verdicts[order_id].text()


def test_text_that_is_not_words_is_refused_in_its_row(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    order_id = _flagged_draft(store_path)
    dialog = _open(qtbot, store_path, [order_id], token_worker, target)
    qtbot.keyClicks(dialog.justifications.fields[order_id], "xxxxxxxxxxxxxxxxxxxx")
    dialog.justify_button.click()
    qtbot.waitUntil(
        lambda: "repeats one character" in dialog.justifications.verdicts[order_id].text(),
        timeout=10_000,
    )
    assert dialog.phase is Phase.BLOCKED and not dialog.sign_button.isEnabled()


def test_each_flagged_order_has_its_own_row_and_a_usual_order_is_not_held_up(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    with open_store(store_path) as store:
        first, second, usual = svc.import_orders(
            store, [flagged_order_input(), flagged_order_input(), order_input()], source="test"
        )
    ids = [first.order_id, second.order_id, usual.order_id]
    dialog = _open(qtbot, store_path, ids, token_worker, target)
    # The usual order can be signed at once; each flagged one waits for its own reason.
    assert dialog.phase is Phase.READY
    assert set(dialog.justifications.fields) == {first.order_id, second.order_id}
    assert "CLI" not in dialog.summary.toPlainText()
    assert "--som-justification" not in dialog.summary.toPlainText()
    qtbot.keyClicks(dialog.justifications.fields[first.order_id], WHY)
    dialog.justify_button.click()
    qtbot.waitUntil(
        lambda: "accepted" in dialog.justifications.verdicts[first.order_id].text(),
        timeout=10_000,
    )
    assert "Needed" in dialog.justifications.verdicts[second.order_id].text()
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    assert dialog.outcome is not None
    [held] = dialog.outcome.unsigned
    assert held.label == second.order_number and "justification" in held.reason
    assert "csos" not in held.reason and "--" not in held.reason  # no command-line wording
    with open_store(store_path) as store:
        states = {r: store.orders.get(r).state for r in ids}
        [ack] = [e for e in store.audit.entries() if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED]
        subject = store.signed.get(first.order_id).signer_subject
    assert states == {
        first.order_id: OrderState.SIGNED,
        second.order_id: OrderState.DRAFT,
        usual.order_id: OrderState.SIGNED,
    }
    assert ack.order_id == first.order_id and ack.details["justification"] == WHY
    assert ack.details["acknowledged_by"] == subject
