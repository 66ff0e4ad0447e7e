"""Receiving: record the electronic receipt of delivered orders (21 CFR 1305.22(g)).

Pick a shipped order, enter the packages received and the date per line
(today by default; part of an order can be received now and the rest later),
then sign the receipt in the signing dialog.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine, received_so_far
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.screens.orders import STATE_LOOK
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.tables import drop_cell_widgets
from csos_desktop.services.pharmacy_store import Store

if TYPE_CHECKING:  # the signing stack loads when first used, not at start-up
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.jobs.signing import Outcome

S = OrderState
#: Reported shipped by the distributor, or partly received already.
AWAITING = (S.SHIPPED, S.SHIPPED_PARTIAL, S.RECEIVED_PARTIAL)
#: Goods can arrive before the distributor's status does.
ALSO_SENT = (S.SUBMITTED, S.ACCEPTED)
COLUMNS = ("Line", "NDC", "Item", "Ordered", "Received before", "Received now", "Date received")


class ReceivingScreen(QWidget):
    """Orders awaiting receipt on the left, the selected order's lines on the right."""

    receipt_signed = Signal()

    def __init__(
        self, store: Store | None, launcher: SigningLauncher, problem: str | None = None
    ) -> None:
        super().__init__()
        self._store = store
        self._launcher = launcher
        self._order: Order | None = None
        self.dialog: SigningDialog | None = None
        layout = QVBoxLayout(self)
        title = QLabel("Receiving")
        title.setObjectName("screenTitle")
        hint = QLabel(
            "Record the receipt of delivered CSOS orders: packages and date per "
            "line, then sign. A partial delivery can be received now and the rest "
            "later."
        )
        hint.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(hint)
        self.include_sent = QCheckBox("Also show orders sent but not yet reported shipped")
        self.include_sent.setAccessibleName("Also show orders not yet reported shipped")
        layout.addWidget(self.include_sent)
        self.orders = QListWidget()
        self.orders.setAccessibleName("Orders awaiting receipt")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Lines received")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the item name
        self.order_info = QLabel()
        self.order_info.setTextFormat(Qt.TextFormat.RichText)
        self.order_info.setWordWrap(True)
        self.order_info.setAccessibleName("Selected order")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Receiving status")
        self.sign_button = QPushButton("Sign &receipt…")
        self.sign_button.setAccessibleName("Sign receipt")
        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.order_info)
        col.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.sign_button)
        col.addLayout(row)
        split = QSplitter()
        split.addWidget(self.orders)
        split.addWidget(right)
        split.setSizes([300, 700])
        layout.addWidget(split, 1)
        self.setTabOrder(self.include_sent, self.orders)
        self.setTabOrder(self.orders, self.table)
        self.setTabOrder(self.table, self.sign_button)
        if store is None:
            self.status.setText(problem or "The order store could not be opened.")
            self.sign_button.setEnabled(False)
            return
        self.include_sent.toggled.connect(self.reload)
        self.orders.currentRowChanged.connect(self._select)
        self.sign_button.clicked.connect(self.sign)
        self.reload()

    def reload(self) -> None:
        assert self._store is not None
        states = AWAITING + (ALSO_SENT if self.include_sent.isChecked() else ())
        records = self._store.orders.page(0, 500, states)
        self.orders.clear()
        for rec in records:
            words, _ = STATE_LOOK[rec.state]
            item = QListWidgetItem(f"{rec.order_number} · {rec.supplier_name}\n{words}")
            item.setData(Qt.ItemDataRole.UserRole, rec.order_id)
            item.setData(
                Qt.ItemDataRole.AccessibleTextRole,
                f"Order {rec.order_number} from {rec.supplier_name}, {words}",
            )
            self.orders.addItem(item)
        if records:
            self.orders.setCurrentRow(0)
        else:
            self._order = None
            drop_cell_widgets(self.table)
            self.table.setRowCount(0)
            self.order_info.setText(f"{dot(Tone.OK)} No order is waiting for its receipt.")
            self.sign_button.setEnabled(False)

    def select_order(self, order_id: str) -> None:
        for i in range(self.orders.count()):
            if self.orders.item(i).data(Qt.ItemDataRole.UserRole) == order_id:
                self.orders.setCurrentRow(i)
                return

    def _select(self, row: int) -> None:
        assert self._store is not None
        if row < 0:
            return
        order_id = str(self.orders.item(row).data(Qt.ItemDataRole.UserRole))
        try:
            rec = self._store.orders.get(order_id)
            blob = self._store.signed.get(order_id)
            order = Order.from_document(load_document(blob.document))
            before = received_so_far(r.receipt for r in self._store.receipts.for_order(order_id))
            shipped = _shipped_not_received(self._store, order_id)
        except CsosError as exc:  # e.g. no signed record: nothing to receive against
            self._order = None
            drop_cell_widgets(self.table)
            self.table.setRowCount(0)
            self.sign_button.setEnabled(False)
            self.status.setText(f"{dot(Tone.BAD)} {exc.message}")
            return
        self._order = order
        self.order_info.setText(
            f"<b>Order {order.order_number}</b> from {rec.supplier_name}, signed "
            f"{order.date_signed} · {STATE_LOOK[rec.state][0]}"
        )
        today = local_date(datetime.now(UTC))
        drop_cell_widgets(self.table)
        self.table.setRowCount(len(order.lines))
        for i, line in enumerate(order.lines):
            left = line.quantity - before.get(line.line_no, 0)
            for col, text in enumerate(
                (
                    str(line.line_no),
                    str(line.ndc),
                    f"{line.item_name} {line.strength}",
                    str(line.quantity),
                    str(before.get(line.line_no, 0)),
                )
            ):
                self.table.setItem(i, col, QTableWidgetItem(text))
            qty = QSpinBox()
            qty.setRange(0, max(0, left))
            # The 856s' quantities when the distributor sent ship notices; the pharmacist
            # checks them against the delivery before signing.
            due = (
                max(0, left) if shipped is None else min(max(0, left), shipped.get(line.line_no, 0))
            )
            qty.setValue(due)
            qty.setAccessibleName(f"Packages received now, line {line.line_no}")
            qty.setEnabled(left > 0)
            day = QDateEdit(QDate(today.year, today.month, today.day))
            day.setCalendarPopup(True)
            day.setDisplayFormat("yyyy-MM-dd")
            day.setMaximumDate(QDate(today.year, today.month, today.day))
            if order.date_signed is not None:
                d = order.date_signed
                day.setMinimumDate(QDate(d.year, d.month, d.day))
            day.setAccessibleName(f"Date received, line {line.line_no}")
            self.table.setCellWidget(i, 5, qty)
            self.table.setCellWidget(i, 6, day)
        self.sign_button.setEnabled(True)
        self.status.setText(
            ""
            if shipped is None
            else "Packages pre-filled from the distributor's ship notice (856): check them "
            "against the delivery."
        )

    def receipt_lines(self) -> list[ReceiptLine]:
        """The lines with packages received now (zero lines are left out)."""
        assert self._order is not None
        out = []
        for i, line in enumerate(self._order.lines):
            qty, day = self.table.cellWidget(i, 5), self.table.cellWidget(i, 6)
            assert isinstance(qty, QSpinBox) and isinstance(day, QDateEdit)
            if qty.value() > 0:
                d = day.date()
                out.append(
                    ReceiptLine(line.line_no, qty.value(), date(d.year(), d.month(), d.day()))
                )
        return out

    def set_received(self, row: int, packages: int) -> None:
        spin = self.table.cellWidget(row, 5)
        assert isinstance(spin, QSpinBox)
        spin.setValue(packages)

    def sign(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.signing import ReceiptJob

        if self._order is None or self._store is None:
            return None
        lines = self.receipt_lines()
        if not lines:
            self.status.setText(
                f"{dot(Tone.WARN)} Enter the packages received on at least one line."
            )
            return None
        why_not = self._launcher.unavailable()
        if why_not:
            self.status.setText(f"{dot(Tone.BAD)} {why_not}")
            return None
        job = ReceiptJob(self._store.path, self._order.order_id, lines, self._launcher.target())
        self.dialog = self._launcher.open(self, job)
        self.dialog.signed.connect(self._signed)
        return self.dialog

    def _signed(self, outcome: Outcome) -> None:
        self.reload()
        if outcome.signed:
            self.status.setText(
                f"{dot(Tone.OK)} {outcome.signed[0]} signed and queued for the distributor."
            )
        self.receipt_signed.emit()


def _shipped_not_received(store: Store, order_id: str) -> dict[int, int] | None:
    """Line → packages the 856s shipped and no receipt holds; None without any 856."""
    from csos_desktop.services.orders.x12_intake import prefill_from_856, ship_notices

    if not ship_notices(store, order_id):
        return None
    return {ln.line_no: ln.quantity_received for ln in prefill_from_856(store, order_id)}
