"""Settings under a machine policy, Home's order cards, tray notices, the main window's wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from csos_desktop.config import load_config
from csos_desktop.config.policy import write_policy
from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.gui.screens.home import orders_summary
from csos_desktop.gui.screens.settings import LOCKED_WORDS, SettingsScreen
from csos_desktop.gui.tray import notifications
from csos_desktop.services.tokens.status import CertificateStatus, TokenStatus
from csos_desktop.store import lifecycle, open_store
from csos_desktop.store.orders import OrderRecord
from tests.conftest import machine_policy_at
from tests.gui.conftest import add_drafts


@pytest.fixture()
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    path = tmp_path / "policy.toml"
    return machine_policy_at(monkeypatch, path)


def test_policy_locked_settings_are_read_only_focusable_and_say_who_set_them(
    qtbot: QtBot, policy: Path
) -> None:
    write_policy(
        policy, {"distributor_url": "https://csos.keystone.example/api"}, ["distributor_url"]
    )
    screen = SettingsScreen()
    qtbot.addWidget(screen)
    url = screen.fields["distributor_url"]
    assert url.text() == "https://csos.keystone.example/api"
    # Read-only, not disabled: readable, reached by Tab, announced.
    assert url.widget.isEnabled() and url.edit.isReadOnly() and url.locked
    assert url.widget.focusPolicy() != Qt.FocusPolicy.NoFocus
    assert url.widget.accessibleDescription() == LOCKED_WORDS
    assert LOCKED_WORDS in url.source.text()
    assert not screen.fields["ca_bundle"].edit.isReadOnly()
    assert screen.fields["ca_bundle"].widget.isEnabled()


def test_a_bad_value_is_refused_next_to_its_field_and_a_good_one_saved(
    qtbot: QtBot, policy: Path, tmp_path: Path
) -> None:
    screen = SettingsScreen()
    qtbot.addWidget(screen)
    screen.fields["distributor_url"].edit.setText("http://csos.example")
    bundle = tmp_path / "root.pem"
    screen.fields["ca_bundle"].edit.setText(str(bundle))
    assert not screen.save()
    assert "https://" in screen.fields["distributor_url"].error.text()
    assert load_config().text("ca_bundle") == str(bundle)  # the good one was kept
    screen.fields["distributor_url"].edit.setText("https://csos.example")
    assert screen.save()
    assert load_config().text("distributor_url") == "https://csos.example"
    assert "Your setting" in screen.fields["distributor_url"].source.text()


def test_home_cards_list_orders_awaiting_receipt_and_needing_attention(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with open_store(tmp_path / "csos.db") as store:
        ids = add_drafts(store, 2)
        now = datetime.now(UTC)
        # States as the sync would leave them (the transitions are the store's own).
        store.conn.execute("UPDATE orders SET state = 'shipped' WHERE order_id = ?", (ids[0],))
        store.conn.execute("UPDATE orders SET state = 'submitted' WHERE order_id = ?", (ids[1],))
        store.conn.commit()
        lifecycle.record_rejection(
            store,
            ids[1],
            reason="DEA number not registered at the ship-to address",
            statement=b"{}",
            media_type="application/json",
            now=now,
        )
        window = MainWindow(store=store)
        qtbot.addWidget(window)
        receipt = window.home.receipt_card
        assert "1 order(s)" in receipt.body.text()
        assert receipt.button.isVisibleTo(window) and receipt.button.text() == "Record receipts…"
        assert "not registered at the ship-to address" in window.home.attention_card.body.text()
        assert "nothing waiting to send" in window.outbox_label.text()
        receipt.button.click()
        assert window.stack.currentWidget() is window.receiving
        assert window.receiving.orders.count() == 1
        assert "has not been signed" in window.receiving.status.text()  # said, not raised
        window.home.attention_card.button.click()
        assert window.orders.filter.currentText() == "Needs attention"
        assert window.orders.model is not None and window.orders.model.total == 1
        summary = orders_summary(store)
        assert summary.awaiting == 1 and summary.attention == 1


def test_token_removal_updates_the_status_bar_in_words(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_status(TokenStatus("/x.so", None, (), "No token inserted."))
    assert "No token" in window.token_label.text()
    assert "No token inserted." in window.home.token_card.body.text()


def _rec(order_id: str, number: str, state: OrderState) -> OrderRecord:
    return OrderRecord(
        order_id,
        number,
        "AB1234563",
        "RK0452716",
        "Keystone",
        state,
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        None,
        True,
        None,
        1,
    )


def test_tray_tells_each_event_once() -> None:
    from csos_desktop.gui.screens.home import OrdersSummary

    now = datetime.now(UTC)
    expiring = CertificateStatus(
        "aa",
        "Main Street Pharmacy",
        "CA",
        1,
        "AB1234563",
        ("2",),
        now - timedelta(days=700),
        now + timedelta(days=20),
        20,
    )
    ok_status = TokenStatus("/x.so", None, ())
    seen, first = notifications(None, OrdersSummary(0, (), 0, (), 0), ok_status)
    assert first == []
    shipped = _rec("o1", "26X000001", OrderState.SHIPPED)
    held = _rec("o2", "26X000002", OrderState.INTERCEPTED)
    summary = OrdersSummary(1, (shipped,), 1, ((held, "held for review by SOM"),), 0)
    status = TokenStatus("/x.so", None, (expiring,))
    seen, told = notifications(seen, summary, status)
    assert [t for t, _ in told] == [
        "Order 26X000001 shipped",
        "Order 26X000002 held for review",
        "CSOS certificate expiring",
    ]
    _, again = notifications(seen, summary, status)
    assert again == []


def test_every_control_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QLineEdit,
        QSpinBox,
    )

    with open_store(tmp_path / "csos.db") as store:
        window = MainWindow(store=store)
        qtbot.addWidget(window)
        window.show()
        checked, unnamed = 0, []
        for name in window.screens:
            window.show_screen(name)
            for kind in (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QSpinBox):
                for w in window.findChildren(kind):
                    if not w.isVisible() or isinstance(w.parent(), QComboBox | QAbstractItemView):
                        continue  # hidden, or a part of a composite control
                    checked += 1
                    if not w.accessibleName():
                        unnamed.append(f"{type(w).__name__} on {name}")
        assert checked > 25
        assert unnamed == []


def test_a_closed_window_leaves_a_closed_store_alone(qtbot: QtBot, tmp_path: Path) -> None:
    from csos_desktop.store import open_store

    store = open_store(tmp_path / "csos.db")
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    window.show()
    window.close()
    store.close()
    window.refresh_orders()  # a late timer tick or sync result: nothing touches the store
    assert not window._refresh.isActive()
