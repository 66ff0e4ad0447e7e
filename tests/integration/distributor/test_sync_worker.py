"""The client's sync: outbox to the distributor, statuses back, nothing lost or sent twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor import db as ddb
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import (
    SigningPurpose,
    SigningSession,
    TokenTarget,
    signing_session,
)
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.sync.client import DistributorClient, RetryPolicy
from csos_desktop.sync.worker import CursorFile, SyncWorker
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.trust.revocation import RevocationSource
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import (
    TOKEN_THREAD,
    Sandbox,
    StartSandbox,
    ca_crls,
)
from tests.integration.signing import chain_of, issue_for_token
from tests.integration.store.tokens import TestPin, open_identity
from tests.registrant import record_identity, record_registrant
from tests.unit.store.helpers import order_input

T = TypeVar("T")


@dataclass(frozen=True)
class Pharmacist:
    """A token, and the certificate its orders are signed with (None: the token's own)."""

    prov: Provisioned
    identity: SigningIdentity | None = None
    chain: tuple[bytes, ...] = ()

    @contextmanager
    def session(self, purpose: SigningPurpose) -> Iterator[SigningSession]:
        """The product's entry point (signing_session), unless a certificate is imposed."""
        if self.identity is None:
            target = TokenTarget(self.prov.hsm.module, self.prov.label)
            with signing_session(target, purpose) as session:
                yield session
        else:
            ts, _ = open_identity(self.prov)
            with ts:
                yield SigningSession(ts, self.identity, list(self.chain), purpose)

    def on_token(
        self,
        store: Store,
        purpose: SigningPurpose,
        work: Callable[[Store, SigningSession], T],
        *,
        login: bool = False,
    ) -> T:
        """Token work on the token thread with its own store connection, as the GUI does
        (SoftHSM2 leaves OpenSSL errors on its thread that would break this one's TLS).
        With *login*, the PIN is entered first; otherwise *work* asks for it."""

        def run() -> T:
            with open_store(store.path) as own, self.session(purpose) as session:
                if login:
                    session.log_in(TestPin())
                return work(own, session)

        return TOKEN_THREAD.submit(run).result()


@pytest.fixture()
def pharmacist(ec_token: Provisioned) -> Pharmacist:
    return Pharmacist(ec_token)


def signed_orders(store: Store, pharmacist: Pharmacist, n: int) -> list[str]:
    """N drafts signed through the product's path: one login, each order committed.
    The pharmacist is the recorded registrant (the orders carry schedule II, 1305.05)."""
    if pharmacist.identity is None:
        record_registrant(store, pharmacist.prov)
    else:
        record_identity(store, pharmacist.identity)
    ids = [r.order_id for r in svc.import_orders(store, [order_input()] * n, source="test")]
    result = pharmacist.on_token(
        store,
        SigningPurpose.ORDER,
        lambda own, session: svc.sign_orders_on_token(own, ids, session, TestPin()),
    )
    assert len(result.signed) == n
    return ids


def worker(
    store: Store,
    client: DistributorClient,
    tmp_path: Path,
    statement_revocation: RevocationSource | None = None,
) -> SyncWorker:
    return SyncWorker(
        store,
        client,
        CursorFile(tmp_path / "cursor.json", "sandbox"),
        statement_revocation=statement_revocation,
    )


def server_orders(sandbox: Sandbox) -> int:
    with sandbox.running.distributor.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(ddb.orders)).scalar_one())


def test_orders_go_out_ship_and_their_receipts_follow(
    start_sandbox: StartSandbox, tmp_path: Path, pharmacist: Pharmacist
) -> None:
    sandbox = start_sandbox()
    with open_store(tmp_path / "csos.db") as store, sandbox.client() as client:
        ids = signed_orders(store, pharmacist, 3)
        w = worker(store, client, tmp_path)
        first = w.run_once()
        assert sorted(first.sent) == sorted(ids) and first.stopped is None
        assert {store.orders.get(i).state for i in ids} == {OrderState.ACCEPTED}
        sandbox.running.distributor.fulfil()
        w.run_once()
        assert {store.orders.get(i).state for i in ids} == {OrderState.SHIPPED}
        line = ReceiptLine(1, 2, datetime.now(UTC).date())
        pharmacist.on_token(
            store,
            SigningPurpose.RECEIPT,
            lambda own, session: svc.record_receipt(
                own, ids[0], [line], svc.TokenDocumentSigner(session)
            ),
            login=True,
        )
        third = w.run_once()
        assert len(third.sent) == 1
        assert [e for e in store.audit.entries() if e.event == AuditEvent.RECEIPT_SENT]
        assert client.order(ids[0]).receipts  # the distributor holds it, linked
        assert store.outbox.pending() == []


