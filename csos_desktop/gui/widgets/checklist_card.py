"""Home's getting-started card: one row per first-run step, each with its button."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from csos_desktop.gui.theme import Tone, dot, set_rich_text
from csos_desktop.gui.widgets.card import Card
from csos_desktop.services.first_run import ChecklistItem, FirstRunStep


class ChecklistCard(Card):
    """Hidden once every step is done."""

    step_chosen = Signal(object)  # FirstRunStep

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Getting started", parent)
        self.rows = QWidget()
        self._grid = QGridLayout(self.rows)
        self._grid.setContentsMargins(0, 0, 0, 0)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(2, self.rows)
        self.buttons: dict[FirstRunStep, QPushButton] = {}

    def show_checking(self) -> None:
        """Shown until the facts are read (just after the window first appears)."""
        self._clear()
        self.set_body("Checking this computer's set-up…")
        self.setVisible(True)

    def _clear(self) -> None:
        while self._grid.count():
            taken = self._grid.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self.buttons.clear()

    def show_items(self, items: tuple[ChecklistItem, ...]) -> None:
        self._clear()
        self.set_body("Before the first order, finish these steps:")
        for row, item in enumerate(items):
            tone, mark = (Tone.OK, "Done") if item.done else (Tone.WARN, "To do")
            label = QLabel()
            set_rich_text(label, f"{dot(tone)} <b>{mark}:</b> {escape(item.text)}")
            label.setWordWrap(True)
            self._grid.addWidget(label, row, 0)
            if not item.done:
                button = QPushButton(item.button)
                button.setAccessibleName(f"{item.button} ({item.step.value})")
                button.clicked.connect(lambda _=False, s=item.step: self.step_chosen.emit(s))
                self._grid.addWidget(button, row, 1)
                self.buttons[item.step] = button
        self.setVisible(not all(i.done for i in items))
