"""The same distributor on PostgreSQL 15 (Debian's server, started on a loopback port)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.order import Order
from csos_desktop.domain.receipt import ReceiptLine, build_receipt
from csos_desktop.sandbox.distributor.db import orders
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import (
    StartSandbox,
    postgres_unavailable,
    sign_document,
    signed,
)


def test_order_lifecycle_on_postgresql(
    start_sandbox: StartSandbox, rsa_token: Provisioned, fresh_postgres: str
) -> None:
    sandbox = start_sandbox(database_url=fresh_postgres, mode=FulfilmentMode.PARTIAL)
    assert sandbox.running.distributor.engine.dialect.name == "postgresql"
    document, signature, key = signed(rsa_token, sandbox.ca)
    distributor = sandbox.running.distributor
    with sandbox.client() as client:
        assert client.submit_order(key, document, signature).status == "accepted"
        assert client.submit_order(key, document, signature).replayed
        distributor.fulfil()
        record = client.order(key)
        assert record.status == "shipped-partial"
        order = Order.from_document(load_document(document))
        receipt = build_receipt(
            order,
            hashlib.sha256(signature).hexdigest(),
            [ReceiptLine(1, 1, datetime.now(UTC).date())],
            earlier=[],
            now=datetime.now(UTC),
            receipt_id=str(uuid.uuid4()),
        ).canonical_bytes()
        rid = str(load_document(receipt)["receipt_id"])
        client.submit_receipt(rid, receipt, sign_document(rsa_token, sandbox.ca, receipt))
        events = [c.event for c in client.iter_changes()]
    assert events == ["received", "shipped", "receipt-accepted"]
    with distributor.engine.connect() as conn:
        stored = conn.execute(
            select(orders.c.document, orders.c.signature).where(orders.c.order_id == key)
        ).one()
    assert (stored.document, stored.signature) == (document, signature)


def test_under_ci_a_missing_server_fails_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and PostgreSQL cannot start"):
        postgres_unavailable("no server binaries")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        postgres_unavailable("no server binaries")


def test_the_postgres_fixture_fails_the_run_under_ci(tmp_path: Path) -> None:
    """End to end: pytest itself, pointed at binaries that are not there."""
    env = {**os.environ, "CI": "true", "CSOS_PG_BIN": str(tmp_path / "missing")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_order_lifecycle_on_postgresql",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode != 0, done.stdout
    assert "CI=true and PostgreSQL cannot start" in done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1]
