"""Orders: every order in the store, loaded as it is scrolled to (100,000 stay responsive)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.order_actions import OrderActions, balance_html, statements_html
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.row_menu import RowMenu
from csos_desktop.services.orders import queries
from csos_desktop.services.pharmacy_store import OrderRecord

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

if TYPE_CHECKING:  # the editor and signing pull in QtCharts and the token stack
    from csos_desktop.gui.dialogs.order_editor import OrderEditor
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.dialogs.signing_launch import SigningLauncher

PAGE = 200
COLUMNS = ("Order number", "Status", "SOM", "Supplier", "Lines", "Created", "Signed")
SOM_COLUMN = 2

S = OrderState
#: Words and colour per state; the words always carry the meaning.
STATE_LOOK: dict[OrderState, tuple[str, Tone]] = {
    S.DRAFT: ("Draft", Tone.NEUTRAL),
    S.SIGNED: ("Signed, not sent", Tone.WARN),
    S.SUBMITTED: ("Sent", Tone.NEUTRAL),
    S.ACCEPTED: ("Accepted", Tone.OK),
    S.INTERCEPTED: ("Held for review (SOM)", Tone.BAD),
    S.REJECTED: ("Rejected", Tone.BAD),
    S.SHIPPED_PARTIAL: ("Partly shipped", Tone.WARN),
    S.SHIPPED: ("Shipped: record receipt", Tone.WARN),
    S.RECEIVED_PARTIAL: ("Partly received", Tone.WARN),
    S.RECEIVED: ("Received", Tone.OK),
    S.VOID: ("Void", Tone.NEUTRAL),
    S.CANCELLED: ("Cancelled", Tone.NEUTRAL),
}

FILTERS: dict[str, tuple[OrderState, ...]] = {
    "All orders": (),
    "Drafts": (S.DRAFT,),
    "Awaiting receipt": (S.SHIPPED, S.SHIPPED_PARTIAL, S.RECEIVED_PARTIAL),
    "Needs attention": (S.INTERCEPTED, S.REJECTED, S.SIGNED),
    "In progress": (S.SUBMITTED, S.ACCEPTED),
    "Closed": (S.RECEIVED, S.VOID, S.CANCELLED),
}

_Index = QModelIndex | QPersistentModelIndex


class OrdersModel(QAbstractTableModel):
    """Reads one page at a time: counting and a page are single indexed queries."""

    def __init__(self, store: OpenStore) -> None:
        super().__init__()
        self._store = store
        self._rows: list[OrderRecord] = []
        self._total = 0
        self._states: tuple[OrderState, ...] = ()
        self._search: str | None = None
        self._som: dict[str, tuple[str, bool]] = {}  # draft id → (words, flagged)
        self.refresh()

    def set_filter(self, states: tuple[OrderState, ...], search: str | None) -> None:
        self._states, self._search = states, (search or None)
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._som = {}
        self._total = queries.order_count(self._store, self._states, self._search)
        self._rows = []
        self.endResetModel()
        self.fetchMore(QModelIndex())  # the first page at once, so results show as one types

    @property
    def total(self) -> int:
        return self._total

    def record(self, row: int) -> OrderRecord:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index) -> None:
        page = queries.order_page(self._store, len(self._rows), PAGE, self._states, self._search)
        if not page:
            self._total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def _som_of(self, rec: OrderRecord) -> tuple[str, bool]:
        """A draft's SOM state in words, read when its row is first drawn (sent orders: none)."""
        if rec.state is not OrderState.DRAFT:
            return "", False
        known = self._som.get(rec.order_id)
        if known is None:
            from datetime import UTC, datetime

            from csos_desktop.services.som.drafts import draft_som

            som = draft_som(self._store, rec.order_id, now=datetime.now(UTC))
            known = self._som[rec.order_id] = (som.words, som.flagged) if som else ("", False)
        return known

    def row_of(self, order_id: str) -> int | None:
        """The row of *order_id* among the rows loaded so far."""
        return next((i for i, r in enumerate(self._rows) if r.order_id == order_id), None)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        rec = self._rows[index.row()]
        col = index.column()
        words, tone = STATE_LOOK[rec.state]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (
                rec.order_number,
                words,
                self._som_of(rec)[0],
                rec.supplier_name,
                str(rec.lines),
                rec.created_at[:10],
                rec.date_signed or "",
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return QColor(tone.value)
        if role == Qt.ItemDataRole.ForegroundRole and col == SOM_COLUMN and self._som_of(rec)[1]:
            return QColor(Tone.WARN.value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{rec.order_id} · {rec.state.value}"
        return None


class OrdersScreen(QWidget):
    """Filter and search over the lazily loaded table; new orders and signing start here."""

    changed = Signal()  # an order was created or signed

    def __init__(
        self,
        store: OpenStore | None,
        problem: str | None = None,
        launcher: SigningLauncher | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._launcher = launcher
        self.editor: OrderEditor | None = None
        self.dialog: SigningDialog | None = None
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Orders status")
        title = QLabel("Orders")
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        self.summary = QLabel()
        self.summary.setAccessibleDescription("Orders summary")
        row = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.addItems(list(FILTERS))
        self.filter.setAccessibleName("Show")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search order number, supplier or id")
        self.search.setAccessibleName("Search orders")
        self.search.setClearButtonEnabled(True)
        self.new_button = QPushButton("&New order…")
        self.new_button.setAccessibleName("New order")
        self.sign_button = QPushButton("&Sign selected drafts…")
        self.sign_button.setAccessibleName("Sign selected drafts")
        self.edit_button = QPushButton("&Edit draft…")
        self.edit_button.setAccessibleName("Edit the selected draft")
        show = QLabel("Sho&w:")
        show.setBuddy(self.filter)
        row.addWidget(show)
        row.addWidget(self.filter)
        row.addWidget(self.search, 1)
        row.addWidget(self.new_button)
        row.addWidget(self.edit_button)
        row.addWidget(self.sign_button)
        self.order_actions = OrderActions(
            self, store, launcher, self.selected_record, self.status_text, self._signed
        )
        for button in self.order_actions.buttons():
            row.addWidget(button)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setAccessibleName("Orders")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.setTabOrder(self.filter, self.search)
        self.setTabOrder(self.search, self.new_button)
        self.setTabOrder(self.new_button, self.edit_button)
        self.setTabOrder(self.edit_button, self.sign_button)
        self.setTabOrder(self.sign_button, self.table)
        self.model: OrdersModel | None = None
        if store is None:
            self.summary.setText(problem or "The order store could not be opened.")
            for w in (
                self.filter,
                self.search,
                self.new_button,
                self.edit_button,
                self.sign_button,
            ):
                w.setEnabled(False)
            for w in self.order_actions.buttons():
                w.setEnabled(False)
            return
        self.model = OrdersModel(store)
        self.table.setModel(self.model)
        self.table.selectionModel().selectionChanged.connect(self._show_balance)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((120, 190, 240, 240, 60, 110)):
            self.table.setColumnWidth(col, width)
        self.filter.currentTextChanged.connect(self._apply)
        self.search.textChanged.connect(self._apply)
        self.new_button.clicked.connect(lambda: self.new_order())  # not clicked's bool
        self.edit_button.clicked.connect(self.edit_selected)
        self.row_menu = RowMenu(
            self.table,
            (self.edit_button, self.sign_button, *self.order_actions.buttons()),
            lambda index: self.edit_row(index.row()),
        )
        self.sign_button.clicked.connect(self.sign_selected)
        self._apply()

    def _apply(self) -> None:
        assert self.model is not None
        self.model.set_filter(FILTERS[self.filter.currentText()], self.search.text())
        self.summary.setText(f"{self.model.total:,} order(s)")

    def refresh(self) -> None:
        if self.model is not None:
            self._apply()

    def _show_balance(self, *_args: object) -> None:
        """For one selected sent order: what is open, cancelled, void (60 days) and received."""
        rec = self.selected_record()
        self.status.clear()  # never the previous order's balance under this one
        if rec is None or self._store is None or rec.date_signed is None:
            return
        # The signing stack (PKCS#11) loads on first use, not with the Orders screen.
        from csos_desktop.services.orders.notices import order_balances

        said = statements_html(queries.statements_for(self._store, rec.order_id))
        balance = balance_html(order_balances(self._store, rec.order_id))
        self.status.setText("<br>".join(part for part in (balance, said) if part))

    def status_text(self, html: str) -> None:
        self.status.setText(html)

    def selected_record(self) -> OrderRecord | None:
        """The one selected order (None when none or several are selected)."""
        if self.model is None:
            return None
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return self.model.record(rows[0]) if len(rows) == 1 else None

    def selected_drafts(self) -> list[str]:
        assert self.model is not None
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [
            self.model.record(r).order_id
            for r in rows
            if self.model.record(r).state is OrderState.DRAFT
        ]

    def new_order(self, editing: OrderRecord | None = None) -> OrderEditor | None:
        """The editor for a new order, or for the draft *editing*."""
        from csos_desktop.gui.dialogs.order_editor import OrderEditor

        if self._store is None:
            return None
        status = (
            self._launcher.worker.last_status if self._launcher and self._launcher.worker else None
        )
        cert = status.certificate if status else None
        self.editor = OrderEditor(
            self._store,
            signer_name=cert.subject if cert else None,
            signer_dea=cert.dea_number if cert and cert.dea_number_matches else None,
            editing=editing,
            parent=self,
        )
        self.editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor.saved.connect(self._created)
        self.editor.show()
        return self.editor

    def edit_selected(self) -> OrderEditor | None:
        index = self.table.currentIndex()
        if self.selected_record() is None or not index.isValid():
            self.status.setText(f"{dot(Tone.WARN)} Select one draft to edit.")
            return None
        return self.edit_row(index.row())

    def edit_row(self, row: int) -> OrderEditor | None:
        """Open a draft in the editor (Enter, double-click, Edit); others say why they cannot."""
        if self.model is None or not 0 <= row < self.model.rowCount():
            return None
        rec = self.model.record(row)
        if rec.state is not OrderState.DRAFT:
            self.status.setText(
                f"{dot(Tone.NEUTRAL)} Order {rec.order_number} is "
                f"{rec.state.value}: only drafts can be edited."
            )
            return None
        return self.new_order(editing=rec)

    def _created(self, rec: OrderRecord) -> None:
        self.refresh()
        self.select_orders([rec.order_id])
        self.status.setText(
            f"{dot(Tone.OK)} Draft {rec.order_number} saved and selected: "
            "Sign selected drafts signs it."
        )
        self.changed.emit()

    def select_orders(self, order_ids: list[str]) -> None:
        """Select these orders again after the list was re-read (those still listed)."""
        if self.model is None:
            return
        selection = self.table.selectionModel()
        flag = QItemSelectionModel.SelectionFlag
        selection.clearSelection()
        rows = [r for r in (self.model.row_of(i) for i in order_ids) if r is not None]
        for row in rows:
            selection.select(self.model.index(row, 0), flag.Select | flag.Rows)
        if rows:
            selection.setCurrentIndex(self.model.index(rows[0], 0), flag.NoUpdate)
            self.table.scrollTo(self.model.index(rows[0], 0))

    def sign_selected(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.signing import OrderBatch

        if self._store is None:
            return None
        ids = self.selected_drafts()
        if not ids:
            self.status.setText(
                f"{dot(Tone.WARN)} Select one or more drafts to sign (Show: Drafts lists them)."
            )
            return None
        why_not = self._launcher.unavailable() if self._launcher else "Signing is not available."
        if why_not or self._launcher is None:
            self.status.setText(f"{dot(Tone.BAD)} {why_not}")
            return None
        self.dialog = self._launcher.open(
            self, OrderBatch(self._store.path, ids, self._launcher.target())
        )
        self.dialog.signed.connect(self._signed)
        return self.dialog

    def _signed(self, _outcome: object) -> None:
        selected = (
            [
                self.model.record(i.row()).order_id
                for i in self.table.selectionModel().selectedRows()
            ]
            if self.model is not None
            else []
        )
        self.refresh()
        self.select_orders(selected)
        self.status.clear()  # "press Sign" and the like no longer apply
        self.changed.emit()
