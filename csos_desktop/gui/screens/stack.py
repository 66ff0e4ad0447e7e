"""The main window's screens by name, each built the first time it is shown or asked for.

Only the first screen is needed for the first paint; building the others (and importing
their modules, which PySide6 inspects one by one) made the window 0.2 s slower to appear
(so they wait). A screen not built yet is an empty placeholder in the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Generic, Protocol, TypeVar, cast, overload

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

#: Makes a screen: imported and constructed on first use.
ScreenFactory = Callable[[], QWidget]


def lazy_screen(module: str, name: str, *args: object) -> ScreenFactory:
    """``csos_desktop.gui.screens.<module>.<name>(*args)``, imported when first called."""

    def make() -> QWidget:
        screen: QWidget = getattr(import_module(f"csos_desktop.gui.screens.{module}"), name)(*args)
        return screen

    return make


class ScreenStack(QStackedWidget):
    """A stacked widget whose pages are named, and built when first needed."""

    #: (name, screen) once a screen is built: the window connects its signals then.
    built = Signal(str, QWidget)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._pages: dict[str, QWidget] = {}
        self._factories: dict[str, ScreenFactory] = {}

    def add(self, name: str, screen: QWidget | ScreenFactory) -> None:
        """A built screen, or a factory for one (a placeholder until then)."""
        if isinstance(screen, QWidget):
            page = screen
        else:
            page = QWidget()
            page.setAccessibleName(f"{name} (loading)")
            self._factories[name] = screen
        self._names.append(name)
        self._pages[name] = page
        self.addWidget(page)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def pages(self) -> dict[str, QWidget]:
        """Every page by name: the screen if built, else its placeholder."""
        return dict(self._pages)

    def built_screens(self) -> list[QWidget]:
        return [page for name, page in self._pages.items() if name not in self._factories]

    def is_built(self, name: str) -> bool:
        return name in self._pages and name not in self._factories

    def named(self, name: str) -> QWidget:
        """The screen called *name*, built now if it was not yet."""
        factory = self._factories.pop(name, None)
        if factory is None:
            return self._pages[name]
        placeholder = self._pages[name]
        index = self.indexOf(placeholder)
        current = self.currentIndex()
        screen = factory()
        self.insertWidget(index, screen)
        self.removeWidget(placeholder)
        placeholder.deleteLater()
        self._pages[name] = screen
        if current == index:
            self.setCurrentIndex(index)
        self.built.emit(name, screen)
        return screen

    def show_row(self, row: int) -> None:
        """Show the screen in *row* (the navigation list's row), building it first if needed."""
        if 0 <= row < len(self._names):
            self.named(self._names[row])
        self.setCurrentIndex(row)

    def current_name(self) -> str | None:
        row = self.currentIndex()
        return self._names[row] if 0 <= row < len(self._names) else None


S = TypeVar("S", bound=QWidget)


class _HasStack(Protocol):
    stack: ScreenStack


class ScreenAttribute(Generic[S]):
    """``window.orders``: the screen of that name, built when first read."""

    def __init__(self, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, window: None, owner: type) -> ScreenAttribute[S]: ...
    @overload
    def __get__(self, window: _HasStack, owner: type) -> S: ...
    def __get__(self, window: _HasStack | None, owner: type) -> S | ScreenAttribute[S]:
        if window is None:
            return self
        return cast(S, window.stack.named(self.name))
