"""The token thread: every PKCS#11 call happens here, never on the UI thread.

Many vendor modules do not allow sharing sessions across threads, so one
QThread owns the token layer; it polls for insert/remove and reports the
status by signal.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from csos_desktop.services.token_status import TokenStatus, read_token_status

POLL_MS = 1000  # the UI must reflect insert/remove within 2 s


class TokenWorker(QObject):
    """Polls the token status and emits it when it changes."""

    status_changed = Signal(object)  # TokenStatus

    def __init__(self, module: str | None = None, configured: str | None = None) -> None:
        super().__init__()
        self._module = module
        self._configured = configured
        self._last: TokenStatus | None = None
        self._timer: QTimer | None = None

    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    @Slot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    @Slot()
    def poll(self) -> None:
        status = read_token_status(self._module, configured=self._configured)
        if status != self._last:
            self._last = status
            self.status_changed.emit(status)


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
        QTimer.singleShot(0, self.worker, self.worker.stop)
        self.thread.quit()
        self.thread.wait(5000)
