"""Signed audit checkpoints: a rewritten and re-hashed chain is caught.

The attack: drop the append-only triggers, change an entry, re-hash every later link
and the head. The chain alone then verifies; the checkpoint signed on the real token
during the signing session does not.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.audit.checkpoint import checkpoint_after_session, verify_checkpoints
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, lifecycle, open_store
from csos_desktop.store.audit import GENESIS, AuditEvent
from csos_desktop.store.checkpoints import checkpoint_document
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import choose_identity, signing_identities
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity
from tests.registrant import record_registrant
from tests.unit.store.archive_forgery import forged_signature, roots
from tests.unit.store.helpers import order_input


def sign_two_orders(prov: Provisioned, ca: TestCa, db: Path) -> None:
    ts, identity = open_identity(prov)
    with ts, open_store(db) as store:
        record_registrant(store, prov)  # the orders carry schedule II (1305.05)
        ids = [svc.import_orders(store, order_input(), source="t")[0].order_id for _ in range(2)]
        session = SigningSession(ts, identity, chain_of(ca), SigningPurpose.ORDER)
        result = svc.sign_orders_on_token(store, ids, session, TestPin())
        assert len(result.signed) == 2


def rewrite_and_rehash(store: Store, entry_id: int, details: str) -> None:
    """What an attacker with write access does: edit, then re-hash the chain and head."""
    conn = store.conn
    conn.execute("DROP TRIGGER IF EXISTS audit_log_append_only")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    conn.execute("UPDATE audit_log SET details = ? WHERE entry_id = ?", (details, entry_id))
    prev = GENESIS
    for entry in list(store.audit.entries()):
        if entry.prev_sha256 != prev:
            conn.execute(
                "UPDATE audit_log SET prev_sha256 = ? WHERE entry_id = ?", (prev, entry.entry_id)
            )
        prev = next(store.audit.entries(after=entry.entry_id - 1, limit=1)).sha256
    conn.execute("UPDATE audit_head SET entry_sha256 = ?", (prev,))


@pytest.fixture()
def db(ec_token: Provisioned, test_ca: TestCa, tmp_path: Path) -> Path:
    path = tmp_path / "data" / "csos.db"
    sign_two_orders(ec_token, test_ca, path)
    return path


def test_a_signing_session_ends_with_a_signed_checkpoint(db: Path, test_ca: TestCa) -> None:
    with open_store(db) as store:
        [cp] = list(store.checkpoints.all())
        entries = list(store.audit.entries())
        signed = [e for e in entries if e.event == AuditEvent.ORDER_SIGNED]
        assert cp.entry_id == signed[-1].entry_id  # the head after the last order
        assert cp.signer_subject == "Main Street Pharmacy"
        assert entries[-1].event == AuditEvent.AUDIT_CHECKPOINT  # and it is itself logged
        report = verify_checkpoints(store, roots(test_ca).roots)
    assert report.problems == [] and report.checkpoints == 1 and report.signers_verified


def test_a_rewritten_and_rehashed_chain_is_caught(db: Path, test_ca: TestCa) -> None:
    with open_store(db) as store:
        signed = [e for e in store.audit.entries() if e.event == AuditEvent.ORDER_SIGNED]
        rewrite_and_rehash(store, signed[0].entry_id, '{"order_number":"26X999999"}')
        assert store.audit.verify().intact  # the unkeyed chain alone is fooled
        problems = verify_checkpoints(store, roots(test_ca).roots).problems
    assert len(problems) == 1 and "entries were rewritten and re-hashed" in problems[0]


def test_a_checkpoint_forged_with_another_key_is_not_trusted(db: Path, test_ca: TestCa) -> None:
    """The attacker also replaces the checkpoint, signing the new head with their own key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name.from_rfc4514_string("CN=Main Street Pharmacy")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    with open_store(db) as store:
        signed = [e for e in store.audit.entries() if e.event == AuditEvent.ORDER_SIGNED]
        rewrite_and_rehash(store, signed[0].entry_id, '{"order_number":"26X999999"}')
        [cp] = list(store.checkpoints.all())
        new_hash = next(store.audit.entries(after=cp.entry_id - 1, limit=1)).sha256
        document = checkpoint_document(cp.entry_id, new_hash, cp.signed_at)
        store.conn.execute("DROP TRIGGER audit_checkpoints_append_only")
        store.conn.execute(
            "UPDATE audit_checkpoints SET entry_sha256 = ?, document = ?, signature = ?",
            (
                new_hash,
                document,
                forged_signature(
                    document, key, cert.public_bytes(Encoding.DER), signing_time=datetime.now(UTC)
                ),
            ),
        )
        assert verify_checkpoints(store).problems == []  # without anchors it hangs together
        problems = verify_checkpoints(store, roots(test_ca).roots).problems
    assert len(problems) == 1 and "its signer is not trusted" in problems[0]


def test_cli_audit_verify_reports_the_rewrite(db: Path, test_ca: TestCa, tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    env = {**os.environ, "CSOS_HOME": str(tmp_path)}
    args = [sys.executable, "-m", "csos_desktop", "audit", "verify", "--trust", str(root)]
    ok = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 signed checkpoint(s) hold" in ok.stdout
    with open_store(db) as store:
        rewrite_and_rehash(store, 3, '{"n":1}')
    bad = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "CHECKPOINT: checkpoint 1" in bad.stdout and "re-hashed" in bad.stdout


def test_the_checkpoint_table_is_append_only(db: Path) -> None:
    with open_store(db) as store:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("UPDATE audit_checkpoints SET entry_id = 1")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("DELETE FROM audit_checkpoints")


def test_a_checkpoint_that_cannot_be_signed_is_logged_and_changes_nothing(
    db: Path, ec_token: Provisioned, test_ca: TestCa, caplog: pytest.LogCaptureFixture
) -> None:
    """Here the certificate has expired by then; a pulled token takes the same path."""
    later = datetime.now(UTC) + timedelta(days=5 * 365)
    with open_store(db) as store, ec_token.session() as ts:
        identity = choose_identity(signing_identities(read_certificates(ts)))
        before = list(store.audit.entries())
        session = SigningSession(
            ts, identity, chain_of(test_ca), SigningPurpose.ORDER, clock=lambda: later
        )
        assert checkpoint_after_session(store, session) is None
        assert list(store.audit.entries()) == before
        assert len(list(store.checkpoints.all())) == 1
    assert "the audit checkpoint was not signed" in caplog.text


def test_a_receipt_signing_session_also_ends_with_a_checkpoint(
    db: Path, ec_token: Provisioned, test_ca: TestCa
) -> None:
    with open_store(db) as store:
        oid = store.orders.list()[0].order_id
        msg = next(m for m in store.outbox.pending() if m.record_id == oid)
        lifecycle.mark_submitted(store, oid, msg.outbox_id, now=datetime.now(UTC))
        lifecycle.record_status(store, oid, OrderState.SHIPPED, now=datetime.now(UTC))
        ts, identity = open_identity(ec_token)
        with ts:
            session = SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.RECEIPT)
            line = ReceiptLine(1, 1, datetime.now(UTC).date())
            svc.sign_receipt(store, oid, [line], session, TestPin())
        checkpoints = list(store.checkpoints.all())
        received = [e for e in store.audit.entries() if e.event == AuditEvent.RECEIPT_RECORDED]
        assert len(checkpoints) == 2 and checkpoints[-1].entry_id == received[-1].entry_id
        assert verify_checkpoints(store, roots(test_ca).roots).problems == []
