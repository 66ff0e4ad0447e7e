"""Keep the SOM inputs fresh: the distributor's policy and the purchaser's order history.

Run after each sync pass, so the check before signing (21 CFR 1301.74(b)) judges
an order with the same policy and history the distributor will. History is read
from the saved cursor onwards; a pass cut short simply reads the page again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.som.policy import Policy, PolicyInvalid
from csos_desktop.store import Store, som_cache
from csos_desktop.store.history import HistoryRow
from csos_desktop.sync.client import DistributorClient
from csos_desktop.sync.client import HistoryRow as WireRow
from csos_desktop.sync.errors import DistributorRefused


def _variant(catalogue: Catalogue | None, ndc: str) -> str:
    product = catalogue.product(ndc) if catalogue is not None else None
    return "" if product is None else product.variant


def _line_no(row: WireRow) -> int:
    # The feed gives no line number; one order names an NDC once, so the NDC keys the line.
    return 1 + int(hashlib.sha256(row.ndc.encode()).hexdigest()[:7], 16)


def refresh(
    store: Store,
    client: DistributorClient,
    cursor: str,
    now: datetime,
    catalogue: Catalogue | None = None,
) -> tuple[str, int]:
    """Fetch the policy and the history after *cursor*; returns (new cursor, rows added).

    *catalogue* is the one in force (the caller's; default: the imported one, if any).
    """
    try:
        doc = client.som_policy()
        Policy.from_document(doc)  # never cache a policy the check could not apply
        som_cache.save_policy_document(store, doc)
    except (DistributorRefused, PolicyInvalid):
        pass  # an older distributor, or a policy we cannot read: the bundled one stays in use
    added = 0
    # The feed names the NDC; strength and form (the pattern check's "variant") come from
    # the catalogue, as for the history files SOM reads (som.loaders); unknown without one.
    catalogue = catalogue or store.catalogue.load()
    while True:
        page = client.history(cursor)
        rows = [
            HistoryRow(
                r.order_id,
                _line_no(r),
                r.order_date,
                r.purchaser_dea,
                r.ndc,
                r.drug_code,
                r.dosage_units,
                _variant(catalogue, r.ndc),
            )
            for r in page.rows
        ]
        with store.transaction():
            store.history.upsert(rows, source="distributor", fetched_at=now)
        added += len(rows)
        cursor = page.next_cursor
        if not page.has_more:
            som_cache.mark_history_fetched(store, now, added)
            return cursor, added
