"""The token thread: every PKCS#11 call happens here, never on the UI thread.

Many vendor modules do not allow sharing sessions across threads, so one
QThread owns the token layer: it polls for insert/remove, reports the status
by signal, and runs token jobs (signing, enrolment) one at a time through
:meth:`TokenWorker.submit`. While a job runs the poll waits, so a job never
shares the module with a status read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMetaObject, QObject, QThread, QTimer, Signal, Slot

from csos_desktop.domain.errors import CsosError
from csos_desktop.services.tokens.turn import ONE_CALLER

if TYPE_CHECKING:  # PKCS#11 loads on the token thread's first poll, after the window shows
    from csos_desktop.services.context import DriverSetting
    from csos_desktop.services.tokens.status import TokenStatus

POLL_MS = 1000  # the UI must reflect insert/remove within 2 s

#: A job gets a progress callback (safe to call from the token thread) and returns a result.
Progress = Callable[[object], None]
TokenJobFn = Callable[[Progress], Any]


class BugReport(Exception):
    """Wraps an unexpected exception so the UI shows it as a bug, with its type."""


class JobRelay(QObject):
    """Lives on the UI thread: signals emitted from the token thread arrive queued."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(object)  # CsosError (for the user) or BugReport


class TokenWorker(QObject):
    """Polls the token status, emits it when it changes, and runs submitted jobs."""

    status_changed = Signal(object)  # TokenStatus
    _job_requested = Signal(object, object)  # (fn, relay)

    def __init__(
        self,
        module: str | None = None,
        configured: DriverSetting | None = None,
        label: str | None = None,
    ) -> None:
        super().__init__()
        self._module = module
        self._configured = configured
        self._label = label  # the `token_label` setting, when several tokens are inserted
        self._last: TokenStatus | None = None
        self._timer: QTimer | None = None
        self._thread_id: int | None = None
        self._job_requested.connect(self._run_job)

    @property
    def module(self) -> str | None:
        return self._module

    @property
    def configured(self) -> DriverSetting | None:
        return self._configured

    @property
    def last_status(self) -> TokenStatus | None:
        return self._last

    @Slot()
    def start(self) -> None:
        self._thread_id = threading.get_ident()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    @Slot()
    def stop(self) -> None:
        # Runs on the token thread: the timer must be stopped and freed by the thread owning it.
        if self._timer is not None:
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None

    @Slot()
    def poll(self) -> None:
        from csos_desktop.services.tokens.status import read_token_status

        with ONE_CALLER:
            status = read_token_status(self._module, self._label, configured=self._configured)
        if status != self._last:
            self._last = status
            self.status_changed.emit(status)

    def on_token_thread(self) -> bool:
        """True when called from the thread that owns the token (jobs assert it)."""
        return self._thread_id == threading.get_ident()

    def submit(
        self,
        owner: QObject,
        fn: TokenJobFn,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        """Run *fn* on the token thread; callbacks run on *owner*'s (UI) thread."""
        relay = JobRelay(owner)  # parented: delivered on the owner's thread, freed with it
        relay.done.connect(on_done)
        relay.failed.connect(on_error)
        if on_progress is not None:
            relay.progress.connect(on_progress)
        relay.done.connect(relay.deleteLater)
        relay.failed.connect(relay.deleteLater)
        self._job_requested.emit(fn, relay)

    @Slot(object, object)
    def _run_job(self, fn: TokenJobFn, relay: JobRelay) -> None:
        try:
            with ONE_CALLER:
                result = fn(relay.progress.emit)
        except CsosError as exc:
            relay.failed.emit(exc)
        except Exception as exc:  # a bug: shown to the user as one, never swallowed
            relay.failed.emit(
                BugReport(f"Unexpected error ({type(exc).__name__}): please report it.")
            )
        else:
            relay.done.emit(result)
        finally:
            # PIN state and presence may have changed (wrong PIN, token pulled): re-read now.
            if self._timer is not None:
                self.poll()


class TokenThread:
    """Owns the QThread and its worker; stop() joins it."""

    def __init__(self, worker: TokenWorker) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("token")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.start)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.isRunning():
            from PySide6.QtCore import Qt  # not at import: see theme.set_rich_text

            blocking = Qt.ConnectionType.BlockingQueuedConnection
            QMetaObject.invokeMethod(self.worker, "stop", blocking)
        self.thread.quit()
        self.thread.wait(5000)
