"""1305.27 / 1311.60: two years kept; after that only records a verified archive holds can go."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.purge import PurgeRefused, purge_archived
from csos_desktop.services.archive.verify import verify_archive
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store
from tests.unit.store.archive_forgery import read_members, reseal_with, roots
from tests.unit.store.helpers import (
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    order_input,
    software_identity,
)


@dataclass
class Pharmacy:
    """The store with what the purge tests do to it: sign, export, let years pass."""

    store: Store
    signer: SoftwareOrderSigner
    exporter: SoftwareDocumentSigner
    clock: Clock
    tmp_path: Path

    def sign(self, n: int) -> list[str]:
        ids = [r.order_id for r in svc.import_orders(self.store, [order_input()] * n, source="t")]
        assert len(svc.sign_orders(self.store, ids, self.signer).signed) == n
        return ids

    def export(self) -> Path:
        """Today's orders to a.zip, the manifest signed by the pharmacist."""
        day = self.clock.now.date()
        return export_archive(
            self.store, day, day, self.tmp_path / "a.zip", signer=self.exporter
        ).path


@pytest.fixture()
def pharmacy(
    store: Store,
    signer: SoftwareOrderSigner,
    receipt_signer: SoftwareDocumentSigner,
    clock: Clock,
    tmp_path: Path,
) -> Pharmacy:
    return Pharmacy(store, signer, receipt_signer, clock, tmp_path)


def test_records_younger_than_two_years_cannot_be_purged(
    pharmacy: Pharmacy, test_ca: TestCa
) -> None:
    pharmacy.sign(1)
    bundle, clock = pharmacy.export(), pharmacy.clock
    clock.advance(days=365)
    with pytest.raises(PurgeRefused, match="younger than 2 years"):
        purge_archived(pharmacy.store, clock.now.date(), bundle, trust=roots(test_ca), clock=clock)


def test_old_archived_orders_are_purged_and_the_chain_stays_whole(
    pharmacy: Pharmacy, test_ca: TestCa
) -> None:
    old = pharmacy.sign(2)
    store, clock, day = pharmacy.store, pharmacy.clock, pharmacy.clock.now.date()
    bundle = pharmacy.export()
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
    pharmacy: Pharmacy, test_ca: TestCa
) -> None:
    pharmacy.sign(1)
    store, clock, day = pharmacy.store, pharmacy.clock, pharmacy.clock.now.date()
    bundle = pharmacy.export()
    pharmacy.sign(1)  # signed after the export: not in the bundle
    clock.advance(days=3 * 365)
    with pytest.raises(PurgeRefused, match=r"not in a\.zip"):
        purge_archived(store, day + timedelta(days=1), bundle, trust=roots(test_ca), clock=clock)
    assert len(store.orders.list()) == 2


def test_nothing_else_may_delete_an_order(pharmacy: Pharmacy) -> None:
    [oid] = pharmacy.sign(1)
    with pytest.raises(sqlite3.DatabaseError, match="kept"):
        pharmacy.store.conn.execute("DELETE FROM orders WHERE order_id = ?", (oid,))


def test_a_bundle_that_differs_from_the_store_blocks_the_purge(
    pharmacy: Pharmacy, test_ca: TestCa
) -> None:
    """Another trusted pharmacist re-signs a changed order and re-seals the manifest.

    The bundle verifies (every chain is trusted), but it is not what this store holds:
    before, purge checked only member names and deleted the real record.
    """
    [oid] = pharmacy.sign(1)
    store, clock, day = pharmacy.store, pharmacy.clock, pharmacy.clock.now.date()
    bundle = pharmacy.export()
    _, other = software_identity(test_ca)  # the same registrant's other certificate
    items = read_members(bundle)
    doc = f"orders/{oid}/{oid}.json"
    items[doc] = items[doc].replace(b'"quantity":2', b'"quantity":1')
    items[f"orders/{oid}/{oid}.p7s"] = other.sign(items[doc], clock.now)
    reseal_with(bundle, items, lambda manifest: other.sign(manifest, clock.now))
    clock.advance(days=3 * 365)
    assert verify_archive(bundle, roots(test_ca), now=clock.now).intact
    with pytest.raises(PurgeRefused, match="not byte for byte what this computer holds"):
        purge_archived(store, day + timedelta(days=1), bundle, trust=roots(test_ca), clock=clock)
    assert store.signed.find(oid) is not None
