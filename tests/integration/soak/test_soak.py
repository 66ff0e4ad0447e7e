"""One store, many processes, for a while: nothing lost, nothing sent twice, no error shown.

The GUI (offscreen, its sync every second), a `csos` loop importing drafts and listing orders,
a second one signing every draft on the SoftHSM2 token (and syncing beside the GUI now and
then), the sandbox distributor shipping, and random kill -9 of the `csos` commands. At the
end: every imported draft is in the store, every signed order reached the distributor exactly
once, no user saw a database error, the GUI's write-ahead log was never deleted under it, and
`csos audit verify` and SQLite's integrity check pass.

``CSOS_SOAK_SECONDS`` sets the length (60 in `make test`; `make soak` runs longer).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor import db as ddb
from csos_desktop.sandbox.softhsm import SoftHsmToken
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.distributor.conftest import StartSandbox
from tests.integration.soak.harness import (
    ROOT,
    USER_VISIBLE_FAILURES,
    Soak,
    Submissions,
    failures,
    threads,
)
from tests.registrant import record_registrant_at

SECONDS = float(os.environ.get("CSOS_SOAK_SECONDS", "60"))
GUI_SYNC_MS = 1_000
SHIP_EVERY = 1.5
KILL_EVERY = (1.0, 4.0)
DRAIN_SECONDS = 120


def test_one_store_many_processes_lose_and_duplicate_nothing(
    start_sandbox: StartSandbox, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    submissions = Submissions()
    sandbox = start_sandbox(wrap=submissions.wrap)
    assert isinstance(rsa_token.hsm, SoftHsmToken)
    home = tmp_path / "home"
    trust_sandbox_root(test_ca, home)
    record_registrant_at(home / "data" / "csos.db", rsa_token)  # schedule II drafts (1305.05)
    env = dict(
        os.environ,
        CSOS_HOME=str(home),
        CSOS_PKCS11_MODULE=rsa_token.hsm.module,
        SOFTHSM2_CONF=str(rsa_token.hsm.conf),
        QT_QPA_PLATFORM="offscreen",
    )
    chain = tmp_path / "chain.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    ca_bundle = str(sandbox.running.tls.ca_bundle)
    signing = ["--token", rsa_token.label, "--chain", str(chain), "--pin-stdin"]
    sync = ["--url", sandbox.url, "--ca-bundle", ca_bundle]
    seed = int(os.environ.get("CSOS_SOAK_SEED", "23"))
    soak = Soak(env, tmp_path, seed)
    failures.clear()

    login = soak.run("sync", "login", "--url", sandbox.url, "--token-stdin", stdin=sandbox.token)
    assert login is not None and login.returncode == 0, login
    created = soak.run("order", "list")  # the store exists before anyone races to make it
    assert created is not None and created.returncode == 0, created

    gui = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.soak.gui_child",
            sandbox.url,
            ca_bundle,
            str(GUI_SYNC_MS),
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert gui.stdout is not None and gui.stdin is not None
    gui_lines: list[str] = []
    ready = threading.Event()

    def read_gui() -> None:
        assert gui.stdout is not None
        for line in gui.stdout:
            gui_lines.append(line)
            if line.strip() == "ready":
                ready.set()

    threading.Thread(target=read_gui, daemon=True).start()
    assert ready.wait(120), "".join(gui_lines)
    soak.counts.processes += 1

    db = home / "data" / "csos.db"
    rng = random.Random(seed)
    distributor = sandbox.running.distributor

    def ship() -> None:
        while not soak.pause(SHIP_EVERY):
            distributor.fulfil()

    loops = threads(
        lambda: soak.importer(random.Random(rng.random())),
        lambda: soak.signer(random.Random(rng.random()), signing, sync),
        lambda: soak.killer(random.Random(rng.random()), KILL_EVERY),
        lambda: soak.watch_wal(db, lambda: gui.poll() is None),
        ship,
    )
    time.sleep(SECONDS)
    soak.stop.set()
    for t in loops:
        t.join(timeout=300)
    assert failures == [], failures

    # What was left unsigned is signed now; the GUI's sync sends the rest and ships follow.
    last = soak.run("order", "sign", "--all-drafts", *signing, stdin=TEST_PIN + "\n")
    assert last is not None and last.returncode in (0, 1), last
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        listed = soak.run("order", "list", "--json")
        assert listed is not None and listed.returncode == 0
        if not [r for r in json.loads(listed.stdout) if r["state"] == "signed"]:
            break
        time.sleep(1)
    assert gui.poll() is None, "".join(gui_lines)
    gui.stdin.close()
    assert gui.wait(60) == 0, "".join(gui_lines)

    verify = soak.run("audit", "verify")
    assert verify is not None and verify.returncode == 0, verify

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        states = dict(conn.execute("SELECT order_id, state FROM orders").fetchall())
    finally:
        conn.close()
    signed = {oid for oid, state in states.items() if state not in ("draft", "void")}
    with distributor.engine.connect() as dconn:
        sent = [r[0] for r in dconn.execute(sa.select(ddb.orders.c.order_id))]

    lost = sorted(soak.drafts - set(states))
    duplicated = len(sent) - len(set(sent))
    never_sent = sorted(signed - set(sent))
    unknown = sorted(set(sent) - signed)
    shown = [
        line
        for text in [*soak.outputs, *gui_lines]
        for line in text.splitlines()
        if any(bad in line.lower() for bad in USER_VISIBLE_FAILURES)
    ]
    figures = {
        "seconds": SECONDS,
        "seed": seed,
        "processes": soak.counts.processes,
        "kills": soak.counts.kills,
        "drafts_imported": len(soak.drafts),
        "orders_in_store": len(states),
        "signatures": len(signed),
        "sends": len(sent),
        "submissions": len(submissions.statuses),
        "submissions_new": submissions.statuses.count(201),
        "submissions_replayed": submissions.statuses.count(200),
        "lost": len(lost),
        "duplicated": duplicated,
        "never_sent": len(never_sent),
        "imports_confirmed": soak.counts.imports_confirmed,
        "sign_runs_confirmed": soak.counts.sign_runs_confirmed,
        "cli_sync_passes": soak.counts.syncs,
        "gui_sync_passes": sum(1 for line in gui_lines if line.startswith("sync: ")),
        "wal_checks": soak.counts.wal_checks,
        "wal_missing": soak.counts.wal_missing,
        "errors_shown": len(shown),
        "gui_status_texts": sorted({ln[8:120] for ln in gui_lines if ln.startswith("status: ")})[
            :6
        ],
    }
    print(json.dumps(figures))
    assert lost == [] and duplicated == 0 and never_sent == [] and unknown == []
    # Each signed order was taken as new exactly once; any resend was answered as a replay.
    assert submissions.statuses.count(201) == len(sent)
    assert set(submissions.statuses) <= {200, 201}
    assert shown == [], shown[:10]
    assert soak.counts.wal_missing == 0
    # The run did what it is for: drafts came in, were signed and sent, commands were killed.
    assert soak.drafts and signed and soak.counts.kills > 0
    assert soak.counts.wal_checks > 0
