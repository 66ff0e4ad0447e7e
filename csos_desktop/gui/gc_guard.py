"""Python's cyclic garbage collector runs on the GUI thread only.

A collection that starts on a worker thread (the token thread, the pool) can delete Qt
objects owned by the GUI thread, and PySide6 then crashes. Automatic collection is turned
off and a timer on the GUI thread collects with the interpreter's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


def collect_due() -> None:
    """One collection of the oldest generation whose count passed its threshold."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return


def collect_on_gui_thread(parent: QObject, interval_ms: int = 500) -> QTimer:
    """Turn automatic collection off; collect from a timer owned by *parent*."""
    gc.disable()
    timer = QTimer(parent)
    timer.setInterval(interval_ms)
    timer.timeout.connect(collect_due)
    timer.start()
    return timer
