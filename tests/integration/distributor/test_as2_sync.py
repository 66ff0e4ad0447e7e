"""`csos sync` over AS2 from the configuration, `csos as2 serve` taking the distributor's
997, 855 and 856, and the outbox's exactly-once under SIGKILL over AS2: child `csos`
processes against the reference distributor on 127.0.0.1."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.distributor import db as ddb
from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint, As2Partner
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.x12_intake import prefill_from_856
from csos_desktop.services.signing import SigningPurpose
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import PURCHASER_DEA, trust_sandbox_root
from tests.integration.as2_files import as2_config
from tests.integration.distributor.conftest import Sandbox, StartSandbox, seed_crl_cache
from tests.integration.distributor.test_sync_worker import Pharmacist, server_orders
from tests.integration.store.tokens import TestPin
from tests.integration.test_as2 import DISTRIBUTOR, PHARMACY
from tests.launch import csos_command
from tests.registrant import record_registrant
from tests.unit.store.helpers import order_input


def signed_as_x12(store: Store, pharmacist: Pharmacist, n: int) -> list[str]:
    """N drafts signed as JSON and as 850 in one login (what an AS2 connection signs)."""
    ids = [r.order_id for r in svc.import_orders(store, [order_input()] * n, source="test")]
    if store.poa.registrant(PURCHASER_DEA) is None:
        record_registrant(store, pharmacist.prov)  # the orders carry schedule II (1305.05)
    result = pharmacist.on_token(
        store,
        SigningPurpose.ORDER,
        lambda own, session: svc.sign_orders_on_token(own, ids, session, TestPin(), x12=True),
    )
    assert len(result.signed) == n
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def pharmacist(ec_token: object) -> Pharmacist:
    return Pharmacist(ec_token)  # type: ignore[arg-type]


def as2_home(
    sandbox: Sandbox, home: Path, monkeypatch: pytest.MonkeyPatch, pharmacy_url: str | None
) -> dict[str, str]:
    """The distributor's AS2 endpoint (answering to *pharmacy_url* if given) and a pharmacy
    home whose configuration sends over AS2; env for its `csos` children."""
    partner = As2Partner(sandbox.customer, PHARMACY.certificate, "PHARMACY", pharmacy_url)
    sandbox.running.distributor.as2 = As2Endpoint(DISTRIBUTOR, "DISTRIBUTOR", {"PHARMACY": partner})
    trust_sandbox_root(sandbox.ca, home)  # the 855's signer chains to it
    seed_crl_cache(sandbox.ca, home / "data" / "crl")  # and its revocation is known
    with monkeypatch.context() as m:
        m.setenv("CSOS_HOME", str(home))
        from csos_desktop.config import set_value

        as2_config(home / "as2", f"{sandbox.url}/as2", PHARMACY, DISTRIBUTOR)
        set_value("distributor_url", sandbox.url)
        set_value("ca_bundle", str(sandbox.running.tls.ca_bundle))
    env = dict(os.environ, CSOS_HOME=str(home))
    login = subprocess.run(
        [*csos_command(), "sync", "login", "--token-stdin"],
        env=env, input=sandbox.token + "\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    return env


@contextmanager
def as2_serving(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [*csos_command(), "as2", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first, first + child.stderr.read()  # type: ignore[union-attr]
        yield child
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=20)


def wait_for(check: Callable[[], bool], seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "not received in time"
        time.sleep(0.2)


def kept(store_path: Path, oid: str, kind: str) -> list[object]:
    with open_store(store_path) as store:
        return [
            k for k in store.x12.for_order(oid)
            if k.transaction_set == kind and k.direction == "received" and not k.problem
        ]  # fmt: skip


def arrived(store_path: Path, oid: str, kind: str) -> bool:
    return bool(kept(store_path, oid, kind))


def test_csos_sync_sends_over_as2_and_csos_as2_serve_takes_the_answers(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    pharmacist: Pharmacist,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox()
    home, port = tmp_path / "home", free_port()
    db = home / "data" / "csos.db"
    env = as2_home(sandbox, home, monkeypatch, f"http://127.0.0.1:{port}/as2")
    with open_store(db) as store:
        ids = signed_as_x12(store, pharmacist, 2)
    with as2_serving(env, port):
        done = subprocess.run(
            [*csos_command(), "sync", "--once", "--json"],
            env=env, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        for oid in ids:  # the 855 comes over AS2 right after the MDN
            wait_for(partial(arrived, db, oid, "855"))
        sandbox.running.distributor.fulfil()  # ships, and the 856s go over AS2
        for oid in ids:
            wait_for(partial(arrived, db, oid, "856"))
    # The distributor's statements name the 850 it holds, and so must the receipt.
    again = subprocess.run(
        [*csos_command(), "sync", "--once"], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout + again.stderr
    with open_store(db) as store:
        lines = prefill_from_856(store, ids[0])  # what `csos receive --from-856` fills in
        assert lines and prefill_from_856(store, ids[1])
        for oid in ids:
            [statement] = store.statements.for_order(oid)
            assert statement.rejection is None and statement.verification.value == "verified"
    pharmacist.on_token(
        store,
        SigningPurpose.RECEIPT,
        lambda own, session: svc.record_receipt(
            own, ids[0], lines, svc.TokenDocumentSigner(session)
        ),
        login=True,
    )
    sent = subprocess.run(
        [*csos_command(), "sync", "--once"], env=env, capture_output=True, text=True, timeout=120
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    with sandbox.client() as client:
        assert client.order(ids[0]).receipts  # accepted: it names the 850's signature
    with open_store(db) as store:
        states = [store.orders.get(oid).state for oid in ids]
        assert states == [OrderState.RECEIVED, OrderState.SHIPPED]
        for oid in ids:
            signed_850 = store.x12.signed_850(oid)
            assert signed_850 is not None
            with sandbox.running.distributor.engine.connect() as conn:
                stored = conn.execute(
                    sa.select(ddb.orders.c.document).where(ddb.orders.c.order_id == oid)
                ).scalar_one()
            assert stored == signed_850.document  # the 850 as signed, over AS2
            mdns = [k for k in store.x12.for_order(oid) if k.transaction_set == "AS2-MDN"]
            assert mdns and b"processed" in mdns[0].document
            assert len(kept(db, oid, "855")) == 1  # AS2 and the REST feed: kept once
        received = [
            e.details.get("transaction_set")
            for e in store.audit.entries()
            if e.event == AuditEvent.X12_RECEIVED
        ]
        assert received.count("997") == 2  # one per 850 the distributor took in
        assert store.audit.verify().intact
    assert server_orders(sandbox) == 2


@pytest.mark.parametrize("kills", [8])
def test_sigkill_during_an_as2_sync_loses_and_duplicates_nothing(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    pharmacist: Pharmacist,
    monkeypatch: pytest.MonkeyPatch,
    kills: int,
) -> None:
    sandbox = start_sandbox()
    home = tmp_path / "home"
    db = home / "data" / "csos.db"
    env = as2_home(sandbox, home, monkeypatch, None)
    with open_store(db) as store:
        ids = signed_as_x12(store, pharmacist, 60)
    run = [*csos_command(), "sync", "--once"]
    rng = random.Random(11)
    for _ in range(kills):
        child = subprocess.Popen(run, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 2.0))  # start-up takes ~0.8 s; kill mid-send
        child.send_signal(signal.SIGKILL)
        child.wait()
    with open_store(db) as store:  # the killed passes were sending, not only starting
        assert len(store.outbox.pending()) < 60
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert server_orders(sandbox) == 60  # each order once, whatever was cut
    with open_store(db) as store, sandbox.client() as client:
        assert store.outbox.pending() == []
        assert store.integrity_errors() == [] and store.audit.verify().intact
        for oid in ids:
            assert store.orders.get(oid).state.value == client.order(oid).status
            mdns = [k for k in store.x12.for_order(oid) if k.transaction_set == "AS2-MDN"]
            assert mdns, oid  # delivered means a verified MDN kept with the order
