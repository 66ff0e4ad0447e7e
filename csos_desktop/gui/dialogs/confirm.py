"""Asks before an action that stays on record (void a draft, deactivate a user).

Window-modal and opened with ``open()``: the caller connects ``confirmed`` and nothing
happens on Cancel or Escape. With a reason asked, the action button stays disabled until
one is typed, so an empty reason never reaches the service (which refuses it too).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class ConfirmDialog(QDialog):
    """*question*, an optional reason field, and an action button named for the action."""

    confirmed = Signal(str)  # the reason given ("" when none is asked)

    def __init__(
        self,
        parent: QWidget,
        title: str,
        question: str,
        action: str,
        *,
        reason_label: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        text = QLabel(question)
        text.setWordWrap(True)
        text.setAccessibleDescription(title)
        layout.addWidget(text)
        self.reason: QLineEdit | None = None
        if reason_label is not None:
            label = QLabel(reason_label)
            self.reason = QLineEdit()
            self.reason.setAccessibleName("Reason")
            label.setBuddy(self.reason)
            layout.addWidget(label)
            layout.addWidget(self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.action: QPushButton = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.action.setDefault(True)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        if self.reason is not None:
            self.reason.textChanged.connect(self._reason_changed)
            self._reason_changed(self.reason.text())

    def _reason_changed(self, text: str) -> None:
        self.action.setEnabled(bool(text.strip()))

    def accept(self) -> None:
        reason = "" if self.reason is None else self.reason.text().strip()
        if self.reason is not None and not reason:
            return
        super().accept()
        self.confirmed.emit(reason)
