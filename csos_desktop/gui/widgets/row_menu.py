"""Enter and a context menu for a list: the same actions as the buttons beside it.

A keyboard or screen-reader user reaches a row's actions from the row itself: Enter opens
it (as a double-click does), and the Menu key or Shift+F10 lists what the buttons do, each
enabled as its button is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QMenu


class RowMenu(QObject):
    """Context menu of *buttons* on *view*; *open_row* runs on Enter and double-click."""

    def __init__(
        self,
        view: QAbstractItemView,
        buttons: Sequence[QAbstractButton],
        open_row: Callable[[QModelIndex], object] | None = None,
    ) -> None:
        super().__init__(view)
        self._view = view
        self._buttons = tuple(buttons)
        self.shown: QMenu | None = None
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show)
        view.installEventFilter(self)  # the Menu key and Shift+F10, on every platform
        if open_row is not None:
            # `activated` is Enter on the current row, and a double-click (one handler).
            view.activated.connect(open_row)

    def menu(self) -> QMenu:
        """The menu as it would open now (the buttons' texts, shown and enabled as they are)."""
        menu = QMenu(self._view)
        menu.setAccessibleName(f"{self._view.accessibleName()} actions")
        for button in self._buttons:
            if button.isHidden():
                continue
            action = menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        return menu

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            shift_f10 = event.key() == Qt.Key.Key_F10 and (
                event.modifiers() == Qt.KeyboardModifier.ShiftModifier
            )
            if event.key() == Qt.Key.Key_Menu or shift_f10:
                self._show(QPoint(-1, -1))
                return True
        return False

    def _show(self, pos: QPoint) -> None:
        current = self._view.currentIndex()
        if current.isValid() and not self._view.viewport().rect().contains(pos):
            pos = self._view.visualRect(current).center()
        self.shown = self.menu()
        self.shown.exec(self._view.viewport().mapToGlobal(pos))
        self.shown.deleteLater()
        self.shown = None
