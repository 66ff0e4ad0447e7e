"""Helpers for tables whose cells hold editors (spin boxes, date fields)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import QLineEdit, QTableWidget, QWidget


def drop_cell_widgets(table: QTableWidget) -> None:
    """Hide and release every cell widget before the rows are rebuilt.

    Qt deletes a replaced cell widget later, from the event loop; until then it
    would still be drawn at its old place, over the new rows.
    """
    for row in range(table.rowCount()):
        for col in range(table.columnCount()):
            widget = table.cellWidget(row, col)
            if widget is not None:
                widget.hide()
                table.removeCellWidget(row, col)


def count_field(most: int, name: str) -> QLineEdit:
    """An empty field for a counted number 0..*most*: typed, never stepped by arrow or wheel."""
    field = QLineEdit()
    field.setValidator(QIntValidator(0, most, field))
    field.setPlaceholderText(f"0–{most}")
    field.setAccessibleName(name)
    field.setAccessibleDescription(f"Type the number counted; at most {most} still due")
    field.setEnabled(most > 0)
    return field


class NoWheelUnlessFocused(QObject):
    """Installed on a spin box or date field in a table: the wheel scrolls the table unless
    the user has put the focus in the field (no silent change while scrolling past)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        wheel = event.type() == QEvent.Type.Wheel
        if wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False
