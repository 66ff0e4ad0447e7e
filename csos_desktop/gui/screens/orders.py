"""Orders: every order in the store, loaded as it is scrolled to (100,000 stay responsive)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.theme import Tone
from csos_desktop.store import Store
from csos_desktop.store.orders import OrderRecord

PAGE = 200
COLUMNS = ("Order number", "Status", "Supplier", "Lines", "Created", "Signed")

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

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._rows: list[OrderRecord] = []
        self._total = 0
        self._states: tuple[OrderState, ...] = ()
        self._search: str | None = None
        self.refresh()

    def set_filter(self, states: tuple[OrderState, ...], search: str | None) -> None:
        self._states, self._search = states, (search or None)
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._total = self._store.orders.count(self._states, self._search)
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
        page = self._store.orders.page(len(self._rows), PAGE, self._states, self._search)
        if not page:
            self._total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

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
                rec.supplier_name,
                str(rec.lines),
                rec.created_at[:10],
                rec.date_signed or "",
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return QColor(tone.value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{rec.order_id} · {rec.state.value}"
        return None


class OrdersScreen(QWidget):
    """Filter and search over the lazily loaded table."""

    def __init__(self, store: Store | None, problem: str | None = None) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        title = QLabel("Orders")
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        self.summary = QLabel()
        self.summary.setAccessibleName("Orders summary")
        row = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.addItems(list(FILTERS))
        self.filter.setAccessibleName("Show")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search order number, supplier or id")
        self.search.setAccessibleName("Search orders")
        self.search.setClearButtonEnabled(True)
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.filter)
        row.addWidget(self.search, 1)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        self.table = QTableView()
        self.table.setAccessibleName("Orders")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        layout.addWidget(self.table, 1)
        self.model: OrdersModel | None = None
        if store is None:
            self.summary.setText(problem or "The order store could not be opened.")
            self.filter.setEnabled(False)
            self.search.setEnabled(False)
            return
        self.model = OrdersModel(store)
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((120, 190, 280, 60, 110)):
            self.table.setColumnWidth(col, width)
        self.filter.currentTextChanged.connect(self._apply)
        self.search.textChanged.connect(self._apply)
        self._apply()

    def _apply(self) -> None:
        assert self.model is not None
        self.model.set_filter(FILTERS[self.filter.currentText()], self.search.text())
        self.summary.setText(f"{self.model.total:,} order(s)")
