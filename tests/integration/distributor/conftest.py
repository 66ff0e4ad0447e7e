"""A real sandbox distributor on 127.0.0.1 (random port, TLS from the test CA) per test."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.types import ASGIApp

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.customers import Customer, add_customer
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode, FulfilmentSettings
from csos_desktop.sandbox.distributor.server import (
    RunningDistributor,
    open_distributor,
    start_in_thread,
)
from csos_desktop.sandbox.distributor.som_hook import NoOpSomPolicy, SomPolicy
from csos_desktop.sandbox.https import bind
from csos_desktop.sandbox.limits import DEFAULT_LIMITS, RequestLimits
from csos_desktop.sync.client import DistributorClient, RetryPolicy
from csos_desktop.trust.crl_cache import CrlCache
from csos_desktop.trust.revocation import RevocationData, RevocationSource
from tests.conftest import PURCHASER_DEA, Provisioned
from tests.integration.signing import chain_of, sign_order
from tests.under_ci import unavailable

PG_BIN = Path("/usr/lib/postgresql/15/bin")
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@dataclass
class Sandbox:
    """A running distributor, one customer of it and a client for that customer."""

    running: RunningDistributor
    customer: Customer
    token: str
    ca: TestCa

    @property
    def url(self) -> str:
        return self.running.url

    def client(
        self, *, retry: RetryPolicy = FAST_RETRY, timeout: float = 10.0, token: str | None = None
    ) -> DistributorClient:
        return DistributorClient(
            self.url,
            token or self.token,
            ca_bundle=self.running.tls.ca_bundle,
            timeout=timeout,
            retry=retry,
        )

    def add_customer(self, dea: str, name: str = "Other Pharmacy") -> str:
        return add_customer(self.running.distributor.engine, dea_number=dea, name=name)[1]


StartSandbox = Callable[..., Sandbox]


#: The CA's CRLs handed to a client last this long: a test may take a void in 61 days.
CRL_DAYS = 90


def seed_crl_cache(ca: TestCa, directory: Path, *, issuing: bool = True) -> CrlCache:
    """A CRL cache in *directory* holding *ca*'s current CRLs, as `csos crl refresh` would
    leave it (the session CA's distribution points name a host that never resolves);
    without *issuing*, only the root's: its subscribers' CRL cannot be had."""
    cache = CrlCache(directory)
    now = datetime.now(UTC)
    pairs = [(ca.root_crl(next_update_days=CRL_DAYS), ca.root_certificate)]
    if issuing:
        pairs.append((ca.crl(next_update_days=CRL_DAYS), ca.issuing_certificate))
    for crl, issuer in pairs:
        der = issuer.public_bytes(Encoding.DER)
        cache.put(
            crl.public_bytes(Encoding.DER), "test", now, issuer=asn1_x509.Certificate.load(der)
        )
    return cache


def ca_revocation(ca: TestCa) -> RevocationData:
    """*ca*'s current CRLs as a verification is handed them."""
    return RevocationData(
        tuple(
            asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
            for c in (ca.crl(next_update_days=CRL_DAYS), ca.root_crl(next_update_days=CRL_DAYS))
        )
    )


def ca_crls(ca: TestCa, directory: Path, *, issuing: bool = True) -> RevocationSource:
    """The product's revocation source over ``seed_crl_cache``: what a sync worker's
    statements are checked with in tests."""
    return RevocationSource(seed_crl_cache(ca, directory, issuing=issuing))


@pytest.fixture
def start_sandbox(test_ca: TestCa, tmp_path: Path) -> Iterator[StartSandbox]:
    """Start a distributor; stopped after the test. Each gets a fresh SQLite database."""
    started: list[RunningDistributor] = []

    def start(
        *,
        mode: FulfilmentMode = FulfilmentMode.SHIP_ALL,
        balance_delay: timedelta = timedelta(0),
        som: SomPolicy | None = None,
        database_url: str | None = None,
        crl_max_age: float = 0.0,
        wrap: Callable[[ASGIApp], ASGIApp] | None = None,
        limits: RequestLimits = DEFAULT_LIMITS,
    ) -> Sandbox:
        url = database_url or f"sqlite:///{tmp_path / f'd{len(started)}.sqlite'}"
        distributor = open_distributor(
            test_ca.directory,
            database_url=url,
            settings=FulfilmentSettings(mode, balance_delay),
            som=som or NoOpSomPolicy(),
            crl_max_age=crl_max_age,
        )
        distributor.reports_dir = tmp_path / f"reports{len(started)}"
        customer, token = add_customer(
            distributor.engine, dea_number=PURCHASER_DEA, name="Main Street Pharmacy"
        )
        running = start_in_thread(
            distributor, test_ca.directory, bind("127.0.0.1", 0), wrap=wrap, limits=limits
        )
        started.append(running)
        return Sandbox(running, customer, token, test_ca)

    yield start
    for running in started:
        running.stop()
        running.distributor.engine.dispose()


# -- PostgreSQL (Debian's server package, started on a loopback port) --------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: drop to the postgres user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail under CI, which must run the PostgreSQL tests."""
    unavailable("PostgreSQL", reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL 15 cluster; skipped when the server binaries are absent
    (a failure instead under CI=true)."""
    pg_bin = Path(os.environ.get("CSOS_PG_BIN", str(PG_BIN)))
    if not (pg_bin / "initdb").exists():
        postgres_unavailable(
            f"PostgreSQL 15 server binaries are not installed ({pg_bin}); run `make postgres-deps`"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        postgres_unavailable("running as root without runuser: cannot start PostgreSQL")
    root = Path(tempfile.mkdtemp(prefix="csos-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [
                str(pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "csos",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            [
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        # sslmode=disable: the throw-away cluster has no TLS, and libpq's attempt at it
        # leaves an OpenSSL error queued on the calling thread that the next TLS call
        # of Python's ssl module on that thread then reports as its own failure.
        url = f"postgresql://csos@127.0.0.1:{port}/postgres?sslmode=disable"
        _wait_ready(url)
        yield url
    finally:
        subprocess.run(
            _as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(url: str) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """A new database in the session's cluster for one test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, query = postgres_url.split("?", 1)
    yield f"{base.rsplit('/', 1)[0]}/{name}?{query}"


# Token work runs on its own thread, as in the application: SoftHSM2 leaves errors on
# OpenSSL's per-thread error queue, and the next TLS call of Python's ssl module on the
# same thread reports them as its own failure ("[ENGINE: NO_SUCH_ENGINE]").
TOKEN_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token")


def signed(prov: Provisioned, ca: TestCa, **kwargs: Any) -> tuple[bytes, bytes, str]:
    """(document, signature, order id) of the sample order signed on the token, chain included."""
    kwargs.setdefault("chain", chain_of(ca))
    document, signature = TOKEN_THREAD.submit(lambda: sign_order(prov, **kwargs)).result()
    return document, signature, str(json.loads(document)["order_id"])


def sign_document(
    prov: Provisioned, ca: TestCa, document: bytes, certificate_der: bytes | None = None
) -> bytes:
    """A detached CMS signature of any document (a receipt) on the token, chain included.

    *certificate_der*: another certificate for the token's key (another registrant's).
    """
    from datetime import UTC, datetime

    from csos_desktop.pki.cms import CmsSigner
    from csos_desktop.token.signer import TokenSigner

    def sign() -> bytes:
        with prov.session() as ts:
            signer = CmsSigner(
                TokenSigner(ts, prov.key.key_id),
                certificate_der or prov.certificate_der,
                chain_of(ca),
            )
            return signer.sign(document, datetime.now(UTC))

    return TOKEN_THREAD.submit(sign).result()
