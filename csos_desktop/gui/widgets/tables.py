"""Helpers for tables whose cells hold editors (spin boxes, date fields)."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget


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
