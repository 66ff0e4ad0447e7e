"""The distributor sync in the GUI: one ``services.sync.service.sync_pass`` on the thread pool.

A pass runs every ``sync_interval_minutes`` and when *Send now* is pressed, never
on the UI thread (HTTP) and never on the token thread (SoftHSM2 leaves errors on
OpenSSL's per-thread queue that break the next TLS call there). Each pass opens
its own store connection. The result says in words whether the distributor
answered, why not, or that none is configured; nothing here raises to the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from csos_desktop.gui.jobs.pool import run_job
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.sync.service import (
    DistributorSettings,
    Link,
    SyncResult,
    settings_from_config,
    sync_pass,
)

if TYPE_CHECKING:  # the network stack is imported by the first pass, not at start-up
    from csos_desktop.services.sync.service import RetryPolicy

__all__ = ["DistributorSettings", "DistributorSync", "Link", "SyncResult", "status_text"]


def status_text(result: SyncResult | None, waiting: int | None, running: bool = False) -> str:
    """The status bar's distributor sentence, with a dot (words carry the meaning)."""
    count = f" · {waiting} waiting" if waiting is not None else ""
    if result is None:
        what = "sending…" if running else "not contacted yet"
        return f"{dot(Tone.NEUTRAL)} Distributor: {what}{count}"
    if result.link is Link.NOT_CONFIGURED:
        return f"{dot(Tone.NEUTRAL)} Distributor: not configured{count}"
    if result.link is Link.OFFLINE:
        why = escape(result.reason or "no answer")
        return f"{dot(Tone.BAD)} Distributor: offline ({why}){count}"
    tone = Tone.WARN if waiting else Tone.OK
    return f"{dot(tone)} Distributor: online{count}"


def result_html(result: SyncResult | None, running: bool) -> str:
    """Home's "Sending to the distributor" card: the last pass in words."""
    if running:
        return f"{dot(Tone.NEUTRAL)} Sending to the distributor now…"
    if result is None:
        return f"{dot(Tone.NEUTRAL)} The distributor has not been contacted yet."

    when = result.at.astimezone().strftime("%H:%M")
    if result.link is Link.NOT_CONFIGURED:
        return (
            f"{dot(Tone.NEUTRAL)} Not connected to a distributor: "
            f"{escape(result.reason or 'not configured')}."
        )
    if result.link is Link.OFFLINE:
        return (
            f"{dot(Tone.BAD)} The distributor could not be reached at {when}: "
            f"{escape(result.reason or 'unknown reason')}. Documents stay queued and are "
            "sent on the next try."
        )
    report = result.report
    done = (
        (
            f" Sent {len(report.sent)}, refused {len(report.refused)}, "
            f"{len(report.updated)} status update(s)."
        )
        if report
        else ""
    )
    return f"{dot(Tone.OK)} Last exchange with the distributor at {when}.{done}"


class DistributorSync(QObject):
    """Runs a pass every N minutes and on demand; one pass at a time; results by signal."""

    started = Signal()
    finished = Signal(object)  # SyncResult

    def __init__(
        self,
        store_path: Path,
        settings: Callable[[], DistributorSettings] = settings_from_config,
        *,
        retry: RetryPolicy | None = None,
        interval_ms: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        """*interval_ms* replaces the configured minutes (the soak test's seconds)."""
        super().__init__(parent)
        self._path = store_path
        self._settings = settings
        self._retry = retry
        self._interval_ms = interval_ms
        self.last: SyncResult | None = None
        self.running = False
        self._again = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.send_now)

    def start(self) -> None:
        """Arm the timer (interval from the configuration) and run a first pass now."""
        self.timer.setInterval(self._interval(self._settings()))
        self.timer.start()
        self.send_now()

    def stop(self) -> None:
        self.timer.stop()

    def _interval(self, settings: DistributorSettings) -> int:
        return self._interval_ms or settings.interval_minutes * 60_000

    def send_now(self) -> None:
        """Start a pass; if one is running, run another right after it."""
        if self.running:
            self._again = True
            return
        settings = self._settings()
        self.timer.setInterval(self._interval(settings))
        self.running = True
        self.started.emit()
        run_job(
            self,
            partial(sync_pass, self._path, settings, retry=self._retry),
            self._done,
            self._failed,
        )

    def _done(self, result: SyncResult) -> None:
        self.running = False
        self.last = result
        self.finished.emit(result)
        if self._again:
            self._again = False
            self.send_now()

    def _failed(self, message: str) -> None:
        # The store could not be opened, or a bug: shown as offline with the reason.
        self._done(SyncResult(Link.OFFLINE, message, None, None, datetime.now(UTC)))
