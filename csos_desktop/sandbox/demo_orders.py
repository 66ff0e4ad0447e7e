"""Demo orders drawn from the pharmacy's own history, so SOM judges them as it would real ones.

Three ordinary orders (a usual product in its usual quantity, one family each)
and one draft that orders ten times the usual amount: the warning the demo shows.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from csos_desktop.domain.catalogue import Catalogue, Product
from csos_desktop.sync.client import HistoryRow

PURCHASER: dict[str, Any] = {
    "name": "Main Street Pharmacy",
    "address": {
        "street": "120 Main Street",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    },
}
SUPPLIER: dict[str, Any] = {
    "name": "Sandbox Wholesale Drug Co. (TEST)",
    "address": {
        "street": "4500 Industrial Parkway",
        "city": "Columbus",
        "state": "OH",
        "postal_code": "43219",
    },
    "dea_number": "RK0452716",
}


@dataclass(frozen=True)
class UsualLine:
    """A product this pharmacy orders often, and how many packages it usually takes."""

    product: Product
    packages: int


def write_history_csv(rows: Iterable[HistoryRow], path: Path) -> int:
    """The distributor's history in the CSV that `csos som check` reads; returns rows."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(("order_id", "order_date", "purchaser_dea", "ndc", "drug_code", "dosage_units"))
        for r in rows:
            w.writerow(
                (
                    r.order_id,
                    r.order_date.isoformat(),
                    r.purchaser_dea,
                    r.ndc,
                    r.drug_code,
                    r.dosage_units,
                )
            )
            count += 1
    return count


def usual_lines(rows: Iterable[HistoryRow], catalogue: Catalogue, n: int = 3) -> list[UsualLine]:
    """The *n* most ordered products of distinct families, at their median quantity."""
    units: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        units[r.ndc].append(r.dosage_units)
    by_ndc = catalogue.products
    picked: list[UsualLine] = []
    families: set[int] = set()
    for ndc, _ in Counter({k: len(v) for k, v in units.items()}).most_common():
        product = by_ndc.get(ndc)
        if product is None or product.drug_code in families:
            continue
        median = statistics.median(units[ndc])
        picked.append(UsualLine(product, max(1, round(median / product.package_size))))
        families.add(product.drug_code)
        if len(picked) == n:
            break
    return picked


def order_input(dea: str, number: str, lines: list[UsualLine]) -> dict[str, object]:
    """CLI-form order input for *lines*."""
    return {
        "schema": "csos-order/1",
        "order_number": number,
        "purchaser": {**PURCHASER, "dea_number": dea},
        "supplier": SUPPLIER,
        "lines": [
            {
                "line_no": i,
                "ndc": u.product.ndc.digits,
                "item_name": u.product.item_name,
                "strength": u.product.strength,
                "dosage_form": u.product.dosage_form,
                "package_size": u.product.package_size,
                "quantity": u.packages,
                "schedule": u.product.schedule.value,
            }
            for i, u in enumerate(lines, 1)
        ],
    }


def year_number(today: date, sequence: int) -> str:
    return f"{today:%y}X{sequence:06d}"