def test_a_refused_order_is_rejected_with_its_statement_kept(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, ec_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    # A certificate of its own for the token's key: revoking it leaves other tests alone.
    der = issue_for_token(test_ca, ec_token).public_bytes(Encoding.DER)
    identity = SigningIdentity(
        ec_token.key.key_id, der, read_csos_profile(asn1_x509.Certificate.load(der)), "csos-ec"
    )
    with open_store(tmp_path / "csos.db") as store, sandbox.client() as client:
        [oid] = signed_orders(store, Pharmacist(ec_token, identity, tuple(chain_of(test_ca))), 1)
        serial = identity.info.serial_number
        test_ca.revoke(
            serial, reason="keyCompromise", when=datetime.now(UTC) - timedelta(seconds=5)
        )
        worker(store, client, tmp_path, ca_crls(test_ca, tmp_path / "crl")).run_once()
        assert store.orders.get(oid).state is OrderState.REJECTED
        [statement] = store.statements.for_order(oid)
        assert "certificate-revoked" in statement.reason


def test_distributor_down_keeps_everything_queued(
    start_sandbox: StartSandbox, tmp_path: Path, pharmacist: Pharmacist
) -> None:
    sandbox = start_sandbox()
    with open_store(tmp_path / "csos.db") as store:
        ids = signed_orders(store, pharmacist, 2)
        dead = DistributorClient(
            "https://127.0.0.1:9",
            "t",
            ca_bundle=sandbox.running.tls.ca_bundle,
            retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        )
        with dead:
            report = worker(store, dead, tmp_path).run_once()
        assert report.stopped and report.sent == []
        assert len(store.outbox.pending()) == 2
        assert {store.orders.get(i).state for i in ids} == {OrderState.SIGNED}
        with sandbox.client() as client:
            assert len(worker(store, client, tmp_path).run_once().sent) == 2


def test_an_order_the_server_took_before_a_crash_is_not_sent_twice(
    start_sandbox: StartSandbox, tmp_path: Path, pharmacist: Pharmacist
) -> None:
    sandbox = start_sandbox()
    with open_store(tmp_path / "csos.db") as store, sandbox.client() as client:
        [oid] = signed_orders(store, pharmacist, 1)
        blob = store.signed.get(oid)
        client.submit_order(oid, blob.document, blob.signature)  # then the client "died"
        worker(store, client, tmp_path).run_once()
        assert store.orders.get(oid).state is OrderState.ACCEPTED
    assert server_orders(sandbox) == 1


@pytest.mark.parametrize("kills", [20])
def test_sigkill_during_a_200_order_sync_loses_and_duplicates_nothing(
    start_sandbox: StartSandbox, tmp_path: Path, pharmacist: Pharmacist, kills: int
) -> None:
    sandbox = start_sandbox()
    home = tmp_path / "home"
    env = dict(os.environ, CSOS_HOME=str(home))
    with open_store(home / "data" / "csos.db") as store:
        ids = signed_orders(store, pharmacist, 200)
    csos = [sys.executable, "-m", "csos_desktop"]
    login = subprocess.run(
        [*csos, "sync", "login", "--url", sandbox.url, "--token-stdin"],
        env=env,
        input=sandbox.token + "\n",
        check=False,
        capture_output=True,
        text=True,
    )
    assert login.returncode == 0, login.stderr
    run = [
        *csos,
        "sync",
        "--once",
        "--url",
        sandbox.url,
        "--ca-bundle",
        str(sandbox.running.tls.ca_bundle),
    ]
    rng = random.Random(7)
    for _ in range(kills):
        child = subprocess.Popen(run, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.6, 1.6))  # start-up takes ~0.6 s; kill mid-pass
        child.send_signal(signal.SIGKILL)
        child.wait()
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert server_orders(sandbox) == 200
    with open_store(home / "data" / "csos.db") as store, sandbox.client() as client:
        assert store.outbox.pending() == []
        assert store.integrity_errors() == [] and store.audit.verify().intact
        for oid in ids:
            assert store.orders.get(oid).state.value == client.order(oid).status


def test_a_message_that_stays_queued_does_not_keep_the_pass_going(
    start_sandbox: StartSandbox, tmp_path: Path, pharmacist: Pharmacist
) -> None:
    from csos_desktop.store.outbox import OutboxKind

    sandbox = start_sandbox()
    with open_store(tmp_path / "csos.db") as store, sandbox.client() as client:
        [oid] = signed_orders(store, pharmacist, 1)
        with store.transaction():
            store.outbox.add(OutboxKind.CANCEL_ORDER, oid, datetime.now(UTC))
        report = worker(store, client, tmp_path).run_once()  # returns: no endless loop
        assert report.sent == [oid]
        [left] = store.outbox.pending()
        assert left.kind is OutboxKind.CANCEL_ORDER and left.last_error


def test_a_refused_credential_keeps_everything_queued(
    start_sandbox: StartSandbox, tmp_path: Path, pharmacist: Pharmacist
) -> None:
    sandbox = start_sandbox()
    with open_store(tmp_path / "csos.db") as store, sandbox.client(token="wrong") as client:
        ids = signed_orders(store, pharmacist, 2)
        report = worker(store, client, tmp_path).run_once()
        assert report.stopped and "csos sync login" in report.stopped
        assert report.refused == [] and len(store.outbox.pending()) == 2
        assert {store.orders.get(i).state for i in ids} == {OrderState.SIGNED}
