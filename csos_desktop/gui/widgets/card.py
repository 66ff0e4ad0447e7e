"""A titled card: the Home screen's building block."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from csos_desktop.gui.theme import set_rich_text


class WrappedLabel(QLabel):
    """A word-wrapped label that asks for the height its text needs at its width.

    Layouts size a wrapped label from its width-less hint; at a narrow width or a large
    scale factor the card was then too short and cut off its last lines.
    """

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        """Ask for the height the current text needs at the current width."""
        needed = self.heightForWidth(self.width()) if self.width() > 0 else -1
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)


class Card(QFrame):
    """Title, a rich-text body and an optional action button."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setAccessibleName(title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.title = QLabel(title)
        self.title.setObjectName("cardTitle")
        self.body = WrappedLabel()
        self.body.setWordWrap(True)
        self.body.setAccessibleDescription(f"{title} details")
        self.button = QPushButton()
        # Its own width, on the left (a Maximum policy does what AlignLeft would, without a
        # Qt enum before the first paint: see theme.set_rich_text).
        self.button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.button.setVisible(False)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.button)
        layout.addStretch(1)

    def set_body(self, html: str) -> None:
        set_rich_text(self.body, html)
        self.body.fit()

    def set_action(self, text: str | None) -> None:
        """Show a button with *text*, or hide it."""
        self.button.setVisible(bool(text))
        if text:
            self.button.setText(text)
            self.button.setAccessibleName(text)
