"""An order's lines: add from the catalogue by NDC or name, set packages, remove, and the
lines' problems shown under the table (the order editor's left column, below the parties)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.catalogue import Catalogue, Product
from csos_desktop.domain.order import Order, Problem
from csos_desktop.gui.theme import Tone
from csos_desktop.gui.widgets.row_menu import RowMenu
from csos_desktop.gui.widgets.tables import drop_cell_widgets

COLUMNS = ("NDC", "Item", "Strength", "Form", "Package size", "Packages", "Schedule")
_LINE_FIELD = re.compile(r"lines\[(\d+)\]\.(\w+)")
_FIELD_WORDS = {
    "ndc": "NDC",
    "item_name": "item",
    "strength": "strength",
    "dosage_form": "form",
    "package_size": "package size",
    "quantity": "packages",
    "schedule": "schedule",
    "line_no": "line number",
}


def product_text(p: Product) -> str:
    """How a product reads in the completer: NDC first, so typing either part finds it."""
    return f"{p.ndc} — {p.item_name} ({p.package_size} per package, C{p.schedule.value})"


def is_line_problem(p: Problem) -> bool:
    """The problem belongs under the lines table (a line's field, or no lines at all)."""
    return p.field == "lines" or _LINE_FIELD.fullmatch(p.field) is not None


class OrderLines(QWidget):
    """The lines as order input; ``changed`` fires on every edit the user makes."""

    changed = Signal()

    def __init__(
        self, catalogue: Catalogue, *, touched: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._lines: list[dict[str, Any]] = []
        #: The lines' problems show once the user has touched them (or saves).
        self.touched = touched
        self._products = {product_text(p): p for p in catalogue.products.values()}

        self.search = QLineEdit()
        self.search.setPlaceholderText("Add a product: type its NDC or name")
        self.search.setAccessibleName("Add product by NDC or name")
        self._product_model = QStringListModel(list(self._products), self)
        completer = QCompleter(self._product_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.search.setCompleter(completer)
        self._completer = completer
        self.add_button = QPushButton("&Add line")
        self.add_button.setAccessibleName("Add line")
        self.remove_button = QPushButton("&Remove line")
        self.remove_button.setAccessibleName("Remove selected line")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Order lines")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.lines_error = QLabel()
        self.lines_error.setStyleSheet(f"color: {Tone.BAD.value}")
        self.lines_error.setWordWrap(True)
        self.lines_error.setAccessibleDescription("Order lines problems")

        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)  # sits in the editor's column as its own rows did
        add_row = QHBoxLayout()
        add_row.addWidget(self.search, 1)
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.remove_button)
        col.addLayout(add_row)
        col.addWidget(self.table, 1)
        col.addWidget(self.lines_error)

        self.add_button.clicked.connect(self._add_from_search)
        self.search.returnPressed.connect(self._add_from_search)
        completer.activated.connect(self._add_product_text)
        self.remove_button.clicked.connect(self._remove_line)
        self.row_menu = RowMenu(self.table, (self.remove_button,))

    def values(self) -> list[dict[str, Any]]:
        """The lines as ``import_orders`` input, numbered from 1."""
        return [{"line_no": i + 1, **line} for i, line in enumerate(self._lines)]

    def load(self, order: Order) -> None:
        """Show a stored draft's lines."""
        self._lines = [
            {
                "ndc": ln.ndc.formatted,
                "item_name": ln.item_name,
                "strength": ln.strength,
                "dosage_form": ln.dosage_form,
                "package_size": ln.package_size,
                "quantity": ln.quantity,
                "schedule": None if ln.schedule is None else ln.schedule.value,
            }
            for ln in order.lines
        ]
        self._refresh_table()

    def _add_from_search(self) -> None:
        popup = self._completer.popup()
        if popup is not None and popup.isVisible() and popup.currentIndex().isValid():
            # Enter on a suggestion reaches the field first; the completer adds the line.
            return
        self._add_product_text(self.search.text())

    def _add_product_text(self, text: str) -> None:
        product = self._products.get(text) or self._match(text)
        if product is None:
            self.lines_error.setText(
                f"No product in the catalogue matches {text.strip()!r}; "
                "type part of its NDC or name and pick from the list."
            )
            return
        self.add_product(product)
        # The completer fills the field after `activated`; clear once it has.
        QTimer.singleShot(0, self.search, self.search.clear)

    def _match(self, text: str) -> Product | None:
        needle = text.strip().lower()
        found = [p for key, p in self._products.items() if needle and needle in key.lower()]
        return found[0] if len(found) == 1 else None

    def add_product(self, product: Product, packages: int = 1) -> None:
        """A new line for *product* with *packages* packages."""
        self.touched = True
        self._lines.append(
            {
                "ndc": product.ndc.formatted,
                "item_name": product.item_name,
                "strength": product.strength,
                "dosage_form": product.dosage_form,
                "package_size": product.package_size,
                "quantity": packages,
                "schedule": product.schedule.value,
            }
        )
        self._refresh_table()
        self.changed.emit()

    def set_packages(self, row: int, packages: int) -> None:
        spin = self.table.cellWidget(row, 5)
        assert isinstance(spin, QSpinBox)
        spin.setValue(packages)

    def _remove_line(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._lines):
            self.touched = True
            del self._lines[row]
            self._refresh_table()
            self.changed.emit()

    def _refresh_table(self) -> None:
        drop_cell_widgets(self.table)
        self.table.setRowCount(len(self._lines))
        for row, line in enumerate(self._lines):
            schedule = f"C{line['schedule']}" if line["schedule"] else "not controlled"
            cells = (
                line["ndc"],
                line["item_name"],
                line["strength"],
                line["dosage_form"],
                str(line["package_size"]),
                "",
                schedule,
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
            spin = QSpinBox()
            spin.setRange(0, 9999)
            spin.setValue(int(line["quantity"]))
            spin.setAccessibleName(f"Packages of line {row + 1}, {line['item_name']}")
            spin.valueChanged.connect(lambda v, r=row: self._packages_changed(r, v))
            self.table.setCellWidget(row, 5, spin)

    def _packages_changed(self, row: int, value: int) -> None:
        self._lines[row]["quantity"] = value
        self.changed.emit()

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """The lines' problems under the table, and their rows marked (``is_line_problem``)."""
        lines: list[str] = []
        bad_rows: set[int] = set()
        for p in problems:
            m = _LINE_FIELD.fullmatch(p.field)
            if m:
                row, name = int(m.group(1)), m.group(2)
                bad_rows.add(row)
                lines.append(f"Line {row + 1}, {_FIELD_WORDS.get(name, name)}: {p.message}")
            elif p.field == "lines" and self.touched:
                lines.append("Add at least one line." if p.rule == "no-lines" else p.message)
        self.lines_error.setText("\n".join(lines))
        self.lines_error.setVisible(bool(lines))
        for row in range(self.table.rowCount()):
            for col in range(self.table.columnCount()):
                item = self.table.item(row, col)
                if item is not None:
                    item.setBackground(
                        Qt.GlobalColor.yellow if row in bad_rows else Qt.GlobalColor.transparent
                    )
