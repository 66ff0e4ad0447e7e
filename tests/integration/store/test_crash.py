"""Killing the process mid-batch loses nothing already committed and leaves nothing half-done."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from csos_desktop.domain.order_state import OrderState
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, Provisioned
from tests.unit.store.helpers import order_input

ROOT = Path(__file__).resolve().parents[3]
DRAFTS = 40
KILL_AFTER = 6


def test_sigkill_mid_batch_leaves_each_order_fully_signed_or_still_a_draft(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    db = tmp_path / "csos.db"
    with open_store(db) as store:
        svc.import_orders(store, [order_input() for _ in range(DRAFTS)], source="test")

    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.store.crash_child",
            str(db),
            rsa_token.hsm.module,
            rsa_token.label,
        ],
        cwd=ROOT,
        env=dict(os.environ, SOFTHSM2_CONF=str(rsa_token.hsm.conf)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(TEST_PIN + "\n")
    child.stdin.close()
    announced = 0
    for line in child.stdout:
        if line.startswith("signed"):
            announced += 1
            if announced == KILL_AFTER:
                os.kill(child.pid, signal.SIGKILL)
                break
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""

    with open_store(db) as store:
        assert store.integrity_errors() == []
        assert store.audit.verify().intact
        signed_entries = {e.order_id: e for e in store.audit.entries() if e.event == "order.signed"}
        queued = {m.record_id for m in store.outbox.pending()}
        states = {r.order_id: r.state for r in store.orders.list()}
        assert set(states.values()) <= {OrderState.SIGNED, OrderState.DRAFT}
        signed = [oid for oid, st in states.items() if st is OrderState.SIGNED]
        # Each announced signature before the last was committed before the next began.
        assert KILL_AFTER - 1 <= len(signed) <= KILL_AFTER
        for oid, state in states.items():
            blob = store.signed.find(oid)
            if state is OrderState.SIGNED:
                assert blob is not None and blob.intact()
                assert oid in queued
                assert (
                    signed_entries[oid].details["signature_sha256"]
                    == hashlib.sha256(blob.signature).hexdigest()
                )
            else:
                assert blob is None and oid not in queued and oid not in signed_entries
