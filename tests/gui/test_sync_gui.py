"""The distributor sync in the window: a real sandbox distributor over TLS, passes on the pool."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.jobs.sync import DistributorSettings, DistributorSync, Link
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from csos_desktop.sync.credentials import save_token
from csos_desktop.sync.worker import SyncReport, SyncWorker
from tests.conftest import Provisioned, trust_sandbox_root
from tests.integration.distributor.conftest import FAST_RETRY, start_sandbox
from tests.integration.distributor.test_sync_worker import Pharmacist, signed_orders

__all__ = ["start_sandbox"]  # the fixture, used by name below


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_ca: TestCa) -> Path:
    """This test's own CSOS_HOME: its credential file, change-feed cursor and trust store."""
    path = tmp_path / "home"
    monkeypatch.setenv("CSOS_HOME", str(path))
    trust_sandbox_root(test_ca, path)  # orders are signed in this home, through the checks
    return path


class Recorder:
    """Keeps every result the window received (a bound method, as the GUI's own slots)."""

    def __init__(self, sync: DistributorSync) -> None:
        self.sync = sync
        self.results: list[object] = []
        sync.finished.connect(self.results.append)


def test_send_now_sends_the_outbox_and_brings_back_shipments(
    qtbot: QtBot,
    home: Path,
    tmp_path: Path,
    ec_token: Provisioned,
    start_sandbox: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox()  # type: ignore[operator]
    save_token(sandbox.url, sandbox.token)
    threads: list[str] = []
    real = SyncWorker.run_once

    def spy(self: SyncWorker) -> SyncReport:
        threads.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(SyncWorker, "run_once", spy)
    with open_store(tmp_path / "csos.db") as store:
        ids = signed_orders(store, Pharmacist(ec_token), 2)
        settings = DistributorSettings(sandbox.url, sandbox.running.tls.ca_bundle, 7)
        sync = DistributorSync(store.path, lambda: settings, retry=FAST_RETRY)
        window = MainWindow(store=store, sync=sync)
        qtbot.addWidget(window)
        rec = Recorder(sync)
        assert "not contacted yet · 2 waiting" in window.outbox_label.text()
        button = window.home.outbox_card.button
        assert button.isVisibleTo(window) and button.text() == "Send now"
        assert button.accessibleName()

        sync.start()  # the first pass at once, then every 7 minutes
        assert sync.timer.isActive() and sync.timer.interval() == 7 * 60_000
        qtbot.waitUntil(lambda: bool(rec.results) and not sync.running, timeout=30_000)
        assert threads and threads[0] != threading.main_thread().name
        assert "Distributor: online · 0 waiting" in window.outbox_label.text()
        assert {store.orders.get(i).state for i in ids} == {OrderState.ACCEPTED}
        assert "Last exchange with the distributor" in window.home.outbox_card.body.text()

        sandbox.running.distributor.fulfil()
        button.click()  # Send now
        assert not button.isEnabled()  # one pass at a time, said on the button
        qtbot.waitUntil(lambda: len(rec.results) == 2 and not sync.running, timeout=30_000)
        assert button.isEnabled()
        assert {store.orders.get(i).state for i in ids} == {OrderState.SHIPPED}
        # Home, the status bar and the tray follow the pass without waiting for the timer.
        assert "2 order(s)" in window.home.receipt_card.body.text()
        titles = [t for t, _ in window.tray.shown]
        assert sum("shipped" in t for t in titles) == 2
        sync.stop()


def test_without_a_distributor_or_credential_it_says_so(
    qtbot: QtBot, home: Path, store_path: Path
) -> None:
    with open_store(store_path) as store:
        sync = DistributorSync(store.path, lambda: DistributorSettings(None))
        window = MainWindow(store=store, sync=sync)
        qtbot.addWidget(window)
        rec = Recorder(sync)
        sync.send_now()
        qtbot.waitUntil(lambda: bool(rec.results), timeout=10_000)
        assert "Distributor: not configured · 0 waiting" in window.outbox_label.text()
        assert "no distributor address" in window.home.outbox_card.body.text()

        url = "https://csos.distributor.example/api"
        sync2 = DistributorSync(store.path, lambda: DistributorSettings(url))
        window2 = MainWindow(store=store, sync=sync2)
        qtbot.addWidget(window2)
        rec2 = Recorder(sync2)
        sync2.send_now()
        qtbot.waitUntil(lambda: bool(rec2.results), timeout=10_000)
        result = sync2.last
        assert result is not None and result.link is Link.NOT_CONFIGURED
        assert "not configured" in window2.outbox_label.text()
        assert "No credential for the distributor" in window2.home.outbox_card.body.text()


def test_an_unreachable_distributor_is_offline_with_the_reason_and_keeps_the_queue(
    qtbot: QtBot, home: Path, tmp_path: Path, ec_token: Provisioned, start_sandbox: object
) -> None:
    sandbox = start_sandbox()  # type: ignore[operator]
    dead = "https://127.0.0.1:9"
    save_token(dead, "t")
    save_token(sandbox.url, sandbox.token)
    with open_store(tmp_path / "csos.db") as store:
        signed_orders(store, Pharmacist(ec_token), 1)
        where = {"url": sandbox.url}
        settings = lambda: DistributorSettings(  # noqa: E731
            where["url"], sandbox.running.tls.ca_bundle
        )
        sync = DistributorSync(store.path, settings, retry=FAST_RETRY)
        window = MainWindow(store=store, sync=sync)
        qtbot.addWidget(window)
        rec = Recorder(sync)
        sync.send_now()
        qtbot.waitUntil(lambda: len(rec.results) == 1 and not sync.running, timeout=30_000)
        assert "online · 0 waiting" in window.outbox_label.text()
        # A second order signed, then the distributor goes away.
        signed_orders(store, Pharmacist(ec_token), 1)
        where["url"] = dead
        sync.send_now()
        qtbot.waitUntil(lambda: len(rec.results) == 2 and not sync.running, timeout=30_000)
        text = window.outbox_label.text()
        assert "Distributor: offline (" in text and "· 1 waiting" in text
        assert "could not be reached" in window.home.outbox_card.body.text()
        assert "Distributor offline" in [t for t, _ in window.tray.shown]
        assert len(store.outbox.pending()) == 1
