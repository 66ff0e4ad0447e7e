"""The order editor and its SOM panel on a real store with cached history (pytest-qt)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.charts.som_chart import build_chart
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order, parse_order_input
from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.order_editor import OrderEditor
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.som.review import acknowledge_warnings, review_order
from csos_desktop.som import Decision
from csos_desktop.store import Store, open_store
from tests.gui.conftest import add_drafts
from tests.gui.history import OXY_5, SUPPLIER, add_history
from tests.unit.domain.samples import sample_order_input
from tests.unit.store.helpers import brand_order_input

OXY = bundled_catalogue().product(OXY_5.replace("-", ""))


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "csos.db")
    add_history(s)
    yield s
    s.close()


def editor(qtbot: QtBot, store: Store) -> OrderEditor:
    ed = OrderEditor(store, signer_name="Main Street Pharmacy", signer_dea="AB1234563")
    qtbot.addWidget(ed)
    ed.show()
    ed.purchaser.set_values(
        {
            "name": "Main Street Pharmacy",
            "dea_number": "AB1234563",
            "address": {
                "street": "120 Main Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
            },
        }
    )
    return ed


def settle(qtbot: QtBot, ed: OrderEditor) -> None:
    qtbot.waitUntil(lambda: not ed.pending_review(), timeout=10_000)


def test_messages_appear_next_to_the_fields_they_are_about(qtbot: QtBot, store: Store) -> None:
    ed = editor(qtbot, store)
    ed.supplier.set_values({**SUPPLIER, "dea_number": "RK0452717"})  # bad check digit
    settle(qtbot, ed)
    problems = ed.problems_by_field()
    assert "supplier.dea_number" in problems and "check digit" in problems["supplier.dea_number"]
    assert ed.supplier.errors["dea_number"].isVisible()
    assert "lines" not in problems  # not before a line was added or a save was tried
    assert ed.save() is None
    assert "at least one line" in ed.problems_by_field()["lines"]
    ed.supplier.edits["dea_number"].setText("RK0452716")
    ed.lines.search.setText("99101-0010-01")
    ed.lines.add_button.click()
    settle(qtbot, ed)
    assert ed.problems_by_field() == {}


def test_completer_finds_products_by_ndc_and_by_name(qtbot: QtBot, store: Store) -> None:
    ed = editor(qtbot, store)
    model = ed.lines.search.completer().model()
    texts = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert any(t.startswith("99101-0010-01 — Oxycodone 5 mg tablet") for t in texts)
    ed.lines.search.setText("hydromorphone 4 mg")
    ed.lines.add_button.click()
    assert ed.lines.table.item(0, 1).text().startswith("Hydromorphone 4 mg")


def test_som_panel_follows_the_lines_and_the_warning_must_be_acknowledged(
    qtbot: QtBot, store: Store
) -> None:
    ed = editor(qtbot, store)
    ed.supplier.set_values(SUPPLIER)
    assert OXY is not None
    ed.lines.add_product(OXY, packages=2)
    settle(qtbot, ed)
    assert ed.som.review is not None and ed.som.review.assessment.decision is Decision.OK
    assert not ed.som.ack_box.isVisible()
    ed.lines.set_packages(0, 40)
    settle(qtbot, ed)
    review = ed.som.review
    assert review is not None and review.assessment.decision is Decision.INTERCEPT
    assert "4,000 units this order, 20.0× the 12-month median of 200" in ed.som.summary.text()
    # band, baseline, warning line, intercept line, past orders, this order
    assert len(ed.som.chart.chart().series()) == 6
    assert "hold 6×" in [s.name() for s in ed.som.chart.chart().series()][3]
    assert ed.save() is None  # not acknowledged yet
    assert "SOM warnings" in ed.general_error.text()
    ed.som.justification.setPlainText("Two new hospice patients this month, per Dr. Smith.")
    ed.som.confirm.setChecked(True)
    rec = ed.save()
    assert rec is not None and rec.state is OrderState.DRAFT
    acks = [e for e in store.audit.entries() if e.event == "som.warning-acknowledged"]
    assert acks[0].order_id == rec.order_id
    assert acks[0].details["justification"].startswith("Two new hospice patients")
    assert acks[0].details["decision"] == "intercept"
    assert store.audit.verify().intact


def test_acknowledgement_needs_a_warning_and_a_reason(store: Store) -> None:
    oid = add_drafts(store, 1)[0]
    ok = review_order(store, oxy_order(2))
    with pytest.raises(InputError, match="no SOM warning"):
        acknowledge_warnings(store, oid, ok.assessment, "a long enough reason")
    flagged = review_order(store, oxy_order(40))
    with pytest.raises(InputError, match="legitimate"):
        acknowledge_warnings(store, oid, flagged.assessment, "ok")
    assert not [e for e in store.audit.entries() if e.event == "som.warning-acknowledged"]


def oxy_order(packages: int) -> Order:
    data = sample_order_input()
    data["lines"] = [
        {
            "line_no": 1,
            "ndc": OXY_5,
            "item_name": "Oxycodone 5 mg tablet",
            "strength": "5 mg",
            "dosage_form": "tablet",
            "package_size": 100,
            "quantity": packages,
            "schedule": "2",
        }
    ]
    return parse_order_input(data, now=datetime.now(UTC))


def test_chart_has_this_order_as_its_last_point(store: Store, qtbot: QtBot) -> None:
    review = review_order(store, oxy_order(40))
    chart = build_chart(review.charts[0].series, review.charts[0].label, review.assessment.decision)
    this = chart.series()[-1]
    assert this.name() == "this order (intercept)"
    assert this.points()[0].y() == 4000


def test_a_draft_opens_filled_in_and_saves_in_place(qtbot: QtBot, store: Store) -> None:
    [order_id] = add_drafts(store, 1)
    rec = store.orders.get(order_id)
    ed = OrderEditor(store, editing=rec)
    qtbot.addWidget(ed)
    ed.show()
    assert ed.windowTitle() == f"Edit draft {rec.order_number}"
    before = store.orders.order(order_id)
    assert ed.lines.table.rowCount() == len(before.lines)
    assert ed.supplier.values()["name"] == before.supplier.name
    ed.lines.set_packages(0, before.lines[0].quantity + 1)
    settle(qtbot, ed)
    if ed.som.review is not None and ed.som.review.needs_acknowledgement:
        ed.som.justification.setPlainText("Flu season: two prescribers joined the practice.")
        ed.som.confirm.setChecked(True)
    saved = ed.save()
    assert saved is not None and saved.order_id == order_id
    assert saved.order_number == rec.order_number and saved.state is OrderState.DRAFT
    assert store.orders.order(order_id).lines[0].quantity == before.lines[0].quantity + 1
    assert [e.event for e in store.audit.entries(order_id=order_id)][-1] in (
        "order.draft-changed",
        "som.warning-acknowledged",
    )


def test_the_completer_offers_the_imported_fda_catalogue(qtbot: QtBot, tmp_path: Path) -> None:
    from csos_desktop.services.orders.catalogue import import_directory

    fda = Path(__file__).parents[2] / "docs" / "samples" / "fda-ndc"
    with open_store(tmp_path / "fda.db") as s:
        import_directory(s, fda / "product.txt", fda / "package.txt")
        ed = editor(qtbot, s)
        offered = ed.lines._product_model.stringList()
        assert any(
            t.startswith("99901-0101-01 — Oxycodone Hydrochloride 10 mg tablet") for t in offered
        )
        assert not any(t.startswith("99101") for t in offered)  # the sandbox catalogue is gone
        ed.close()


def test_a_flagged_order_closed_without_saving_leaves_its_flags_as_abandoned(
    qtbot: QtBot, store: Store
) -> None:
    ed = editor(qtbot, store)
    ed.supplier.set_values(SUPPLIER)
    assert OXY is not None
    ed.lines.add_product(OXY, packages=40)
    settle(qtbot, ed)
    assert ed.som.review is not None and ed.som.review.needs_acknowledgement
    ed.cancel_button.click()
    assert ed.isVisible() and ed.discard_box is not None  # asked first
    assert not [e for e in store.audit.entries() if e.event == "som.disposition"]
    discard = next(b for b in ed.discard_box.buttons() if b.text() == "&Discard changes")
    discard.click()
    assert not ed.isVisible()
    [entry] = [e for e in store.audit.entries() if e.event == "som.disposition"]
    assert entry.details["disposition"] == "abandoned" and entry.order_id is None
    assert entry.details["lines"][0]["quantity"] == 40 and entry.details["flags"]
    assert entry.details["supplier_dea"] == SUPPLIER["dea_number"]


def test_a_draft_whose_product_nobody_knows_must_be_justified_in_the_editor(
    qtbot: QtBot, store: Store
) -> None:
    [rec] = svc.import_orders(store, brand_order_input(), source="file:import.json")
    ed = OrderEditor(store, editing=rec)
    qtbot.addWidget(ed)
    ed.show()
    ed.lines.set_packages(0, 2)
    settle(qtbot, ed)
    review = ed.som.review
    assert review is not None and review.needs_acknowledgement
    assert "not judged: product unknown" in ed.som.summary.text()
    assert ed.save() is None  # not justified yet
    ed.som.justification.setPlainText("New brand product, confirmed with the distributor.")
    ed.som.confirm.setChecked(True)
    assert ed.save() is not None
    [ack] = [e for e in store.audit.entries() if e.event == "som.warning-acknowledged"]
    assert [f["code"] for f in ack.details["flags"]] == ["product-unknown"]


def test_an_empty_order_opens_without_errors_until_a_field_is_left(
    qtbot: QtBot, store: Store
) -> None:
    ed = OrderEditor(store)
    qtbot.addWidget(ed)
    ed.show()
    qtbot.waitUntil(lambda: not ed.pending_review(), timeout=10_000)
    assert ed.problems_by_field() == {}
    ed.supplier.edits["address.state"].setFocus()
    ed.supplier.edits["address.state"].editingFinished.emit()  # the user tabbed out of it
    assert list(ed.problems_by_field()) == ["supplier.address.state"]


def test_enter_on_a_suggestion_adds_one_line_and_escape_asks_first(
    qtbot: QtBot, store: Store
) -> None:
    from PySide6.QtCore import Qt

    ed = editor(qtbot, store)
    ed.activateWindow()
    qtbot.waitUntil(ed.isActiveWindow)
    ed.lines.search.setFocus()
    qtbot.keyClicks(ed.lines.search, "99101-0010-01")
    popup = ed.lines.search.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert ed.lines.table.rowCount() == 1
    qtbot.keyClick(ed.lines.search, Qt.Key.Key_Escape)
    assert ed.isVisible() and ed.discard_box is not None and ed.discard_box.isVisible()
    keep = ed.discard_box.escapeButton()
    assert keep is not None and keep.text() == "&Keep editing"
