"""Orders over 100,000 stored orders and the Activity screen's chain check (pytest-qt)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.screens.activity import ActivityScreen
from csos_desktop.gui.screens.orders import FILTERS, PAGE, STATE_LOOK, OrdersScreen
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, open_store
from tests.unit.domain.samples import sample_order_input

MANY = 100_000
STATES = [OrderState.DRAFT, OrderState.SUBMITTED, OrderState.SHIPPED, OrderState.RECEIVED]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """100,000 orders written straight into the table (the store's own path is tested elsewhere)."""
    store = open_store(tmp_path_factory.mktemp("big") / "csos.db")
    rows = [
        (
            f"{i:08d}-0000-4000-8000-000000000000",
            f"26X{i:06d}",
            "AB1234563",
            "RK0452716",
            "Keystone Wholesale Drug Co." if i % 2 else "Great Lakes Distribution",
            STATES[i % 4].value,
            f"2026-{1 + i % 12:02d}-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            b"{}",
        )
        for i in range(MANY)
    ]
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO orders (order_id, order_number, purchaser_dea, supplier_dea, "
            "supplier_name, state, created_at, updated_at, draft_document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    yield store
    store.close()


def test_orders_table_loads_pages_not_everything(qtbot: QtBot, big_store: Store) -> None:
    screen = OrdersScreen(big_store)
    qtbot.addWidget(screen)
    screen.show()
    QApplication.processEvents()
    model = screen.model
    assert model is not None
    assert model.total == MANY
    assert "100,000 order(s)" in screen.summary.text()
    assert PAGE <= model.rowCount() <= 2 * PAGE
    for _ in range(5):
        screen.table.scrollToBottom()
        QApplication.processEvents()
    assert model.rowCount() < 20 * PAGE


def test_filter_and_search_narrow_the_count(qtbot: QtBot, big_store: Store) -> None:
    screen = OrdersScreen(big_store)
    qtbot.addWidget(screen)
    screen.filter.setCurrentText("Drafts")
    assert screen.model is not None and screen.model.total == MANY // 4
    screen.filter.setCurrentText("All orders")
    screen.search.setText("26X000042")
    assert screen.model.total == 1
    screen.search.setText("great lakes")
    assert screen.model.total == MANY // 2


def test_every_state_has_words_not_only_colour() -> None:
    assert set(STATE_LOOK) == set(OrderState)
    assert all(words for words, _ in STATE_LOOK.values())
    assert {s for states in FILTERS.values() for s in states} == set(OrderState)


@pytest.fixture()
def small_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "csos.db")
    data = sample_order_input()
    svc.import_orders(store, data, source="test")
    yield store
    store.close()


def test_verify_log_reports_intact_then_the_broken_link(qtbot: QtBot, small_store: Store) -> None:
    screen = ActivityScreen(small_store)
    qtbot.addWidget(screen)
    assert screen.table.rowCount() >= 2
    screen.verify_button.click()
    qtbot.waitUntil(lambda: "intact" in screen.result.text(), timeout=5000)
    small_store.conn.execute("DROP TRIGGER IF EXISTS audit_log_append_only")
    small_store.conn.execute(
        "UPDATE audit_log SET details = ? WHERE entry_id = 2", (json.dumps({"forged": True}),)
    )
    small_store.conn.commit()
    screen.verify_button.click()
    qtbot.waitUntil(lambda: "broken at entry" in screen.result.text(), timeout=5000)


def test_no_store_says_why(qtbot: QtBot) -> None:
    screen = OrdersScreen(None, "The order database is damaged: restore csos.db.bak-1-….")
    qtbot.addWidget(screen)
    assert "damaged" in screen.summary.text()
    assert not screen.search.isEnabled()
