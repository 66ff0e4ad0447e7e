"""1305.27 / 1311.60: two years kept; after that only records a verified archive holds can go."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services import orders as svc
from csos_desktop.services.archive import PurgeRefused, export_archive, purge_archived
from csos_desktop.store import Store
from tests.unit.store.helpers import Clock, SoftwareOrderSigner, order_input


def roots(ca: TestCa) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]


def signed(store: Store, signer: SoftwareOrderSigner, n: int) -> list[str]:
    ids = [r.order_id for r in svc.import_orders(store, [order_input()] * n, source="t")]
    assert len(svc.sign_orders(store, ids, signer).signed) == n
    return ids


def test_records_younger_than_two_years_cannot_be_purged(
    store: Store, signer: SoftwareOrderSigner, clock: Clock, tmp_path: Path, test_ca: TestCa
) -> None:
    signed(store, signer, 1)
    bundle = export_archive(store, clock.now.date(), clock.now.date(), tmp_path / "a.zip").path
    clock.advance(days=365)
    with pytest.raises(PurgeRefused, match="younger than 2 years"):
        purge_archived(store, clock.now.date(), bundle, trust_roots=roots(test_ca), clock=clock)


def test_old_archived_orders_are_purged_and_the_chain_stays_whole(
    store: Store, signer: SoftwareOrderSigner, clock: Clock, tmp_path: Path, test_ca: TestCa
) -> None:
    old = signed(store, signer, 2)
    day = clock.now.date()
    bundle = export_archive(store, day, day, tmp_path / "a.zip").path
    clock.advance(days=3 * 365)
    cutoff = day + timedelta(days=1)
    assert (
        purge_archived(store, cutoff, bundle, trust_roots=roots(test_ca), clock=clock, dry_run=True)
        == 2
    )
    assert len(store.orders.list()) == 2  # a dry run deletes nothing
    assert purge_archived(store, cutoff, bundle, trust_roots=roots(test_ca), clock=clock) == 2
    assert store.orders.list() == []
    assert all(store.signed.find(i) is None for i in old)
    assert store.audit.verify().intact
    [entry] = [e for e in store.audit.entries() if e.event == "archive.purged"]
    assert entry.details["orders"] == 2 and entry.details["manifest_sha256"]


def test_orders_missing_from_the_archive_block_the_purge(
    store: Store, signer: SoftwareOrderSigner, clock: Clock, tmp_path: Path, test_ca: TestCa
) -> None:
    signed(store, signer, 1)
    day = clock.now.date()
    bundle = export_archive(store, day, day, tmp_path / "a.zip").path
    signed(store, signer, 1)  # signed after the export: not in the bundle
    clock.advance(days=3 * 365)
    with pytest.raises(PurgeRefused, match=r"not in a\.zip"):
        purge_archived(
            store, day + timedelta(days=1), bundle, trust_roots=roots(test_ca), clock=clock
        )
    assert len(store.orders.list()) == 2


def test_nothing_else_may_delete_an_order(store: Store, signer: SoftwareOrderSigner) -> None:
    [oid] = signed(store, signer, 1)
    with pytest.raises(sqlite3.DatabaseError, match="kept"):
        store.conn.execute("DELETE FROM orders WHERE order_id = ?", (oid,))
