"""Signed prescriptions: a list read from the signed bytes, and the selected one in full."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.timestamps import local_text
from csos_desktop.services.rx.history import SignedLine, signed_history

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

COLUMNS = ("Patient", "Drug", "Schedule", "Prescriber", "Signed at", "Status")


def detail_html(line: SignedLine) -> str:
    """What was signed, by whom, and where its transmission stands."""
    review = "<br>".join(escape(t) for t in line.review)
    kept = (
        "The signed bytes are intact."
        if line.intact
        else "The signed bytes no longer match their digests: report this."
    )
    return (
        f"<p><b>Prescription {escape(line.rx_id)}</b></p>"
        f"<p style='font-family: monospace'>{review}</p>"
        f"<p>Signed at {escape(local_text(line.signed_at))} ({escape(line.signed_at)}) "
        f"by user {escape(line.signed_by)} with the "
        f"certificate of {escape(line.signer_subject)}.<br>"
        f"Signature SHA-256: <code>{escape(line.signature_sha256)}</code><br>"
        f"Transmission to the pharmacy: {escape(line.status)}.<br>{kept}</p>"
    )


class SignedHistory(QWidget):
    """Newest first; the detail follows the selection."""

    def __init__(self, store: OpenStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.lines: list[SignedLine] = []
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Signed prescriptions")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel()
        self.detail = QTextBrowser()
        self.detail.setAccessibleName("Signed prescription")
        self.detail.setMinimumHeight(160)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.empty)
        layout.addWidget(self.detail, 1)
        self.table.currentCellChanged.connect(lambda row, *_: self._show(row))

    def reload(self) -> None:
        current = self.current()
        chosen = current.rx_id if current is not None else None
        self.empty.setText("No prescription has been signed yet.")
        try:
            self.lines = signed_history(self._store)
        except CsosError as exc:
            self.lines = []
            self.empty.setText(exc.message)
        self.table.setRowCount(len(self.lines))
        for r, line in enumerate(self.lines):
            cells = (
                line.patient,
                line.drug,
                line.schedule,
                f"{line.prescriber} (DEA {line.prescriber_dea})",
                local_text(line.signed_at),
                line.status,
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.empty.setVisible(not self.lines)
        ids = [ln.rx_id for ln in self.lines]
        self.table.setCurrentCell(ids.index(chosen) if chosen in ids else 0 if ids else -1, 0)
        self._show(self.table.currentRow())

    def current(self) -> SignedLine | None:
        row = self.table.currentRow()
        return self.lines[row] if 0 <= row < len(self.lines) else None

    def _show(self, row: int) -> None:
        line = self.lines[row] if 0 <= row < len(self.lines) else None
        self.detail.setHtml(detail_html(line) if line else "")
