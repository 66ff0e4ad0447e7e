"""The order editor's SOM panel: the decision, each flag's sentence, the chart, the acknowledgement.

It only shows a :class:`~csos_desktop.services.som.review.SomReview`; the editor
computes it off the UI thread and records the acknowledgement through the service.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.som_chart import DECISION_TONE, SomChartView
from csos_desktop.services.som.review import MIN_JUSTIFICATION, SomReview
from csos_desktop.som import Decision, Severity

DECISION_WORDS = {
    Decision.OK: "No size, frequency or pattern deviation from your history.",
    Decision.WARN: "Warning: the distributor's policy flags this order.",
    Decision.INTERCEPT: "The distributor would hold this order for review (SOM intercept).",
}


def flags_html(review: SomReview) -> str:
    """Decision in words and colour, then one sentence per flag, most severe first."""
    a = review.assessment
    head = f"{dot(DECISION_TONE[a.decision])} <b>{DECISION_WORDS[a.decision]}</b>"
    items = "".join(
        f"<li>{dot(Tone.BAD if f.severity is Severity.INTERCEPT else Tone.WARN)} "
        f"<b>{f.severity.value.capitalize()}</b> ({f.kind.value}): {escape(f.explanation)}</li>"
        for f in a.flags
    )
    if a.escalated:
        items += (
            f"<li>{dot(Tone.BAD)} <b>Intercept</b>: warnings of {len(a.kinds)} kinds "
            "together hold the order for review.</li>"
        )
    tail = f"<ul>{items}</ul>" if items else ""
    return (
        f"{head}{tail}<small>Policy {escape(a.policy_id)}, class {escape(a.customer_class)},"
        f" as of {a.as_of}.</small>"
    )


class SomPanel(QGroupBox):
    """Shows the latest review; `acknowledged()` is what the editor checks before saving."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Suspicious Order Monitoring", parent)
        self.setAccessibleName("Suspicious Order Monitoring")
        self.review: SomReview | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleDescription("SOM result")
        self.family = QComboBox()
        self.family.setAccessibleName("Drug family to chart")
        self.chart = SomChartView()
        self.ack_box = QGroupBox("Acknowledge the warnings")
        self.ack_box.setAccessibleName("Acknowledge the warnings")
        ack = QVBoxLayout(self.ack_box)
        self.justification = QPlainTextEdit()
        self.justification.setPlaceholderText(
            "Why is this order legitimate? (kept in the audit log)"
        )
        self.justification.setAccessibleName("Justification")
        self.justification.setTabChangesFocus(True)  # keyboard users can leave the field
        self.justification.setMaximumHeight(70)
        self.confirm = QCheckBox("I have read these warnings and this order is legitimate")
        self.confirm.setAccessibleName("I have read these warnings")
        ack.addWidget(self.justification)
        ack.addWidget(self.confirm)
        layout.addWidget(self.summary)
        layout.addWidget(self.family)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.ack_box)
        self.family.currentIndexChanged.connect(self._chart)
        self.show_message("Add a controlled line to see how it compares with your history.")

    def show_message(self, text: str, tone: Tone = Tone.NEUTRAL) -> None:
        """No review to show (no controlled line yet, unknown product, store unavailable)."""
        self.review = None
        self.summary.setText(f"{dot(tone)} {escape(text)}")
        self.family.clear()
        self.family.setVisible(False)
        self.chart.clear()
        self.ack_box.setVisible(False)

    def show_review(self, review: SomReview) -> None:
        self.review = review
        self.summary.setText(flags_html(review))
        self.family.blockSignals(True)
        self.family.clear()
        for c in review.charts:
            self.family.addItem(f"{c.label}{' (flagged)' if c.flagged else ''}")
        self.family.blockSignals(False)
        self.family.setVisible(len(review.charts) > 1)
        self._chart()
        self.ack_box.setVisible(review.needs_acknowledgement)

    def _chart(self) -> None:
        if self.review is None or not self.review.charts:
            self.chart.clear()
            return
        c = self.review.charts[max(0, self.family.currentIndex())]
        self.chart.show_series(c.series, c.label, self.review.assessment.decision)

    def acknowledged(self) -> bool:
        """True when there is nothing to acknowledge, or the warning was read and justified."""
        if self.review is None or not self.review.needs_acknowledgement:
            return True
        text = " ".join(self.justification.toPlainText().split())
        return self.confirm.isChecked() and len(text) >= MIN_JUSTIFICATION

    def justification_text(self) -> str:
        return self.justification.toPlainText()
