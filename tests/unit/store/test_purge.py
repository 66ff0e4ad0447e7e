"""1305.27 / 1311.60: two years kept; after that only records a verified archive holds can go."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services import orders as svc
from csos_desktop.services.archive import export_archive
from csos_desktop.services.archive_purge import PurgeRefused, purge_archived
from csos_desktop.services.archive_verify import verify_archive
from csos_desktop.store import Store
from tests.conftest import ALL_SCHEDULES
from tests.unit.store.archive_forgery import forged_signature, read_members, reseal, roots
from tests.unit.store.helpers import (
    OTHER_DEA,
    Clock,
    SoftwareDocumentSigner,
    SoftwareKey,
    SoftwareOrderSigner,
    order_input,
)


def signed(store: Store, signer: SoftwareOrderSigner, n: int) -> list[str]:
    ids = [r.order_id for r in svc.import_orders(store, [order_input()] * n, source="t")]
    assert len(svc.sign_orders(store, ids, signer).signed) == n
    return ids


def test_records_younger_than_two_years_cannot_be_purged(
    store: Store,
    signer: SoftwareOrderSigner,
    receipt_signer: SoftwareDocumentSigner,
    clock: Clock,
    tmp_path: Path,
    test_ca: TestCa,
) -> None:
    signed(store, signer, 1)
    day = clock.now.date()
    bundle = export_archive(store, day, day, tmp_path / "a.zip", signer=receipt_signer).path
    clock.advance(days=365)
    with pytest.raises(PurgeRefused, match="younger than 2 years"):
        purge_archived(store, clock.now.date(), bundle, trust=roots(test_ca), clock=clock)


def test_old_archived_orders_are_purged_and_the_chain_stays_whole(
    store: Store,
    signer: SoftwareOrderSigner,
    receipt_signer: SoftwareDocumentSigner,
    clock: Clock,
    tmp_path: Path,
    test_ca: TestCa,
) -> None:
    old = signed(store, signer, 2)
    day = clock.now.date()
    bundle = export_archive(store, day, day, tmp_path / "a.zip", signer=receipt_signer).path
    clock.advance(days=3 * 365)
    cutoff = day + timedelta(days=1)
    assert (
        purge_archived(store, cutoff, bundle, trust=roots(test_ca), clock=clock, dry_run=True) == 2
    )
    assert len(store.orders.list()) == 2  # a dry run deletes nothing
    assert purge_archived(store, cutoff, bundle, trust=roots(test_ca), clock=clock) == 2
    assert store.orders.list() == []
    assert all(store.signed.find(i) is None for i in old)
    assert store.audit.verify().intact
    [entry] = [e for e in store.audit.entries() if e.event == "archive.purged"]
    assert entry.details["orders"] == 2 and entry.details["manifest_sha256"]


def test_orders_missing_from_the_archive_block_the_purge(
    store: Store,
    signer: SoftwareOrderSigner,
    receipt_signer: SoftwareDocumentSigner,
    clock: Clock,
    tmp_path: Path,
    test_ca: TestCa,
) -> None:
    signed(store, signer, 1)
    day = clock.now.date()
    bundle = export_archive(store, day, day, tmp_path / "a.zip", signer=receipt_signer).path
    signed(store, signer, 1)  # signed after the export: not in the bundle
    clock.advance(days=3 * 365)
    with pytest.raises(PurgeRefused, match=r"not in a\.zip"):
        purge_archived(store, day + timedelta(days=1), bundle, trust=roots(test_ca), clock=clock)
    assert len(store.orders.list()) == 2


def test_nothing_else_may_delete_an_order(store: Store, signer: SoftwareOrderSigner) -> None:
    [oid] = signed(store, signer, 1)
    with pytest.raises(sqlite3.DatabaseError, match="kept"):
        store.conn.execute("DELETE FROM orders WHERE order_id = ?", (oid,))


def test_a_bundle_that_differs_from_the_store_blocks_the_purge(
    store: Store,
    signer: SoftwareOrderSigner,
    receipt_signer: SoftwareDocumentSigner,
    clock: Clock,
    tmp_path: Path,
    test_ca: TestCa,
) -> None:
    """Another trusted signer re-signs a changed order and re-seals the manifest.

    The bundle verifies (every chain is trusted), but it is not what this store holds:
    before, purge checked only member names and deleted the real record.
    """
    [oid] = signed(store, signer, 1)
    day = clock.now.date()
    bundle = export_archive(store, day, day, tmp_path / "a.zip", signer=receipt_signer).path
    key = SoftwareKey()
    other = test_ca.issue_for_public_key(
        key.key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Another Pharmacy"),
        dea_number=OTHER_DEA,
        schedules=ALL_SCHEDULES,
        days=730,
        not_before=clock.now - timedelta(days=1),
    )
    other_der = other.public_bytes(Encoding.DER)
    chain = (test_ca.issuing_certificate.public_bytes(Encoding.DER),)
    items = read_members(bundle)
    doc = f"orders/{oid}/{oid}.json"
    items[doc] = items[doc].replace(b'"quantity":2', b'"quantity":1')
    items[doc[: -len(".json")] + ".p7s"] = forged_signature(
        items[doc], key.key, other_der, chain, signing_time=clock.now
    )
    reseal(bundle, items, key.key, other_der, chain, signing_time=clock.now)
    clock.advance(days=3 * 365)
    assert verify_archive(bundle, roots(test_ca), now=clock.now).intact
    with pytest.raises(PurgeRefused, match="not byte for byte what this computer holds"):
        purge_archived(store, day + timedelta(days=1), bundle, trust=roots(test_ca), clock=clock)
    assert store.signed.find(oid) is not None
