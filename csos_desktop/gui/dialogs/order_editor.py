"""The order editor: supplier, lines from the catalogue, messages next to fields, the SOM panel.

Validation is the domain's (``parse_order_input``); SOM is the service's
(``som_review.review_order``, run off the UI thread on its own connection);
saving is ``import_orders`` plus ``acknowledge_warnings`` when the order was flagged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.clock import utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import Order, OrderInvalid, Problem, parse_order_input
from csos_desktop.gui.jobs.pool import run_job
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.fit import fit_to_screen
from csos_desktop.gui.widgets.order_lines import OrderLines, is_line_problem
from csos_desktop.gui.widgets.party_form import PartyForm
from csos_desktop.gui.widgets.som_panel import SomPanel
from csos_desktop.services.orders import queries
from csos_desktop.services.orders.catalogue import active_catalogue
from csos_desktop.services.orders.drafts import import_orders, update_draft
from csos_desktop.services.pharmacy_store import OrderRecord, open_store
from csos_desktop.services.som import gate as som_gate
from csos_desktop.services.som.review import SomReview, acknowledge_warnings, review_order

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore


def _review(path: Path, order: Order) -> SomReview:
    """Runs on a pool thread, with its own connection."""
    with open_store(path) as store:
        return review_order(store, order)


class OrderEditor(QDialog):
    """A new draft; `saved` carries its record once stored."""

    saved = Signal(object)  # OrderRecord

    def __init__(
        self,
        store: OpenStore,
        *,
        signer_name: str | None = None,
        signer_dea: str | None = None,
        catalogue: Catalogue | None = None,
        editing: OrderRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        title = f"Edit draft {editing.order_number}" if editing else "New order"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._editing = editing
        fit_to_screen(self, 1000, 720)
        self._store = store
        # The imported FDA catalogue; none until one is imported (lines then placed by history).
        self._catalogue = catalogue or active_catalogue(store)
        self._signer_name = signer_name
        self._order: Order | None = None
        self._som_seq = 0  # reviews started
        self._shown_seq = 0  # the review on screen
        self._save_requested = False
        self._discard_confirmed = False
        self.discard_box: QMessageBox | None = None

        self.purchaser = PartyForm("Purchaser")
        self.supplier = PartyForm("Supplier")
        self.known = QComboBox()
        self.known.setAccessibleName("Known suppliers")
        purchaser, suppliers = queries.known_parties(store)
        self._suppliers = suppliers
        self.known.addItem("Choose a supplier you ordered from…")
        for s in suppliers:
            self.known.addItem(f"{s['name']} (DEA {s['dea_number']})")
        self.purchaser.set_values(
            purchaser or {"name": signer_name or "", "dea_number": signer_dea or ""}
        )

        self.lines = OrderLines(self._catalogue, touched=editing is not None)
        self.general_error = QLabel()
        self.general_error.setTextFormat(Qt.TextFormat.RichText)
        self.general_error.setWordWrap(True)
        self.general_error.setAccessibleDescription("Order status")
        self.som = SomPanel()
        self.save_button = QPushButton("&Save draft")
        self.save_button.setAccessibleName("Save draft")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel")

        left = QWidget()
        col = QVBoxLayout(left)
        col.addWidget(self.known)
        parties = QHBoxLayout()
        parties.addWidget(self.supplier)
        parties.addWidget(self.purchaser)
        col.addLayout(parties)
        col.addWidget(self.lines, 1)
        col.addWidget(self.general_error)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.som)
        split.setSizes([700, 580])
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.validate)
        self.known.currentIndexChanged.connect(self._pick_supplier)
        self.supplier.changed.connect(self._debounce.start)
        self.purchaser.changed.connect(self._debounce.start)
        self.lines.changed.connect(self._debounce.start)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        self.setTabOrder(self.known, self.supplier.edits["name"])
        if editing is not None:
            self._load(queries.stored_order(store, editing.order_id))
        self._initial = self.order_input()
        self.validate()

    def _load(self, order: Order) -> None:
        """Fill the form with a stored draft (its number and purchaser stay)."""
        self.purchaser.set_values(order.purchaser.to_document())
        self.supplier.set_values(order.supplier.to_document())
        self.lines.load(order)

    # -- supplier ---------------------------------------------------------------------
    def _pick_supplier(self, index: int) -> None:
        if index > 0:
            self.supplier.set_values(self._suppliers[index - 1])

    # -- validation and SOM ----------------------------------------------------------
    def order_input(self) -> dict[str, Any]:
        """The form as ``import_orders`` input (no order number: the store assigns it)."""
        return {
            "schema": "csos-order/1",
            "purchaser": self.purchaser.values(),
            "supplier": self.supplier.values(),
            "lines": self.lines.values(),
        }

    def validate(self) -> Order | None:
        """Show every problem next to its field; start a SOM review when the order is valid."""
        now = datetime.now(UTC)
        data = {**self.order_input(), "order_number": f"{local_date(now).year % 100:02d}X000000"}
        try:
            order = parse_order_input(data, now=now)
        except OrderInvalid as exc:
            self._order = None
            self._show_problems(exc.problems)
            self._shown_seq = self._som_seq
            self.som.show_message("SOM is checked once the order is complete.")
            return None
        self._order = order
        self._show_problems(())
        self._start_review(order)
        return order

    def _show_problems(self, problems: tuple[Problem, ...]) -> None:
        parties: dict[str, dict[str, str]] = {"purchaser": {}, "supplier": {}}
        other: list[str] = []
        for p in problems:
            head, _, rest = p.field.partition(".")
            if head in parties and rest:
                parties[head].setdefault(rest, p.message)
            elif not is_line_problem(p):
                other.append(str(p))
        self.purchaser.show_errors(parties["purchaser"])
        self.supplier.show_errors(parties["supplier"])
        self.lines.show_problems(problems)
        self.general_error.setText(f"{dot(Tone.BAD)} " + "; ".join(other) if other else "")

    def _start_review(self, order: Order) -> None:
        if not any(line.schedule is not None for line in order.lines):
            self._shown_seq = self._som_seq
            self.som.show_message("No controlled line: nothing for SOM to check.", Tone.OK)
            return
        self._som_seq += 1
        seq = self._som_seq
        self.som.summary.setText("Comparing with your order history…")
        path = self._store.path
        run_job(self, lambda: (seq, _review(path, order)), self._reviewed, self._review_failed)

    def _reviewed(self, result: tuple[int, SomReview]) -> None:
        seq, review = result
        if seq != self._som_seq:
            return  # an older review finishing late is not shown
        self._shown_seq = seq
        self.som.show_review(review)
        if self._save_requested:
            self._save_requested = False
            self.save()

    def _review_failed(self, message: str) -> None:
        self._shown_seq = self._som_seq
        self.som.show_message(message, Tone.WARN)
        if self._save_requested:
            # SOM cannot judge this order (the message says why; the distributor's own
            # monitoring still runs): the save asked for goes ahead, as a second press would.
            self._save_requested = False
            self.save()

    # -- saving ------------------------------------------------------------------------
    def save(self) -> OrderRecord | None:
        """Store the draft, with the acknowledgement when SOM warned; None if not saved yet."""
        if self._debounce.isActive():
            self._debounce.stop()
            self.validate()
        if self._order is None:
            self.lines.touched = True
            self.supplier.show_all_errors()
            self.purchaser.show_all_errors()
            self.validate()
            widget = (
                self.supplier.first_error() or self.purchaser.first_error() or self.lines.search
            )
            widget.setFocus()
            self.general_error.setText(f"{dot(Tone.BAD)} Fix the fields marked in red first.")
            return None
        if self.pending_review():
            # Never save on a stale SOM result: save as soon as the current one arrives.
            self._save_requested = True
            self.general_error.setText("Checking SOM before saving…")
            return None
        review = self.som.review
        if not self.som.acknowledged():
            self.general_error.setText(
                f"{dot(Tone.WARN)} This order has SOM warnings: write why it is legitimate and"
                " tick the box before saving (it is recorded in the audit log)."
            )
            self.som.justification.setFocus()
            return None
        try:
            if self._editing is not None:
                rec = update_draft(self._store, self._editing.order_id, self.order_input())
            else:
                rec = import_orders(self._store, self.order_input(), source="gui")[0]
            if review is not None and review.needs_acknowledgement:
                acknowledge_warnings(
                    self._store,
                    rec.order_id,
                    review.assessment,
                    self.som.justification_text(),
                    acknowledged_by=self._signer_name,
                )
        except CsosError as exc:
            self.general_error.setText(f"{dot(Tone.BAD)} {exc.message}")
            return None
        self.saved.emit(rec)
        self.accept()
        return rec

    def reject(self) -> None:
        """Cancel, Escape or the window's close: changes are discarded only when confirmed."""
        if self._discard_confirmed or self.order_input() == self._initial:
            self._discard()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard this order?",
            "The changes to this order are not saved. Discard them?",
            parent=self,
        )
        discard = box.addButton("&Discard changes", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        discard.clicked.connect(self._confirm_discard)
        self.discard_box = box
        box.open()

    def _confirm_discard(self) -> None:
        self._discard_confirmed = True
        self.reject()

    def _discard(self) -> None:
        """Closed without saving: a flagged order leaves its flags and 'abandoned' (1301.74(b))."""
        review = self.som.review
        if self._order is not None and review is not None and review.needs_acknowledgement:
            with contextlib.suppress(CsosError):
                som_gate.record_disposition(
                    self._store,
                    self._order,
                    review.assessment,
                    "abandoned",
                    "closed in the order editor without saving",
                    clock=utc_now,
                )
        super().reject()

    def pending_review(self) -> bool:
        """True while the SOM result on screen is not for the order as it is now."""
        return self._debounce.isActive() or self._shown_seq != self._som_seq

    def problems_by_field(self) -> Mapping[str, str]:
        """Visible messages by field path (for tests and screen readers)."""
        out = {f"supplier.{k}": v.text() for k, v in self.supplier.errors.items() if v.text()}
        out.update(
            {f"purchaser.{k}": v.text() for k, v in self.purchaser.errors.items() if v.text()}
        )
        if self.lines.lines_error.text():
            out["lines"] = self.lines.lines_error.text()
        return out
