"""The numbers behind a size chart: a family's past orders and the baseline as it stood at each.

Computed with the same baseline code as the size check, so the band a
compliance officer sees is the band the order was judged against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from csos_desktop.domain.catalogue import DrugFamily
from csos_desktop.som.detection import Context
from csos_desktop.som.families import schedule_ii_codes
from csos_desktop.som.history import History, day_number
from csos_desktop.som.ledger import build_ledger
from csos_desktop.som.policy import Policy
from csos_desktop.som.review import OrderUnderReview
from csos_desktop.som.size import order_baseline


@dataclass(frozen=True, eq=False)
class FamilySeries:
    """One purchaser × family: each order's units and the baseline it met (the last is the
    order under review)."""

    drug_code: int
    purchaser_dea: str
    day: NDArray[np.int32]
    units: NDArray[np.int64]
    median: NDArray[np.float64]
    q1: NDArray[np.float64]
    q3: NDArray[np.float64]
    base: NDArray[np.float64]  # the median, or the policy floor while history is thin
    warn_multiplier: float
    #: Where the policy holds an order (None: this class is never held on size alone).
    intercept_multiplier: float | None = None


def family_series(
    history: History,
    order: OrderUnderReview,
    drug_code: int,
    policy: Policy,
    families: Mapping[int, DrugFamily],
    *,
    customer_class: str | None = None,
) -> FamilySeries:
    """The series for ``drug_code``: past orders up to ``order.as_of``, then the order itself."""
    code = history.purchaser_code(order.purchaser_dea)
    mask = (history.day <= day_number(order.as_of)) & (history.drug_code == drug_code)
    if code is None:
        mask &= False
    else:
        mask &= history.purchaser == code
    past = history.select(mask)
    mine = order.as_history()
    combined = History.concat(past, mine.select(mine.drug_code == drug_code))
    ledger = build_ledger(
        combined, np.ones(len(combined), dtype=np.bool_), schedule_ii_codes(families)
    )
    cls = policy.class_of(order.purchaser_dea, customer_class)
    class_idx = np.full(len(combined.purchasers), policy.class_index(cls.name), dtype=np.intp)
    ctx = Context(ledger, policy, class_idx)
    rows = np.arange(len(ledger.events.day), dtype=np.intp)
    b = order_baseline(ctx, rows)
    ev = ledger.events
    return FamilySeries(
        drug_code,
        order.purchaser_dea,
        ev.day[rows],
        ev.units[rows],
        b.median,
        b.q1,
        b.q3,
        b.base,
        cls.size.order_warn_multiplier,
        cls.size.order_intercept_multiplier,
    )
