"""What a detector hands back: the flagged rows with their severity and figures, as arrays."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from csos_desktop.som.flags import FlagCode
from csos_desktop.som.ledger import Ledger
from csos_desktop.som.policy import ClassPolicy, Policy

IP = NDArray[np.intp]
BOOL = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Context:
    """The ledger, the policy and each purchaser's customer class."""

    ledger: Ledger
    policy: Policy
    class_of_purchaser: IP  # purchaser code -> index into policy.classes

    def param(
        self, get: Callable[[ClassPolicy], float | None], purchaser: NDArray[np.int32]
    ) -> NDArray[np.float64]:
        """A policy value for each row, from the row's purchaser's class."""
        return self.policy.column(get, self.class_of_purchaser[purchaser])


def windows(
    ctx: Context, get: Callable[[ClassPolicy], tuple[int, ...]], purchaser: NDArray[np.int32]
) -> list[NDArray[np.int64]]:
    """Each row's window lengths, shortest first; a class with fewer repeats its longest."""
    n = max(len(get(c)) for c in ctx.policy.classes)

    def nth(j: int) -> Callable[[ClassPolicy], float]:
        return lambda c: float(get(c)[min(j, len(get(c)) - 1)])

    return [ctx.param(nth(j), purchaser).astype(np.int64) for j in range(n)]


def established(
    prior_orders: ArrayLike, tenure_days: ArrayLike, ctx: Context, purchaser: NDArray[np.int32]
) -> BOOL:
    """Enough history to trust a baseline: the policy's minimum orders and days."""
    min_orders = ctx.param(lambda c: c.history.min_orders, purchaser)
    min_days = ctx.param(lambda c: c.history.min_days, purchaser)
    return (np.asarray(prior_orders) >= min_orders) & (np.asarray(tenure_days) >= min_days)


@dataclass(frozen=True, eq=False)
class Detection:
    """Flagged rows of one check: order row, family, severity (1 warn, 2 intercept), figures."""

    code: FlagCode
    order_row: IP
    drug_code: NDArray[np.int32] | None
    severity: NDArray[np.int8]
    figures: Mapping[str, NDArray[np.float64]]
    texts: Mapping[str, list[str]] = field(default_factory=dict)


def detected(
    code: FlagCode,
    order_row: IP,
    drug_code: NDArray[np.int32] | None,
    warn: BOOL,
    intercept: BOOL,
    figures: Mapping[str, ArrayLike],
) -> Detection:
    """Keep only the rows that warn (or intercept), with their figures."""
    severity = warn.astype(np.int8) + (warn & intercept).astype(np.int8)
    keep = severity > 0
    kept = {
        name: np.broadcast_to(np.asarray(v, dtype=np.float64), keep.shape)[keep]
        for name, v in figures.items()
    }
    codes = None if drug_code is None else drug_code[keep]
    return Detection(code, order_row[keep], codes, severity[keep], kept)
