"""A purchaser's cached history in the store: steady orders of one product, for SOM tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from csos_desktop.store import Store
from csos_desktop.store.history import HistoryRow

OXY_5 = "99101-0010-01"  # Oxycodone 5 mg tablet, 100 per package, family 9143
SUPPLIER = {
    "name": "Keystone Wholesale Drug Co.",
    "address": {
        "street": "4500 Industrial Parkway",
        "city": "Columbus",
        "state": "OH",
        "postal_code": "43219-1234",
    },
    "dea_number": "RK0452716",
}


def add_history(
    store: Store,
    dea: str = "AB1234563",
    *,
    until: date | None = None,
    days: int = 728,
    every: int = 14,
    units: int = 200,
) -> int:
    """One order of *units* oxycodone 5 mg every *every* days for *days* days before *until*."""
    end = until or datetime.now(UTC).date()
    rows = [
        HistoryRow(
            f"hist-{i:04d}",
            1,
            end - timedelta(days=days - i * every),
            dea,
            OXY_5.replace("-", ""),
            9143,
            units,
            "5 mg tablet",
        )
        for i in range(days // every)
    ]
    with store.transaction():
        store.history.upsert(rows, source="distributor", fetched_at=datetime.now(UTC))
    return len(rows)
