"""Judging orders: one order before signing (client) or a whole batch (distributor).

Both go through :func:`score`: :func:`evaluate` is a batch of one, so the
client's decision equals the distributor's on the same history and policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from csos_desktop.domain.catalogue import DrugFamily
from csos_desktop.som.detection import Context, Detection
from csos_desktop.som.explain import explain, family_label
from csos_desktop.som.families import schedule_ii_codes
from csos_desktop.som.flags import (
    DECISION_OF_RANK,
    KIND_BITS,
    SEVERITY_OF_RANK,
    Assessment,
    Decision,
    Flag,
    FlagCode,
)
from csos_desktop.som.frequency import detect_frequency
from csos_desktop.som.history import History, day_date, day_number
from csos_desktop.som.ledger import build_ledger
from csos_desktop.som.pattern import detect_pattern
from csos_desktop.som.policy import Policy
from csos_desktop.som.review import OrderUnderReview
from csos_desktop.som.size import detect_size

_CODE_ORDER = {code: i for i, code in enumerate(FlagCode)}


@dataclass(frozen=True, eq=False)
class BatchScores:
    """Per scored order (in input order): decision rank, kinds mask, and the flags if any."""

    order_ids: tuple[str, ...]
    purchaser_dea: tuple[str, ...]
    day: NDArray[np.int32]
    customer_class: tuple[str, ...]
    decision_rank: NDArray[np.int8]  # 0 ok, 1 warn, 2 intercept
    kinds: NDArray[np.int8]  # bit mask, see flags.KIND_BITS
    escalated: NDArray[np.bool_]
    flags: Mapping[int, tuple[Flag, ...]]
    policy_id: str

    def __len__(self) -> int:
        return len(self.order_ids)

    def decision(self, i: int) -> Decision:
        return DECISION_OF_RANK[int(self.decision_rank[i])]

    def assessment(self, i: int) -> Assessment:
        return Assessment(
            self.order_ids[i],
            self.purchaser_dea[i],
            day_date(int(self.day[i])),
            self.customer_class[i],
            self.policy_id,
            self.decision(i),
            self.flags.get(i, ()),
            bool(self.escalated[i]),
        )


def evaluate(
    order: OrderUnderReview,
    history: History,
    policy: Policy,
    families: Mapping[int, DrugFamily],
    *,
    customer_class: str | None = None,
) -> Assessment:
    """Judge one order against the purchaser's history up to and including ``order.as_of``."""
    if not order.lines:
        cls = policy.class_of(order.purchaser_dea, customer_class).name
        return Assessment(
            order.order_id, order.purchaser_dea, order.as_of, cls, policy.policy_id, Decision.OK, ()
        )
    code = history.purchaser_code(order.purchaser_dea)
    if code is None:
        prior = History.empty()
    else:
        prior = history.select(
            (history.purchaser == code) & (history.day <= day_number(order.as_of))
        )
    classes = {order.purchaser_dea: customer_class} if customer_class else None
    return score(prior, order.as_history(), policy, families, customer_classes=classes).assessment(
        0
    )


def score(
    history: History,
    orders: History,
    policy: Policy,
    families: Mapping[int, DrugFamily],
    *,
    customer_classes: Mapping[str, str] | None = None,
) -> BatchScores:
    """Judge every order in ``orders`` against ``history`` plus the orders before it.

    ``customer_classes`` (DEA number -> class) overrides the policy's assignment.
    """
    combined = History.concat(history, orders)
    query = np.zeros(len(combined), dtype=np.bool_)
    query[len(history) :] = True
    ledger = build_ledger(combined, query, schedule_ii_codes(families))
    overrides = customer_classes or {}
    class_names = [policy.class_of(dea, overrides.get(dea)).name for dea in combined.purchasers]
    class_idx = np.asarray([policy.class_index(n) for n in class_names], dtype=np.intp)
    ctx = Context(ledger, policy, class_idx.reshape(-1))
    detections = [*detect_size(ctx), *detect_frequency(ctx), *detect_pattern(ctx)]

    led_orders = ledger.orders
    rows = np.flatnonzero(led_orders.query)
    rows = rows[np.argsort(led_orders.order[rows], kind="stable")]
    position = np.full(len(led_orders.order), -1, dtype=np.intp)
    position[rows] = np.arange(len(rows))

    rank = np.zeros(len(rows), dtype=np.int8)
    kinds = np.zeros(len(rows), dtype=np.int8)
    warn_kinds = np.zeros(len(rows), dtype=np.int8)
    for det in detections:
        at = position[det.order_row]
        np.maximum.at(rank, at, det.severity)
        bit = KIND_BITS[det.code.kind]
        kinds[at] |= bit
        warn_kinds[at[det.severity == 1]] |= bit
    escalated = np.zeros(len(rows), dtype=np.bool_)
    if policy.intercept_when_warn_kinds is not None:
        spread = sum((warn_kinds & bit) > 0 for bit in KIND_BITS.values())
        escalated = (rank == 1) & (np.asarray(spread) >= policy.intercept_when_warn_kinds)
        rank[escalated] = 2

    codes = led_orders.order[rows]
    purchasers = led_orders.purchaser[rows]
    return BatchScores(
        tuple(combined.order_ids[c] for c in codes),
        tuple(combined.purchasers[p] for p in purchasers),
        led_orders.day[rows],
        tuple(class_names[p] for p in purchasers),
        rank,
        kinds,
        escalated,
        _flags(detections, position, families),
        policy.policy_id,
    )


def _flags(
    detections: list[Detection], position: NDArray[np.intp], families: Mapping[int, DrugFamily]
) -> dict[int, tuple[Flag, ...]]:
    """Flag objects for the flagged rows only (a small share of a batch), sorted per order."""
    found: dict[int, list[Flag]] = {}
    for det in detections:
        names = list(det.figures)
        columns = [det.figures[n].tolist() for n in names]
        texts = list(det.texts.items())
        for i, row in enumerate(det.order_row.tolist()):
            figures: dict[str, float | str] = {
                n: col[i] for n, col in zip(names, columns, strict=True)
            }
            for name, values in texts:
                figures[name] = values[i]
            code = None if det.drug_code is None else int(det.drug_code[i])
            severity = SEVERITY_OF_RANK[int(det.severity[i])]
            sentence = explain(det.code, figures, family_label(code, families))
            found.setdefault(int(position[row]), []).append(
                Flag(det.code, severity, code, figures, sentence)
            )
    return {
        i: tuple(
            sorted(flags, key=lambda f: (-f.severity.rank, _CODE_ORDER[f.code], f.drug_code or 0))
        )
        for i, flags in found.items()
    }
