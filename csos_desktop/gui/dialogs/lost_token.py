"""Token → Report a lost token…: record it, the text for the CA, the 24-hour deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.token_loss import LossReport
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.tokens.loss import loss_reports, mark_sent, report_loss

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore


class LostTokenDialog(QDialog):
    """Each step (reported, sent) is an audit entry; open reports show their deadline."""

    def __init__(self, store: OpenStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Report a lost token")
        self._store = store
        self.report: LossReport | None = None
        self.discovered = QDateTimeEdit(QDateTime.currentDateTime())
        self.discovered.setCalendarPopup(True)
        self.discovered.setAccessibleName("When the loss was discovered")
        self.record_button = QPushButton("Record the loss")
        self.deadline = QLabel()
        self.deadline.setTextFormat(Qt.TextFormat.RichText)
        self.deadline.setWordWrap(True)
        self.deadline.setAccessibleDescription("Deadline to tell the CA")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Text to send to the CA")
        self.how = QComboBox()
        self.how.addItems(["phone", "email", "signed-request", "other"])
        self.how.setAccessibleName("How the CA was told")
        self.sent_button = QPushButton("Mark as sent to the CA")
        form = QFormLayout()
        form.addRow("Loss discovered", self.discovered)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.record_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.deadline)
        layout.addWidget(self.text, 1)
        form2 = QFormLayout()
        form2.addRow("Told by", self.how)
        layout.addLayout(form2)
        layout.addWidget(self.sent_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.record_button.clicked.connect(self.record)
        self.sent_button.clicked.connect(self.mark_sent)
        open_reports = [r for r in loss_reports(store) if r.sent_at is None]
        self._show(open_reports[-1] if open_reports else None)

    def _show(self, report: LossReport | None) -> None:
        self.report = report
        self.sent_button.setEnabled(report is not None and report.sent_at is None)
        if report is None:
            self.deadline.setText("Record when the loss was discovered: the CA must be told "
                                  "within 24 hours (21 CFR 1311.30(e)).")  # fmt: skip
            return
        now = datetime.now(UTC)
        tone = (
            Tone.OK
            if report.sent_at
            else (Tone.BAD if report.time_left(now).total_seconds() <= 0 else Tone.WARN)
        )
        self.deadline.setText(f"{dot(tone)} {escape(report.deadline_text(now))}")
        self.text.setPlainText(report.text_for_ca())

    def record(self) -> None:
        when = self.discovered.dateTime().toPython()
        assert isinstance(when, datetime)
        try:
            report = report_loss(
                self._store, discovered_at=when.astimezone(UTC), now=datetime.now(UTC)
            )
        except CsosError as exc:
            self.deadline.setText(f"{dot(Tone.BAD)} {escape(exc.message)}")
            return
        self._show(report)

    def mark_sent(self) -> None:
        if self.report is None:
            return
        try:
            report = mark_sent(
                self._store,
                self.report.report_id,
                now=datetime.now(UTC),
                how=self.how.currentText(),
            )
        except CsosError as exc:
            self.deadline.setText(f"{dot(Tone.BAD)} {escape(exc.message)}")
            return
        self._show(report)
