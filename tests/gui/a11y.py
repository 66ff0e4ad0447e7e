"""An accessibility audit of shown Qt windows, for the tests (WCAG 2.1 AA applied to a desktop).

Each check returns the findings as sentences, so a failing test says which control and why.
The names are read through QAccessible, as a screen reader reads them: a button's text and
a form label's buddy count as names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QSlider,
    QTabBar,
    QTextEdit,
    QWidget,
)

from csos_desktop.gui.theme import Tone

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QTextEdit,
    QPlainTextEdit,
    QSlider,
)
MAX_WIDTH, MAX_HEIGHT = 1024, 768
MIN_CONTRAST = 4.5
_MNEMONIC = re.compile(r"(?<!&)&([^&\s])")
_COLOUR = re.compile(r"color:\s*(#[0-9a-fA-F]{6})")


def shown(top: QWidget) -> Iterator[QWidget]:
    """*top* and every descendant a user can see now."""
    yield top
    for w in top.findChildren(QWidget):
        if w.isVisibleTo(top) and w.isWindow() is False:
            yield w


def _part_of_another_control(w: QWidget) -> bool:
    """A combo box's or spin box's own line edit, a table's corner button: named by the owner."""
    parent = w.parentWidget()
    return isinstance(parent, QComboBox | QAbstractSpinBox) or type(w).__name__ in {
        "QTableCornerButton"
    }


def accessible_name(w: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(w)
    name = iface.text(QAccessible.Text.Name) if iface is not None else ""
    return (name or w.accessibleName()).strip()


def plain(text: str) -> str:
    """A label's text as heard: rich text rendered, mnemonic ampersands dropped."""
    if "<" in text:  # Qt's own test (Qt::mightBeRichText) is not in PySide6
        doc = QTextDocument()
        doc.setHtml(text)
        text = doc.toPlainText()
    return " ".join(re.sub(r"&(?!&)", "", text).split())


def unnamed_controls(top: QWidget) -> list[str]:
    found = []
    for w in shown(top):
        if not isinstance(w, INTERACTIVE) or _part_of_another_control(w):
            continue
        if w.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if not accessible_name(w):
            found.append(f"{type(w).__name__} {w.objectName() or ''} has no accessible name")
    return found


def hidden_labels(top: QWidget) -> list[str]:
    """Labels whose accessible name replaces the text on screen (the reader never hears it)."""
    found = []
    for w in shown(top):
        if not isinstance(w, QLabel) or not w.accessibleName():
            continue
        text = plain(w.text())
        if text and text not in " ".join(w.accessibleName().split()):
            found.append(f"label {text[:40]!r} is announced as {w.accessibleName()!r}")
    return found


def tab_traps(top: QWidget) -> list[str]:
    """Tables where Tab moves between cells: the keyboard user cannot leave them with Tab."""
    return [
        f"{accessible_name(w) or type(w).__name__} keeps Tab inside"
        for w in shown(top)
        if isinstance(w, QAbstractItemView) and w.tabKeyNavigation()
    ]


def _mnemonic_texts(top: QWidget) -> Iterator[str]:
    for w in shown(top):
        if isinstance(w, QAbstractButton) or (isinstance(w, QLabel) and w.buddy() is not None):
            yield w.text()
        elif isinstance(w, QGroupBox):
            yield w.title()
        elif isinstance(w, QTabBar):
            yield from (w.tabText(i) for i in range(w.count()))
    if isinstance(top, QMainWindow):
        yield from (a.text() for a in top.menuBar().actions())


def shared_mnemonics(top: QWidget) -> list[str]:
    keys = Counter(
        m.group(1).lower() for text in _mnemonic_texts(top) for m in _MNEMONIC.finditer(text)
    )
    return [f"Alt+{k.upper()} is used {n} times" for k, n in sorted(keys.items()) if n > 1]


def too_large(top: QWidget, width: int = MAX_WIDTH, height: int = MAX_HEIGHT) -> list[str]:
    """The window, or the least it can shrink to, is larger than width x height."""
    found = []
    for what, size in (("size", top.size()), ("minimum size", top.minimumSizeHint())):
        if size.width() > width or size.height() > height:
            found.append(f"{top.windowTitle()!r} {what} {size.width()}x{size.height()}")
    return found


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(fg: QColor, bg: QColor) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _backgrounds() -> list[QColor]:
    palette = QApplication.palette()
    return [palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.Base)]


def _pairs(colours: Iterable[str]) -> Iterator[tuple[str, str, float]]:
    for fg in colours:
        for bg in _backgrounds():
            yield fg, bg.name(), contrast(QColor(fg), bg)


def low_contrast(top: QWidget) -> list[str]:
    """Status colours (the tones, and any colour a label's rich text uses), selected rows."""
    colours = {t.value for t in Tone}
    for w in shown(top):
        if isinstance(w, QLabel):
            colours.update(_COLOUR.findall(w.text()))
    found = [
        f"{fg} on {bg}: {ratio:.2f}:1" for fg, bg, ratio in _pairs(colours) if ratio < MIN_CONTRAST
    ]
    palette = top.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        fg = palette.color(group, QPalette.ColorRole.HighlightedText)
        bg = palette.color(group, QPalette.ColorRole.Highlight)
        if contrast(fg, bg) < MIN_CONTRAST:
            found.append(f"selected rows {fg.name()} on {bg.name()}: {contrast(fg, bg):.2f}:1")
    return found


CHECKS = {
    "unnamed controls": unnamed_controls,
    "hidden labels": hidden_labels,
    "tab traps": tab_traps,
    "shared mnemonics": shared_mnemonics,
    "too large": too_large,
    "contrast failures": low_contrast,
}


def audit(top: QWidget) -> dict[str, list[str]]:
    """Every check on *top* as shown now."""
    return {name: check(top) for name, check in CHECKS.items()}
