"""Order history as columns: one row per order line, in whole dosage units.

Columns are NumPy arrays so a distributor can score a million lines at once;
text (order ids, DEA numbers, strength/form labels) is kept once in label
tuples and rows hold indices into them. Units are integers (a dosage unit is a
tablet, a patch, a vial), which keeps every sum exact: the client and the
distributor get bit-identical numbers whatever order they add them in. Order
codes are given in order of first appearance, which is also the tie-break
between orders of the same day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

_EPOCH = date(1970, 1, 1)

I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


def day_number(d: date) -> int:
    """Days since 1970-01-01: the integer day every SOM window is measured in."""
    return (d - _EPOCH).days


def day_date(n: int) -> date:
    return _EPOCH + timedelta(days=int(n))


@dataclass(frozen=True)
class HistoryLine:
    """One history row as read from a file or written by hand in a test."""

    order_id: str
    order_date: date
    purchaser_dea: str
    drug_code: int
    units: int
    variant: str = ""
    ndc: str = "0"


@dataclass(frozen=True, eq=False)
class History:
    """Order lines by column; ``order``, ``purchaser`` and ``variant`` index the label tuples."""

    order: I64
    day: I32
    purchaser: I32
    drug_code: I32
    variant: I32
    ndc: I64
    units: I64
    order_ids: tuple[str, ...]
    purchasers: tuple[str, ...]
    variants: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.order)
        columns = (self.day, self.purchaser, self.drug_code, self.variant, self.ndc, self.units)
        if any(len(c) != n for c in columns):
            raise ValueError("history columns must all have the same length")

    def __len__(self) -> int:
        return len(self.order)

    @classmethod
    def empty(cls) -> History:
        return cls.from_lines(())

    @classmethod
    def from_lines(cls, lines: Iterable[HistoryLine]) -> History:
        """Columns from rows; codes follow first appearance."""
        orders = _Labels()
        purchasers = _Labels()
        variants = _Labels()
        rows = [
            (
                orders.code(x.order_id),
                day_number(x.order_date),
                purchasers.code(x.purchaser_dea),
                x.drug_code,
                variants.code(x.variant),
                int(x.ndc),
                int(x.units),
            )
            for x in lines
        ]
        cols = list(zip(*rows, strict=True)) if rows else [()] * 7
        return cls(
            np.asarray(cols[0], dtype=np.int64),
            np.asarray(cols[1], dtype=np.int32),
            np.asarray(cols[2], dtype=np.int32),
            np.asarray(cols[3], dtype=np.int32),
            np.asarray(cols[4], dtype=np.int32),
            np.asarray(cols[5], dtype=np.int64),
            np.asarray(cols[6], dtype=np.int64),
            orders.labels(),
            purchasers.labels(),
            variants.labels(),
        )

    def select(self, mask: NDArray[np.bool_]) -> History:
        """The rows where ``mask`` is true (labels are kept whole)."""
        return History(
            self.order[mask],
            self.day[mask],
            self.purchaser[mask],
            self.drug_code[mask],
            self.variant[mask],
            self.ndc[mask],
            self.units[mask],
            self.order_ids,
            self.purchasers,
            self.variants,
        )

    def purchaser_code(self, dea: str) -> int | None:
        try:
            return self.purchasers.index(dea)
        except ValueError:
            return None

    def with_units(self, units: I64) -> History:
        """The same rows with other units (used to scale a history in property tests)."""
        return History(
            self.order,
            self.day,
            self.purchaser,
            self.drug_code,
            self.variant,
            self.ndc,
            np.asarray(units, dtype=np.int64),
            self.order_ids,
            self.purchasers,
            self.variants,
        )

    @staticmethod
    def concat(first: History, second: History) -> History:
        """``first`` then ``second``: purchasers and variants merged by label, orders kept apart.

        Order codes of ``second`` come after all of ``first``, so on the same day
        every order of ``first`` precedes those of ``second``.
        """
        purchasers, p_map = _merge(first.purchasers, second.purchasers)
        variants, v_map = _merge(first.variants, second.variants)
        offset = len(first.order_ids)
        return History(
            np.concatenate([first.order, second.order + offset]),
            np.concatenate([first.day, second.day]),
            np.concatenate([first.purchaser, p_map[second.purchaser]]).astype(np.int32),
            np.concatenate([first.drug_code, second.drug_code]),
            np.concatenate([first.variant, v_map[second.variant]]).astype(np.int32),
            np.concatenate([first.ndc, second.ndc]),
            np.concatenate([first.units, second.units]),
            first.order_ids + second.order_ids,
            purchasers,
            variants,
        )


class _Labels:
    """Assigns small integer codes to text in order of first appearance."""

    def __init__(self, initial: Sequence[str] = ()) -> None:
        self._codes: dict[str, int] = {}
        for label in initial:
            self.code(label)

    def code(self, label: str) -> int:
        code = self._codes.get(label)
        if code is None:
            code = self._codes[label] = len(self._codes)
        return code

    def labels(self) -> tuple[str, ...]:
        return tuple(self._codes)


def _merge(
    first: tuple[str, ...], second: tuple[str, ...]
) -> tuple[tuple[str, ...], NDArray[np.int64]]:
    labels = _Labels(first)
    mapping = np.asarray([labels.code(x) for x in second], dtype=np.int64)
    return labels.labels(), mapping
