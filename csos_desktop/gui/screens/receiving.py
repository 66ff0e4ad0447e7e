"""Receiving: record the electronic receipt of delivered orders (21 CFR 1305.22(g)).

Pick a shipped order, enter the packages counted and the date per line
(today by default; part of an order can be received now and the rest later),
then sign the receipt in the signing dialog. The count starts empty: a receipt
is signed for what was counted, never for what was due.
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
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.screens.orders import STATE_LOOK
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.row_menu import RowMenu
from csos_desktop.gui.widgets.tables import NoWheelUnlessFocused, count_field, drop_cell_widgets
from csos_desktop.services.receiving import queries

if TYPE_CHECKING:  # the signing stack loads when first used, not at start-up
    from csos_desktop.domain.order import Order
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.jobs.signing import Outcome
    from csos_desktop.services.pharmacy_store import OpenStore

S = OrderState
#: Reported shipped by the distributor, or partly received already.
AWAITING = (S.SHIPPED, S.SHIPPED_PARTIAL, S.RECEIVED_PARTIAL)
#: Goods can arrive before the distributor's status does.
ALSO_SENT = (S.SUBMITTED, S.ACCEPTED)
# The count and date columns fit a 1024-pixel screen: the NDC goes under the item name.
COLUMNS = ("Line", "Item", "Ordered", "Shipped", "Before", "Count now", "Date")
ITEM_WIDTH = 200
COUNT_COLUMN, DATE_COLUMN = 5, 6


class ReceivingScreen(QWidget):
    """Orders awaiting receipt on the left, the selected order's lines on the right."""

    receipt_signed = Signal()

    def __init__(
        self, store: OpenStore | None, launcher: SigningLauncher, problem: str | None = None
    ) -> None:
        super().__init__()
        self._store = store
        self._launcher = launcher
        self._order: Order | None = None
        self._no_wheel = NoWheelUnlessFocused(self)
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
        self.orders.setWordWrap(True)  # whole order names, never cut
        self.orders.setAccessibleName("Orders awaiting receipt")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        before = self.table.horizontalHeaderItem(4)
        if before is not None:
            before.setToolTip("Packages recorded as received in earlier receipts")
        self.table.setAccessibleName("Lines received")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The item name wraps in a column of its own width; rows grow to fit it.
        for column, width in ((1, ITEM_WIDTH), (COUNT_COLUMN, 80), (DATE_COLUMN, 110)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.order_info = QLabel()
        self.order_info.setTextFormat(Qt.TextFormat.RichText)
        self.order_info.setWordWrap(True)
        self.order_info.setAccessibleDescription("Selected order")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Receiving status")
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
        split.setSizes([220, 780])
        layout.addWidget(split, 1)
        self.setTabOrder(self.include_sent, self.orders)
        self.setTabOrder(self.orders, self.table)
        self.setTabOrder(self.table, self.sign_button)
        self.row_menu = RowMenu(self.orders, (self.sign_button,), lambda _i: self._first_count())
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
        records = queries.awaiting_receipt(self._store, states)
        kept = self.orders.currentItem()
        kept_id = kept.data(Qt.ItemDataRole.UserRole) if kept is not None else None
        kept_row = self.orders.currentRow()
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
            # The order that was selected, or the one now in its place: never a jump to the top.
            ids = [r.order_id for r in records]
            row = ids.index(kept_id) if kept_id in ids else min(max(kept_row, 0), len(ids) - 1)
            self.orders.setCurrentRow(row)
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
            view = queries.receiving_view(self._store, order_id)
        except CsosError as exc:  # e.g. no signed record: nothing to receive against
            self._order = None
            drop_cell_widgets(self.table)
            self.table.setRowCount(0)
            self.sign_button.setEnabled(False)
            self.status.setText(f"{dot(Tone.BAD)} {exc.message}")
            return
        rec, order, before = view.record, view.order, view.received_before
        notices, shipped = view.shipped_not_received, view.shipped
        self._order = order
        self.order_info.setText(
            f"<b>Order {order.order_number}</b> from {rec.supplier_name}, signed "
            f"{order.date_signed} · {STATE_LOOK[rec.state][0]}"
        )
        today = local_date(datetime.now(UTC))
        drop_cell_widgets(self.table)
        self.table.setRowCount(len(order.lines))
        previous: QWidget = self.table
        for i, line in enumerate(order.lines):
            left = line.quantity - before.get(line.line_no, 0)
            for col, text in enumerate(
                (
                    str(line.line_no),
                    f"{line.item_name} {line.strength}\nNDC {line.ndc}",
                    str(line.quantity),
                    shipped.get(line.line_no, "not reported"),
                    str(before.get(line.line_no, 0)),
                )
            ):
                self.table.setItem(i, col, QTableWidgetItem(text))
            qty = count_field(max(0, left), f"Packages counted now, line {line.line_no}")
            if notices is not None and left > 0:
                # The 856s' quantities, never the amount due: the pharmacist checks them
                # against the delivery before signing.
                qty.setText(str(min(left, notices.get(line.line_no, 0))))
            day = QDateEdit(QDate(today.year, today.month, today.day))
            day.installEventFilter(self._no_wheel)
            day.setCalendarPopup(True)
            day.setDisplayFormat("yyyy-MM-dd")
            day.setMaximumDate(QDate(today.year, today.month, today.day))
            if order.date_signed is not None:
                d = order.date_signed
                day.setMinimumDate(QDate(d.year, d.month, d.day))
            day.setAccessibleName(f"Date received, line {line.line_no}")
            self.table.setCellWidget(i, COUNT_COLUMN, qty)
            self.table.setCellWidget(i, DATE_COLUMN, day)
            # Tab goes from the list to each line's count and date, then to Sign.
            for widget in (qty, day):
                if widget.isEnabled():
                    QWidget.setTabOrder(previous, widget)
                    previous = widget
        QWidget.setTabOrder(previous, self.sign_button)
        self.sign_button.setEnabled(True)
        self.status.setText(
            ""
            if notices is None
            else "Packages pre-filled from the distributor's ship notice (856): check them "
            "against the delivery."
        )

    def _counts(self) -> list[QLineEdit]:
        fields = [self.table.cellWidget(i, COUNT_COLUMN) for i in range(self.table.rowCount())]
        return [f for f in fields if isinstance(f, QLineEdit)]

    def _first_count(self) -> None:
        """Enter on an order: to its first line still to count."""
        field = next((f for f in self._counts() if f.isEnabled()), None)
        if field is not None:
            field.setFocus()

    def uncounted(self) -> list[int]:
        """Rows whose count is still empty (each line due must be counted: 0 if none came)."""
        return [i for i, f in enumerate(self._counts()) if f.isEnabled() and not f.text().strip()]

    def receipt_lines(self) -> list[ReceiptLine]:
        """The lines with packages counted now (zero lines are left out)."""
        assert self._order is not None
        out = []
        for i, line in enumerate(self._order.lines):
            qty, day = self.table.cellWidget(i, COUNT_COLUMN), self.table.cellWidget(i, DATE_COLUMN)
            assert isinstance(qty, QLineEdit) and isinstance(day, QDateEdit)
            count = int(qty.text()) if qty.text().strip() else 0
            if count > 0:
                d = day.date()
                out.append(ReceiptLine(line.line_no, count, date(d.year(), d.month(), d.day())))
        return out

    def set_received(self, row: int, packages: int) -> None:
        field = self.table.cellWidget(row, COUNT_COLUMN)
        assert isinstance(field, QLineEdit)
        field.setText(str(packages))

    def sign(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.signing import ReceiptJob

        if self._order is None or self._store is None:
            return None
        missing = self.uncounted()
        if missing:
            self.status.setText(
                f"{dot(Tone.WARN)} Count line {missing[0] + 1} and enter the packages received "
                "(0 if none arrived): every line still due is counted before signing."
            )
            self._counts()[missing[0]].setFocus()
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
