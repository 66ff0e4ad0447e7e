"""Deleting records past retention (21 CFR 1305.27, 1311.60), only what a verified archive holds.

Before anything goes: the records are two years old; the bundle verifies with trust
anchors (manifest signature, hashes, every signer's chain); and every signed byte the
store holds for each order (order, receipts, statements) is byte-equal to the bundle's
copy, so what is deleted here is exactly what the archive keeps.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.services.archive.container import (
    MemberUnreadable,
    open_bundle,
    read_member,
)
from csos_desktop.services.archive.export import MANIFEST
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.orders.export import order_record_files
from csos_desktop.services.trust_anchors import TrustMaterial
from csos_desktop.store import Store
from csos_desktop.store.purge import orders_before, purge_orders

#: 21 CFR 1305.27 and 1311.60: orders and linked records are kept for two years.
RETENTION_YEARS = 2


class PurgeRefused(InputError):
    """The purge would delete records still in their retention period, or not archived."""


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _differences(store: Store, ids: list[str], bundle: Path) -> tuple[list[str], list[str]]:
    """(orders the bundle lacks, orders whose bundle bytes differ from the store's)."""
    missing, differing = [], []
    with open_bundle(bundle) as zf:
        names = set(zf.namelist())
        for order_id in ids:
            rec = store.orders.get(order_id)
            if store.signed.find(order_id) is None:
                continue  # never signed: nothing an inspector needs
            wanted = {
                f"orders/{order_id}/{n}": data
                for n, data in order_record_files(store, rec).items()
                if not n.endswith(".record.json")  # our own summary, not a signed record
            }
            if not wanted.keys() <= names:
                missing.append(rec.order_number)
                continue
            for name, data in wanted.items():
                try:
                    same = read_member(zf, name, max(len(data), 1)) == data
                except MemberUnreadable:
                    same = False
                if not same:
                    differing.append(rec.order_number)
                    break
    return missing, differing


def purge_archived(
    store: Store,
    before: date,
    bundle: Path,
    *,
    trust: TrustMaterial,
    clock: Clock = utc_now,
    dry_run: bool = False,
) -> int:
    """Delete orders signed before *before*, if two years old and all in a verified *bundle*.

    Returns how many orders went (with ``dry_run``, how many would go; all checks still run).
    """
    now = clock()
    limit = _years_before(now.date(), RETENTION_YEARS)
    if before > limit:
        raise PurgeRefused(
            f"Records younger than {RETENTION_YEARS} years cannot be purged (21 CFR 1305.27): "
            f"--before must be {limit.isoformat()} or earlier."
        )
    ids = orders_before(store, before.isoformat())
    if not ids:
        return 0
    report = verify_archive(bundle, trust, now=now)
    if report.verdict is not Verdict.INTACT:
        raise PurgeRefused(
            f"The archive {bundle} does not verify, so nothing was purged: "
            + "; ".join(report.problems[:3])
        )
    missing, differing = _differences(store, ids, bundle)
    if missing:
        raise PurgeRefused(
            f"{len(missing)} order(s) to purge are not in {bundle.name} "
            f"(e.g. {', '.join(missing[:3])}); export an archive covering them "
            "first. Nothing was purged."
        )
    if differing:
        raise PurgeRefused(
            f"{len(differing)} order(s) in {bundle.name} are not byte for byte what this "
            f"computer holds (e.g. {', '.join(differing[:3])}); export a new archive from "
            "this computer first. Nothing was purged."
        )
    if dry_run:
        return len(ids)
    with open_bundle(bundle) as zf:
        manifest_sha256 = hashlib.sha256(read_member(zf, MANIFEST, zf.manifest_cap)).hexdigest()
    return purge_orders(
        store,
        ids,
        before=before.isoformat(),
        now=now,
        details={"archive": str(bundle), "manifest_sha256": manifest_sha256},
    )


def purge_preview(store: Store, before: date) -> int:
    """How many orders signed (or created, if never signed) before *before* a purge would take."""
    return len(orders_before(store, before.isoformat()))
