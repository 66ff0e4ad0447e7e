"""The sorted tables every detector reads, built once from a History.

- *events*: one row per purchaser × drug family × order (units summed over the
  order's lines of that family), sorted by purchaser, family, day, order;
- *orders*: one row per order (total and schedule II units), sorted by
  purchaser, day, order;
- per line, whether its strength/form is new for the purchaser and family (a
  line whose strength/form is unknown, ``""``, never is).

"Before" always means an earlier day, or the same day and a lower order code.
Rows to be judged are marked ``query``; everything before a query row in its
group is its history, which is how one batch pass scores each order against
the history plus the orders before it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from csos_desktop.som.history import History

IP = NDArray[np.intp]
I64 = NDArray[np.int64]
BOOL = NDArray[np.bool_]

_DAY_BITS = 32


def order_by(*keys: NDArray[np.integer]) -> IP:
    """Stable permutation sorting rows by non-negative integer keys, first key first.

    Keys are packed into one int64 when their bits fit, which sorts several
    times faster than ``np.lexsort``.
    """
    bits = [max(1, int(k.max()).bit_length()) if len(k) else 1 for k in keys]
    if sum(bits) > 63:
        return np.lexsort(tuple(reversed(keys))).astype(np.intp)
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for key, b in zip(keys, bits, strict=True):
        packed = (packed << b) | key.astype(np.int64)
    return np.argsort(packed, kind="stable")


def _starts(*columns: NDArray[np.integer]) -> BOOL:
    """True where a sorted row differs from the previous one in any column."""
    n = len(columns[0])
    new = np.zeros(n, dtype=np.bool_)
    if n:
        new[0] = True
        for c in columns:
            new[1:] |= c[1:] != c[:-1]
    return new


@dataclass(frozen=True, eq=False)
class Groups:
    """Rows sorted by group then day, with a key for "first row on or after day D"."""

    group: I64
    start: IP  # index of the first row of each row's group
    tkey: I64
    day0: int

    @classmethod
    def of(cls, new_group: BOOL, day: NDArray[np.int32], day0: int) -> Groups:
        group = np.cumsum(new_group, dtype=np.int64) - 1
        firsts = np.flatnonzero(new_group)
        return cls(group, firsts[group], (group << _DAY_BITS) | (day - day0), day0)

    def first_on_or_after(self, rows: IP, day: NDArray[np.integer]) -> IP:
        """For each row, the index of the first row of its group dated ``day`` or later."""
        offset = np.clip(day.astype(np.int64) - self.day0, 0, (1 << _DAY_BITS) - 1)
        target = (self.group[rows] << _DAY_BITS) | offset
        return np.searchsorted(self.tkey, target, side="left").astype(np.intp)


@dataclass(frozen=True, eq=False)
class Events:
    """Purchaser × family × order rows, sorted by purchaser, family, day, order."""

    purchaser: NDArray[np.int32]
    drug_code: NDArray[np.int32]
    day: NDArray[np.int32]
    units: I64
    csum: I64  # csum[i] = units of rows before i (exact: integer units)
    query: BOOL
    order_row: IP  # row of the event's order in Orders
    groups: Groups


@dataclass(frozen=True, eq=False)
class Orders:
    """Whole orders, sorted by purchaser, day, order."""

    order: I64
    purchaser: NDArray[np.int32]
    day: NDArray[np.int32]
    csum_units: I64
    csum_schedule_ii: I64
    query: BOOL
    groups: Groups


@dataclass(frozen=True, eq=False)
class Ledger:
    events: Events
    orders: Orders
    line_event: IP  # per history line: its row in Events
    line_new_variant: BOOL  # per history line: strength/form not seen before for the family
    history: History


def _csum(values: I64) -> I64:
    out = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


def build_ledger(h: History, query_line: BOOL, schedule_ii: Collection[int]) -> Ledger:
    """Sort and aggregate ``h``; ``query_line`` marks the lines of orders to be judged."""
    day0 = int(h.day.min()) if len(h) else 0
    dd = h.day - day0
    _, family = np.unique(h.drug_code, return_inverse=True)
    family = family.reshape(-1)

    perm = order_by(h.purchaser, family, dd, h.order)
    p, f, o = h.purchaser[perm], family[perm], h.order[perm]
    new_event = _starts(p, f, o)
    firsts = np.flatnonzero(new_event)
    ev_units = np.add.reduceat(h.units[perm], firsts) if len(firsts) else h.units[:0]
    ev_p, ev_day, ev_order = p[firsts], h.day[perm][firsts], o[firsts]
    ev_code = h.drug_code[perm][firsts]
    line_event = np.empty(len(h), dtype=np.intp)
    line_event[perm] = np.cumsum(new_event) - 1

    # Whole orders: the same events re-sorted by purchaser, day, order.
    perm2 = order_by(ev_p, ev_day - day0, ev_order)
    o2 = ev_order[perm2]
    new_order = _starts(o2)
    ofirsts = np.flatnonzero(new_order)
    c2_units = np.where(np.isin(ev_code, np.fromiter(schedule_ii, np.int32)), ev_units, 0)
    ord_units = np.add.reduceat(ev_units[perm2], ofirsts) if len(ofirsts) else ev_units[:0]
    ord_c2 = np.add.reduceat(c2_units[perm2], ofirsts) if len(ofirsts) else ev_units[:0]
    ord_p, ord_day = ev_p[perm2][ofirsts], ev_day[perm2][ofirsts]
    order_row = np.empty(len(ev_order), dtype=np.intp)
    order_row[perm2] = np.cumsum(new_order) - 1
    ev_query = query_line[perm][firsts]

    orders = Orders(
        o2[ofirsts],
        ord_p,
        ord_day,
        _csum(ord_units),
        _csum(ord_c2),
        ev_query[perm2][ofirsts],
        Groups.of(_starts(ord_p), ord_day, day0),
    )
    events = Events(
        ev_p,
        ev_code,
        ev_day,
        ev_units,
        _csum(ev_units),
        ev_query,
        order_row,
        Groups.of(_starts(ev_p, f[firsts]), ev_day, day0),
    )
    return Ledger(events, orders, line_event, _new_variants(h, family, dd), h)


def _new_variants(h: History, family: IP, dd: NDArray[np.integer]) -> BOOL:
    """Per line: no earlier order of this purchaser and family had this strength/form."""
    perm = order_by(h.purchaser, family, h.variant, dd, h.order)
    p, f, v, o = h.purchaser[perm], family[perm], h.variant[perm], h.order[perm]
    new_run = _starts(p, f, v)
    first_order = o[np.flatnonzero(new_run)][np.cumsum(new_run) - 1]
    out = np.empty(len(h), dtype=np.bool_)
    out[perm] = o == first_order
    if "" in h.variants:
        # An unknown strength/form (an NDC outside the catalogue) is never a change.
        out[h.variant == h.variants.index("")] = False
    return out
