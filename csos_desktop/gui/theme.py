"""Look and feel: follows the system palette, status in words and colour (never colour alone)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from csos_desktop.charts.tone import Tone as Tone  # defined with the chart colours
from csos_desktop.domain.token_state import PinSeverity

#: The tone of each PIN severity (the words are in ``domain.token_state``).
PIN_TONES = {
    PinSeverity.OK: Tone.OK,
    PinSeverity.WARN: Tone.WARN,
    PinSeverity.BAD: Tone.BAD,
    PinSeverity.BLOCKED: Tone.BAD,
}


# The first Qt enum a process uses makes PySide6 build all 94 enums of the `Qt` namespace
# (about 35 ms of CPU, a tenth of the start). Home and the main window use none before their
# first paint, so these two stand in for Qt.TextFormat.RichText and AccessibleTextRole
# (tests/gui/test_first_paint.py checks both, and that no Qt enum is built before the paint).

#: Qt.ItemDataRole.AccessibleTextRole: what a screen reader says for a list item.
ACCESSIBLE_TEXT_ROLE = 11


def set_rich_text(label: QLabel, html: str) -> None:
    """Show *html* as rich text in a label left in Qt's AutoText format.

    `<qt>` is a tag Qt::mightBeRichText knows, so the text is always read as HTML, as
    setTextFormat(Qt.TextFormat.RichText) would make it (entities, no leading tag).
    """
    label.setText(f"<qt>{html}</qt>")


def dot(tone: Tone) -> str:
    """A coloured bullet in rich text, to put before the status words."""
    return f'<span style="color:{tone.value}">&#9679;</span>'


STYLE = """
QFrame#card {
    border: 1px solid palette(mid);
    border-radius: 8px;
    background: palette(base);
}
QLabel#cardTitle { font-weight: 600; font-size: 11pt; }
QLabel#screenTitle { font-size: 16pt; font-weight: 600; }
QListWidget#nav { border: none; font-size: 11pt; padding-top: 8px; }
QListWidget#nav::item { padding: 8px 14px; }
QLabel#demoBanner { background: #fff3cd; color: #664d03; padding: 6px; }
QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus, QPlainTextEdit:focus,
QTextEdit:focus, QAbstractItemView:focus, QListWidget#nav:focus {
    border: 2px solid palette(highlight);
}
QAbstractItemView::item:selected {
    background: palette(highlight);
    color: palette(highlighted-text);
}
QAbstractItemView::item:focus { border: 2px solid #0b3d6e; }
QPushButton:focus, QCheckBox:focus, QRadioButton:focus { outline: 2px solid palette(highlight); }
"""

#: Selected rows: white on this blue is 6.6:1 (the default #308cc6 is 3.7:1).
SELECTION = "#1d5fa0"


def apply(app: QApplication) -> None:
    """Install the style sheet (palette() keeps light and dark themes working).

    Selected rows get a darker highlight, focused or not, so their text stays readable.
    """
    from PySide6.QtGui import QColor, QPalette

    palette = app.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor(SELECTION))
        palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE)
