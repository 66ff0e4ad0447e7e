"""Running slow work (database checks, network) off the UI thread, results by signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from csos_desktop.domain.errors import CsosError


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except CsosError as exc:
            self._relay.failed.emit(exc.message)
        except Exception as exc:  # shown to the user as a bug, never swallowed
            self._relay.failed.emit(f"Unexpected error ({type(exc).__name__}): please report it.")
        else:
            self._relay.done.emit(result)


def run_job(
    owner: QObject,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None],
) -> None:
    """Run *fn* on the pool; *on_done*/*on_error* are called on *owner*'s (UI) thread."""
    relay = _Relay(owner)  # parented: lives as long as the widget, delivers on its thread
    relay.done.connect(on_done)
    relay.failed.connect(on_error)
    relay.done.connect(relay.deleteLater)
    relay.failed.connect(relay.deleteLater)
    QThreadPool.globalInstance().start(_Job(fn, relay))
