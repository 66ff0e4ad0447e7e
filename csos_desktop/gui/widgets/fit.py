"""Windows sized to the screen they open on: never larger than its free area."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: Room left for the title bar and the window frame, which Qt's sizes do not include.
FRAME = 40


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize *window* to width x height, or to the screen's available area if smaller."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(width, height)
        return
    free = screen.availableGeometry()
    window.resize(min(width, free.width()), min(height, free.height() - FRAME))
