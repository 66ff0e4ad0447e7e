"""The app collects garbage on the GUI thread only (gui/gc_guard.py)."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject

from csos_desktop.gui.gc_guard import collect_due, collect_on_gui_thread


def test_automatic_collection_is_off_and_the_timer_collects_cycles(qtbot: object) -> None:
    owner = QObject()
    try:
        timer = collect_on_gui_thread(owner, interval_ms=10)
        assert not gc.isenabled() and timer.isActive()

        class Cycle:
            pass

        for _ in range(gc.get_threshold()[0] * 3):
            a, b = Cycle(), Cycle()
            a.other, b.other = b, a  # type: ignore[attr-defined]
        assert gc.get_count()[0] > gc.get_threshold()[0]
        collect_due()
        assert gc.get_count()[0] <= gc.get_threshold()[0]
    finally:
        owner.deleteLater()
        gc.enable()
