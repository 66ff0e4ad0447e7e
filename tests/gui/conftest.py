"""Qt tests run offscreen (set before any Qt import); a token thread and stores with orders."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.config import set_value
from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.jobs.signing import TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, lifecycle
from csos_desktop.trust.anchors import add_anchor
from tests.conftest import Provisioned, machine_policy_at
from tests.ntp import ntp_policy_line
from tests.registrant import record_registrant_at
from tests.unit.domain.samples import sample_order_input

T = TypeVar("T")


@pytest.fixture()
def token_worker(rsa_token: Provisioned) -> Iterator[TokenWorker]:
    """The token thread as the app runs it, on the session's RSA token."""
    worker = TokenWorker(rsa_token.hsm.module, label=rsa_token.label)
    thread = TokenThread(worker)
    thread.start()
    yield worker
    thread.stop()


@pytest.fixture()
def target(rsa_token: Provisioned) -> TokenTarget:
    return TokenTarget(module=rsa_token.hsm.module, label=rsa_token.label)


def add_drafts(store: Store, n: int) -> list[str]:
    """*n* drafts of the sample order, numbered by the store."""
    data = []
    for _ in range(n):
        item = sample_order_input()
        del item["order_number"]
        data.append(item)
    return [r.order_id for r in svc.import_orders(store, data, source="test")]


@pytest.fixture()
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new CSOS_HOME and a machine policy naming only the tests' time reference: a first
    start (the clock is never measured against NIST's server from a test)."""
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    policy = machine_policy_at(monkeypatch, tmp_path / "policy.toml")
    policy.write_text("[settings]\n" + ntp_policy_line(), encoding="utf-8")
    return tmp_path / "home"


def set_up_machine(ca: TestCa) -> None:
    """The two getting-started steps this machine's files decide: a distributor, an anchor."""
    set_value("distributor_url", "https://csos.distributor.example")
    add_anchor(
        ca.root_certificate.public_bytes(Encoding.PEM), "test CA root", now=datetime.now(UTC)
    )


@pytest.fixture()
def store_path(tmp_path: Path, rsa_token: Provisioned) -> Path:
    """A store whose registrant (1305.05) is the RSA token's holder, as a pharmacy records
    before its first schedule II order; the sample orders carry schedule II."""
    path = tmp_path / "csos.db"
    record_registrant_at(path, rsa_token)
    return path


def ship(store: Store, order_id: str, state: OrderState = OrderState.SHIPPED) -> None:
    """Signed → submitted → shipped (or *state*), as the sync worker would record it."""
    now = datetime.now(UTC)
    msg = next(m for m in store.outbox.pending() if m.record_id == order_id)
    lifecycle.mark_submitted(store, order_id, msg.outbox_id, now=now)
    lifecycle.record_status(store, order_id, state, now=now)


def on_token_thread(qtbot: object, worker: TokenWorker, fn: Callable[[], T]) -> T:
    """Run *fn* on the token thread and wait: tests keep to one PKCS#11 thread like the app."""
    from PySide6.QtCore import QObject

    owner = QObject()
    got: list[object] = []
    worker.submit(owner, lambda _progress: fn(), got.append, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=20_000)  # type: ignore[attr-defined]
    if isinstance(got[0], Exception):
        raise got[0]
    return got[0]  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread_only() -> Iterator[None]:
    """As the app does (gui/gc_guard.py): no collection may start on the token thread,
    where it can delete the test's widgets and crash PySide6."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()
