"""Activity: the audit log, with a button that checks its hash chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.gui.jobs.pool import run_job
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.row_menu import RowMenu
from csos_desktop.services.audit import queries
from csos_desktop.services.pharmacy_store import AuditReport, open_store

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

COLUMNS = ("#", "When (UTC)", "Event", "Order", "Details")
SHOWN = 500  # newest entries shown; the CLI lists all


def verify_log(path: Path) -> AuditReport:
    """Runs on a worker thread with its own connection (SQLite connections stay on one thread)."""
    with open_store(path) as store:
        return queries.verify_log(store)


class ActivityScreen(QWidget):
    """Newest entries first, a filter, and 'Verify log'."""

    def __init__(self, store: OpenStore | None, problem: str | None = None) -> None:
        super().__init__()
        self._store = store
        layout = QVBoxLayout(self)
        title = QLabel("Activity")
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        row = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by event, order or detail")
        self.filter.setAccessibleName("Filter activity")
        self.verify_button = QPushButton("Verify log")
        self.verify_button.setAccessibleName("Verify audit log")
        row.addWidget(self.filter, 1)
        row.addWidget(self.verify_button)
        layout.addLayout(row)
        self.result = QLabel()
        self.result.setAccessibleDescription("Verification result")
        self.result.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.result)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Audit log")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.row_menu = RowMenu(self.table, (self.verify_button,))
        if store is None:
            self.result.setText(problem or "The order store could not be opened.")
            self.verify_button.setEnabled(False)
            return
        self.filter.textChanged.connect(self.reload)
        self.verify_button.clicked.connect(self.verify)
        self.reload()

    def reload(self) -> None:
        assert self._store is not None
        needle = self.filter.text().strip().lower()
        entries = queries.latest_entries(self._store, SHOWN)
        rows = []
        for e in entries:
            details = json.dumps(dict(e.details), sort_keys=True)
            cells = (
                str(e.entry_id),
                e.at.replace("T", " ").rstrip("Z"),
                e.event,
                (e.order_id or "")[:8],
                details,
            )
            if not needle or any(needle in c.lower() for c in cells):
                rows.append(cells)
        self.table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def verify(self) -> None:
        assert self._store is not None
        self.verify_button.setEnabled(False)
        self.result.setText("Checking the audit chain…")
        path = self._store.path
        run_job(self, lambda: verify_log(path), self._verified, self._failed)

    def _verified(self, report: AuditReport) -> None:
        self.verify_button.setEnabled(True)
        if report.intact:
            self.result.setText(
                f"{dot(Tone.OK)} Audit log intact: {report.entries} entries, every link checked."
            )
        else:
            broken = report.broken
            assert broken is not None
            self.result.setText(
                f"{dot(Tone.BAD)} Audit log broken at entry {broken.entry_id}: {broken.problem}"
            )

    def _failed(self, message: str) -> None:
        self.verify_button.setEnabled(True)
        self.result.setText(f"{dot(Tone.BAD)} {message}")
