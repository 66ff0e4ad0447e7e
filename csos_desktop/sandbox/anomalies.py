"""Planted, labelled anomalies for the synthetic history (and the pharmacy model they act on).

Each anomaly names the SOM check expected to catch it:

- ``size-jump``: one order of a family at 3.5–6× the usual volume (``order-units``);
- ``burst``: 3–5 extra normal-sized orders of a family within 4–8 days (frequency);
- ``new-family``: a family the pharmacy never ordered (``new-family``);
- ``strength-form-change``: a strength/form never ordered in the family;
- ``schedule-ii-shift``: six weeks of schedule II at 1.5× and the rest at 20%
  (``schedule-ii-share``);
- ``weekend-order``: an order on a Saturday or Sunday (``cadence``);
- ``slow-ramp``: 8–12 orders of a family growing step by step to 2.5–4× (size).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

import numpy as np

from csos_desktop.domain.catalogue import Catalogue, Product
from csos_desktop.som.flags import FlagCode


class Anomaly(Enum):
    """What the generator plants; ``code`` is the check expected to catch it."""

    SIZE_JUMP = "size-jump"
    BURST = "burst"
    NEW_FAMILY = "new-family"
    STRENGTH_FORM = "strength-form-change"
    MIX_SHIFT = "schedule-ii-shift"
    WEEKEND = "weekend-order"
    SLOW_RAMP = "slow-ramp"

    @property
    def code(self) -> FlagCode:
        return _EXPECTED[self]


_EXPECTED = {
    Anomaly.SIZE_JUMP: FlagCode.ORDER_UNITS,
    Anomaly.BURST: FlagCode.BURST,
    Anomaly.NEW_FAMILY: FlagCode.NEW_FAMILY,
    Anomaly.STRENGTH_FORM: FlagCode.STRENGTH_FORM,
    Anomaly.MIX_SHIFT: FlagCode.SCHEDULE_II_SHARE,
    Anomaly.WEEKEND: FlagCode.CADENCE,
    Anomaly.SLOW_RAMP: FlagCode.WINDOW_UNITS,
}
ANOMALIES = tuple(Anomaly)


@dataclass(frozen=True)
class PlantedAnomaly:
    """One planted anomaly: what it is, where, and which orders carry it."""

    event_id: int
    code: FlagCode
    purchaser_dea: str
    drug_code: int | None
    factor: float
    first_day: date
    last_day: date
    order_ids: tuple[str, ...]
    anomaly: Anomaly = Anomaly.SIZE_JUMP
    cadence_days: int | None = None  # the family's cadence, for family anomalies


@dataclass(frozen=True)
class Item:
    products: tuple[Product, ...]  # the first is the usual one
    cadence: int  # days between orders of this family (before jitter)
    units: float  # usual dosage units per order


@dataclass(frozen=True)
class Pharmacy:
    dea: str
    customer_class: str
    weekdays: tuple[int, ...]  # Monday = 0
    formulary: tuple[Item, ...]
    growth: float  # relative change in volume per year
    season: float  # amplitude of the seasonal peak
    season_peak: int  # day of the year of the peak

    def volume_on(self, day: int, opened: int) -> float:
        """Growth since opening times the seasonal factor."""
        seasonal = 1.0 + self.season * np.cos(2 * np.pi * ((day - self.season_peak) % 365) / 365)
        return float(seasonal * (1.0 + self.growth * (day - opened) / 365))


@dataclass
class Order:
    day: int
    lines: dict[int, tuple[Product, int]]  # drug code -> (product, packages)
    order_id: str = ""
    planted: bool = False


Planted = tuple[int | None, float, int | None, list[Order]]  # drug code, factor, cadence, orders


def business_day(day: int, holidays: frozenset[int]) -> bool:
    return (day + 3) % 7 < 5 and day not in holidays


def line(rng: np.random.Generator, item: Item, scale: float = 1.0) -> tuple[Product, int]:
    product = item.products[0] if rng.random() < 0.8 else item.products[-1]
    units = item.units * scale * rng.lognormal(0.0, 0.2)
    return product, max(1, round(units / product.package_size))


class Planter:
    """Plants anomalies into one pharmacy's orders, each clear of the others by 60 days."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalogue: Catalogue,
        ph: Pharmacy,
        orders: list[Order],
        earliest: int,
        last: int,
        holidays: frozenset[int],
    ) -> None:
        self.rng, self.catalogue, self.ph, self.orders = rng, catalogue, ph, orders
        self.earliest, self.last, self.holidays = earliest, last, holidays
        self.opened = orders[0].day if orders else earliest
        self.busy: list[tuple[int, int]] = []

    def plant(self, kind: Anomaly) -> Planted | None:
        span = {Anomaly.MIX_SHIFT: 42, Anomaly.SLOW_RAMP: 120}.get(kind, 14)
        start = self._free_start(span)
        if start is None:
            return None
        methods: dict[Anomaly, Callable[[int, int], Planted | None]] = {
            Anomaly.SIZE_JUMP: self._size,
            Anomaly.BURST: self._burst,
            Anomaly.NEW_FAMILY: self._new_family,
            Anomaly.STRENGTH_FORM: self._strength_form,
            Anomaly.MIX_SHIFT: self._mix_shift,
            Anomaly.WEEKEND: self._weekend_order,
            Anomaly.SLOW_RAMP: self._slow_ramp,
        }
        result = methods[kind](start, span)
        if result is not None:
            for o in result[3]:
                o.planted = True
            self.busy.append((start - span - 60, start + span + 60))
        return result

    def _free_start(self, span: int) -> int | None:
        if self.earliest >= self.last - span:
            return None
        for _ in range(20):
            start = int(self.rng.integers(self.earliest, self.last - span))
            if all(not (a <= start <= b) for a, b in self.busy):
                return start
        return None

    def _regular(self, start: int, span: int, drug_code: int | None = None) -> list[Order]:
        return [
            o
            for o in self.orders
            if start <= o.day < start + span
            and not o.planted
            and (drug_code is None or drug_code in o.lines)
        ]

    def _item(self, drug_code: int) -> Item:
        return next(i for i in self.ph.formulary if i.products[0].drug_code == drug_code)

    def _pick(self, items: Sequence[Item]) -> Item | None:
        return items[int(self.rng.integers(len(items)))] if items else None

    def _size(self, start: int, span: int) -> Planted | None:
        orders = [o for o in self._regular(start, span) if o.lines]
        if not orders:
            return None
        order = orders[0]
        drug_code = sorted(order.lines)[int(self.rng.integers(len(order.lines)))]
        factor = float(self.rng.uniform(3.5, 6.0))
        item = self._item(drug_code)
        product = order.lines[drug_code][0]
        # The factor is against the family's recent orders, not this order's own noise.
        recent = [
            p.package_size * n
            for o in self.orders
            if o.day < order.day and drug_code in o.lines
            for p, n in (o.lines[drug_code],)
        ][-6:]
        units = factor * float(np.median(recent)) if recent else factor * item.units
        order.lines[drug_code] = (product, max(3, round(units / product.package_size)))
        return drug_code, factor, item.cadence, [order]

    def _burst(self, start: int, span: int) -> Planted | None:
        item = self._pick(self.ph.formulary)
        if item is None:
            return None
        n = int(self.rng.integers(3, 6))
        width = int(self.rng.integers(max(4, n), 9))  # all n orders within this many days
        days = [d for d in range(start, start + width) if business_day(d, self.holidays)]
        if len(days) < n:
            days = list(range(start, start + width))  # a pharmacy in a hurry orders at weekends
        picked = sorted(int(d) for d in self.rng.choice(days, size=n, replace=False))
        scale = self.ph.volume_on(start, self.opened)
        extras = [
            Order(d, {item.products[0].drug_code: line(self.rng, item, scale)}) for d in picked
        ]
        self.orders.extend(extras)
        return item.products[0].drug_code, float(n), item.cadence, extras

    def _new_family(self, start: int, span: int) -> Planted | None:
        have = {i.products[0].drug_code for i in self.ph.formulary}
        missing = [c for c in sorted(self.catalogue.families) if c not in have]
        orders = self._regular(start, span)
        if not missing or not orders:
            return None
        drug_code = missing[int(self.rng.integers(len(missing)))]
        product = self.catalogue.products_of(drug_code)[0]
        packages = max(
            1, round(float(np.median([i.units for i in self.ph.formulary])) / product.package_size)
        )
        orders[0].lines[drug_code] = (product, packages)
        return drug_code, 1.0, None, [orders[0]]

    def _strength_form(self, start: int, span: int) -> Planted | None:
        options = []
        for item in self.ph.formulary:
            known = {p.variant for p in item.products}
            family = self.catalogue.products_of(item.products[0].drug_code)
            new = [p for p in family if p.variant not in known]
            if new:
                options.append((item, new))
        if not options:
            return None
        item, new = options[int(self.rng.integers(len(options)))]
        drug_code = item.products[0].drug_code
        orders = self._regular(start, 2 * item.cadence + span, drug_code)
        if not orders:
            return None
        old, packages = orders[0].lines[drug_code]
        product = new[int(self.rng.integers(len(new)))]
        units = packages * old.package_size
        orders[0].lines[drug_code] = (product, max(1, round(units / product.package_size)))
        return drug_code, 1.0, item.cadence, [orders[0]]

    def _mix_shift(self, start: int, span: int) -> Planted | None:
        c2 = {c for c, f in self.catalogue.families.items() if f.is_schedule_ii}
        codes = {i.products[0].drug_code for i in self.ph.formulary}
        orders = self._regular(start, span)
        if not (codes & c2) or not (codes - c2) or not orders:
            return None
        factor = 1.5
        for o in orders:
            for code, (product, packages) in list(o.lines.items()):
                scale = factor if code in c2 else 0.2
                o.lines[code] = (product, max(1, round(packages * scale)))
        return None, factor, None, orders

    def _weekend_order(self, start: int, span: int) -> Planted | None:
        day = start + (5 - (start + 3) % 7) % 7 + int(self.rng.integers(2))  # Saturday or Sunday
        items = list(self.ph.formulary)
        self.rng.shuffle(items)  # type: ignore[arg-type]
        scale = self.ph.volume_on(day, self.opened)
        lines = {
            i.products[0].drug_code: line(self.rng, i, scale)
            for i in items[: 1 + int(self.rng.integers(2))]
        }
        order = Order(day, lines)
        self.orders.append(order)
        return None, 1.0, None, [order]

    def _slow_ramp(self, start: int, span: int) -> Planted | None:
        item = self._pick(self.ph.formulary)
        if item is None:
            return None
        drug_code = item.products[0].drug_code
        orders = self._regular(start, span, drug_code)[: int(self.rng.integers(8, 13))]
        if len(orders) < 4:
            return None
        factor = float(self.rng.uniform(2.5, 4.0))
        for i, o in enumerate(orders, start=1):
            product, packages = o.lines[drug_code]
            step = 1.0 + (factor - 1.0) * i / len(orders)
            o.lines[drug_code] = (product, max(1, round(packages * step)))
        return drug_code, factor, item.cadence, orders
