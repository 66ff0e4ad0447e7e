"""Running the sandbox distributor: uvicorn over HTTPS with a certificate from the test CA.

Layout under the CA directory ``DIR``: ``distributor/distributor.sqlite``
(unless a database URL is given), ``distributor/tls/`` (server certificate,
its chain and key), ``distributor/reports/`` (the 1305.29 files). Clients
trust ``DIR/root.pem``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.app import create_app
from csos_desktop.sandbox.distributor.db import default_url, open_database
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentSettings
from csos_desktop.sandbox.distributor.identity import load_identity
from csos_desktop.sandbox.distributor.resources import ServedDocuments
from csos_desktop.sandbox.distributor.service import Distributor
from csos_desktop.sandbox.distributor.som_hook import SomPolicy, default_policy
from csos_desktop.sandbox.distributor.statements import StatementSigner
from csos_desktop.sandbox.distributor.verification import TrustMaterial
from csos_desktop.sandbox.https import (
    RunningServer,
    TlsFiles,
    url_of,
    uvicorn_server,
    write_tls_files,
)
from csos_desktop.sandbox.https import start_in_thread as serve_in_thread
from csos_desktop.sandbox.limits import DEFAULT_LIMITS, RequestLimits


def work_dir(ca_dir: Path) -> Path:
    path = ca_dir / "distributor"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_distributor(
    ca_dir: Path,
    *,
    database_url: str | None = None,
    settings: FulfilmentSettings | None = None,
    som: SomPolicy | None = None,
    crl_max_age: float = 60.0,
    clock: Clock | None = None,
    fetch_crls: bool = False,
) -> Distributor:
    """The distributor for the test CA in ``ca_dir`` (SQLite there unless a URL is given)."""
    ca = TestCa.load(ca_dir)
    base = work_dir(ca_dir)
    documents = ServedDocuments.load()
    identity = load_identity(base)
    return Distributor(
        engine=open_database(database_url or default_url(base)),
        trust=TrustMaterial(ca, crl_max_age=crl_max_age, fetch=fetch_crls),
        som=som or default_policy(documents.policy, documents.catalogue),
        documents=documents,
        settings=settings or FulfilmentSettings(),
        reports_dir=base / "reports",
        clock=clock or utc_now,
        identity=identity,
        statements=StatementSigner.open(ca, base / "signing", identity),
    )


def tls_files(ca_dir: Path, hosts: tuple[str, ...] = ()) -> TlsFiles:
    """A fresh server key and certificate under ``DIR/distributor/tls``."""
    return write_tls_files(TestCa.load(ca_dir), work_dir(ca_dir) / "tls", hosts)


class Ticker:
    """Runs a fulfilment pass every ``interval`` seconds on its own thread."""

    def __init__(self, distributor: Distributor, interval: float) -> None:
        self._distributor = distributor
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fulfilment", daemon=True)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._distributor.fulfil()
            except Exception:
                import logging

                logging.getLogger(__name__).exception("fulfilment pass failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


@dataclass
class RunningDistributor:
    """A distributor serving on a background thread (tests, demo, benchmarks)."""

    running: RunningServer
    distributor: Distributor
    ticker: Ticker

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def tls(self) -> TlsFiles:
        return self.running.tls

    def stop(self) -> None:
        self.ticker.stop()
        self.running.stop()


def start_in_thread(
    distributor: Distributor,
    ca_dir: Path,
    sock: socket.socket,
    *,
    tick: float = 0.0,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    limits: RequestLimits = DEFAULT_LIMITS,
) -> RunningDistributor:
    """Serve on ``sock`` from a thread; returns once it listens. ``wrap`` decorates the app."""
    tls = tls_files(ca_dir, (sock.getsockname()[0],))
    app: ASGIApp = create_app(distributor, limits=limits)
    running = serve_in_thread(wrap(app) if wrap else app, tls, sock, limits=limits)
    ticker = Ticker(distributor, tick)
    ticker.start()
    return RunningDistributor(running, distributor, ticker)


def serve_forever(
    distributor: Distributor,
    ca_dir: Path,
    sock: socket.socket,
    *,
    tick: float,
    announce: Callable[[str, TlsFiles], None],
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C)."""
    tls = tls_files(ca_dir, (sock.getsockname()[0],))
    server = uvicorn_server(create_app(distributor), tls, access_log=True)
    ticker = Ticker(distributor, tick)
    ticker.start()
    announce(url_of(sock), tls)
    try:
        server.run(sockets=[sock])
    finally:
        ticker.stop()
