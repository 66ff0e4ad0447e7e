"""The signing dialog's SOM list: one row per flagged order, its flags, and its own reason.

A justification belongs to one order (21 CFR 1301.74(b)): each row has its own field,
so one sentence never clears another order's flags. The text typed here is only
handed to the job; the service checks it (``som.justification``) before the PIN and
records it with that order's signature, so Cancel leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.som.gate import FlaggedOrder
from csos_desktop.som.justification import MAX_CHARS


class JustificationList(QWidget):
    """Flagged orders, one group each: the flags as separate lines, a field, a verdict."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(
            "Suspicious Order Monitoring flagged these orders. Say for each why it is "
            "legitimate: the reason is kept in the audit log with that order's signature."
        )
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self._rows = QWidget()
        self._rows_layout = QVBoxLayout(self._rows)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._rows)
        scroll.setMaximumHeight(260)
        layout.addWidget(scroll)
        #: Order id → its justification field and its verdict line.
        self.fields: dict[str, QLineEdit] = {}
        self.verdicts: dict[str, QLabel] = {}
        self.flag_labels: dict[str, list[QLabel]] = {}

    def show_orders(self, flagged: Sequence[FlaggedOrder]) -> None:
        """Rebuild the rows; text already typed in a row is kept."""
        typed = {oid: f.text() for oid, f in self.fields.items()}
        while self._rows_layout.count():
            item = self._rows_layout.takeAt(0)
            row = item.widget() if item is not None else None
            if row is not None:
                row.deleteLater()
        self.fields, self.verdicts, self.flag_labels = {}, {}, {}
        for f in flagged:
            self._rows_layout.addWidget(self._row(f, typed.get(f.order_id, f.offered or "")))
        self.setVisible(bool(flagged))

    def _row(self, f: FlaggedOrder, text: str) -> QGroupBox:
        box = QGroupBox(f"Order {f.label}")
        rows = QVBoxLayout(box)
        self.flag_labels[f.order_id] = []
        for flag in f.flags:
            line = QLabel(flag)
            line.setWordWrap(True)
            line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            rows.addWidget(line)
            self.flag_labels[f.order_id].append(line)
        field = QLineEdit(text)
        field.setMaxLength(MAX_CHARS)
        field.setPlaceholderText("Why this order is legitimate")
        field.setAccessibleName(f"SOM justification for order {f.label}")
        rows.addWidget(field)
        verdict = QLabel()
        verdict.setTextFormat(Qt.TextFormat.RichText)
        verdict.setWordWrap(True)
        if f.justification is not None:
            verdict.setText(
                f"{dot(Tone.OK)} Justification accepted: it is recorded when this order is signed."
            )
        elif f.offered:
            verdict.setText(f"{dot(Tone.BAD)} {escape(f.problem or '')}")
        else:
            verdict.setText(f"{dot(Tone.WARN)} Needed to sign this order.")
        rows.addWidget(verdict)
        self.fields[f.order_id] = field
        self.verdicts[f.order_id] = verdict
        return box

    def texts(self) -> dict[str, str]:
        """Order id → the text typed in its row (rows left empty are left out)."""
        return {oid: f.text().strip() for oid, f in self.fields.items() if f.text().strip()}
