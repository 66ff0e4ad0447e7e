"""No network under the write lock, and no signature on stale facts.

The certificate names a CRL distribution point on 127.0.0.1 whose server is slow. While
the batch fetches it, another connection of the store takes the write lock with a short
timeout: it must get it, since facts (chain ruling, revocation, clock) are gathered
before any transaction. The batch starts while another writer holds the lock (gathering
facts needs none), and when its facts grow older than they are kept, it gathers them
again before the next signature (a second CRL request), not under the lock either.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order import Order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import token_by_label
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.order_signer import SignedOrder
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import open_store
from csos_desktop.token.certs import TokenCertificate
from csos_desktop.token.identity import signing_identities
from csos_desktop.token.session import TokenSession
from tests.conftest import Provisioned, trust_sandbox_root
from tests.integration.signing import chain_of, issue_for_token
from tests.integration.store.tokens import TestPin
from tests.registrant import record_identity
from tests.unit.domain.samples import sample_order_input

SLOW_SECONDS = 1.0
OTHER_WRITER_TIMEOUT = 0.5


class SlowCrl:
    """A CRL distribution point that answers after SLOW_SECONDS; during each request it
    checks that another writer can take the store's write lock."""

    def __init__(self, ca: TestCa, db: Path, released: threading.Event) -> None:
        self.requests: list[float] = []
        self.lock_taken: list[bool] = []
        self.first = threading.Event()
        crl_server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                crl_server.requests.append(time.monotonic())
                crl_server.first.set()
                released.wait(10)  # the test's own writer lets go once facts are being had
                crl_server.lock_taken.append(_other_writer_can_write(db))
                time.sleep(SLOW_SECONDS)
                # Current for a minute only: a batch a few minutes on must fetch it again.
                crl = ca.crl(now=datetime.now(UTC) - timedelta(days=7, seconds=-60))
                body = crl.public_bytes(Encoding.DER)
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/issuing.crl"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _other_writer_can_write(db: Path) -> bool:
    conn = sqlite3.connect(db, timeout=OTHER_WRITER_TIMEOUT, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("COMMIT")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


class Advancing:
    """The batch's signer; after each signature the clock moves two minutes on."""

    def __init__(self, inner: svc.OrderSigner, advance: Callable[[], None]) -> None:
        self.identity = inner.identity
        self._inner = inner
        self._advance = advance

    def sign(self, order: Order) -> SignedOrder:
        signed = self._inner.sign(order)
        self._advance()
        return signed


@pytest.fixture()
def own_home(tmp_path: Path, test_ca: TestCa, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A CSOS_HOME with an empty CRL cache and the sandbox root trusted."""
    home = tmp_path / "home"
    home.mkdir()
    trust_sandbox_root(test_ca, home)
    monkeypatch.setenv("CSOS_HOME", str(home))
    yield home


def test_facts_are_gathered_outside_the_write_lock_and_again_when_stale(
    rsa_token: Provisioned, test_ca: TestCa, own_home: Path, tmp_path: Path
) -> None:
    db = tmp_path / "csos.db"
    year = f"{datetime.now(UTC):%y}"
    with open_store(db) as store:
        ids = []
        for n in (1, 2):
            data = sample_order_input()
            data["order_number"] = f"{year}X{400 + n:06d}"
            ids.append(svc.import_orders(store, data, source="test")[0].order_id)

    released = threading.Event()
    crl = SlowCrl(test_ca, db, released)
    saved_url = test_ca.crl_url
    test_ca.crl_url = crl.url
    try:
        certificate = issue_for_token(test_ca, rsa_token).public_bytes(Encoding.DER)
    finally:
        test_ca.crl_url = saved_url
    [identity] = signing_identities(
        [TokenCertificate(rsa_token.key.key_id, "slow-crl", certificate)]
    )
    with open_store(db) as store:
        record_identity(store, identity)  # the orders carry schedule II (1305.05)
    offset = [timedelta(0)]
    start = datetime.now(UTC)

    def clock() -> datetime:
        return start + offset[0] + (datetime.now(UTC) - start)

    def advance() -> None:
        offset[0] += timedelta(minutes=2)

    outcome: list[svc.BatchResult] = []
    failure: list[BaseException] = []

    def batch() -> None:
        try:
            ts = TokenSession(token_by_label(rsa_token.hsm.module, rsa_token.label))
            ts.open_public()
            with ts, open_store(db) as store:
                session = SigningSession(
                    ts, identity, chain_of(test_ca), SigningPurpose.ORDER, clock=clock
                )
                outcome.append(
                    svc.sign_orders_on_token(
                        store, ids, session, TestPin(), wrap=lambda s: Advancing(s, advance)
                    )
                )
        except BaseException as exc:  # reported by the test thread
            failure.append(exc)

    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock as the batch starts
    worker = threading.Thread(target=batch)
    worker.start()
    try:
        # The check stage reaches the CRL server with the lock held elsewhere: it needs none.
        assert crl.first.wait(30), "the batch never asked for the CRL"
    finally:
        holder.execute("COMMIT")
        holder.close()
        released.set()
    worker.join(60)
    crl.server.shutdown()

    assert not failure, failure
    [result] = outcome
    assert [r.order_id for r in result.signed] == ids
    # Before the PIN, again two minutes on for the second order (its facts were stale),
    # and again for the audit checkpoint that ends the session: never a stale ruling.
    assert len(crl.requests) == 3
    # During each slow fetch another writer took the write lock within its timeout.
    assert crl.lock_taken == [True, True, True]
