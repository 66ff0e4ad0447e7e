"""The daily audit analysis in the GUI (21 CFR 1311.150(b), 1311.215(b)).

A timer checks every hour, on the worker pool, whether 24 h have passed since the last
analysis (run by this window, another one, or a `csos` command) and runs it if so; the
first check is at start-up. Each job opens its own store connection. The alerts it
reads go to Home's card; acknowledging one is another job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from csos_desktop.gui.jobs.pool import run_job
from csos_desktop.gui.widgets.alerts_card import AlertsCard
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx.access import Actor, os_login
from csos_desktop.services.rx.records import AlertsView, acknowledge_alert, alerts_view

#: How often the timer asks whether the analysis is due (it runs once per 24 h).
CHECK_EVERY_MS = 60 * 60 * 1000


def _analyse(path: Path) -> AlertsView:
    with open_store(path) as store:
        return alerts_view(store, now=datetime.now(UTC))


def _acknowledge(path: Path, alert_id: int, user_id: str) -> AlertsView:
    now = datetime.now(UTC)
    with open_store(path) as store:
        acknowledge_alert(store, Actor(user_id, os_login()), alert_id, now=now)
        return alerts_view(store, now=now, analyse=False)


class DailyAudit(QObject):
    """Runs the analysis when due and keeps *card* showing the unacknowledged alerts."""

    shown = Signal(object)  # AlertsView, after the card was updated

    def __init__(self, store_path: Path, card: AlertsCard, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path = store_path
        self._card = card
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.check_now)
        card.acknowledge.connect(self.acknowledge)

    def start(self) -> None:
        self.timer.start()
        self.check_now()

    def stop(self) -> None:
        self.timer.stop()

    def check_now(self) -> None:
        run_job(self, partial(_analyse, self._path), self._show, self._card.show_problem)

    def acknowledge(self, alert_id: int, user_id: str) -> None:
        self._card.button.setEnabled(False)
        run_job(
            self,
            partial(_acknowledge, self._path, alert_id, user_id),
            self._show,
            self._refused,
        )

    def _refused(self, message: str) -> None:
        self._card.show_problem(message)
        self._card.button.setEnabled(True)

    def _show(self, view: AlertsView) -> None:
        self._card.show_alerts(view)
        self.shown.emit(view)
