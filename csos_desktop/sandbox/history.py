"""Synthetic order history for SOM: pharmacies, cadences, growth, seasons, holidays, anomalies.

Each pharmacy (retail, long-term care or hospital) orders on fixed weekdays
(e.g. Monday and Thursday) and has a formulary of drug families from the
synthetic catalogue. Each family has its own cadence — every 7, 14 or 28 days,
with a few days' jitter — and goes on the first scheduled order on or after it
is due. Volumes follow the business (between -5% and +30% a year, so up to +60%
over two years), a seasonal peak (winter for most, summer for some) and holiday
stocking (the order before Thanksgiving and Christmas is larger); a federal
holiday is skipped, or moved to the next business day by a weekly orderer. Some
pharmacies open part-way through, so their history is thin when they are
scored. After a warm-up, anomalies are planted and labelled
(:mod:`csos_desktop.sandbox.anomalies`). The same seed gives the same history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from csos_desktop.domain.catalogue import Catalogue, Product
from csos_desktop.domain.dea import expected_check_digit
from csos_desktop.sandbox.anomalies import (
    ANOMALIES,
    Anomaly,
    Item,
    Order,
    Pharmacy,
    PlantedAnomaly,
    Planter,
    business_day,
    line,
)
from csos_desktop.som.history import History, day_date, day_number

__all__ = [
    "ANOMALIES",
    "Anomaly",
    "GeneratorConfig",
    "PlantedAnomaly",
    "SyntheticHistory",
    "generate_history",
]

CLASS_SHARES = {"retail": 0.6, "long_term_care": 0.25, "hospital": 0.15}
# Families mostly bought by hospitals (injectables, anaesthesia); rare elsewhere.
HOSPITAL_FAMILIES = frozenset({9801, 9300, 9150, 2884, 7285, 9230, 9041, 2270, 2885})
CADENCES = (7, 14, 28)
_CADENCE_SHARES = (0.5, 0.3, 0.2)
_CLASS_VOLUME = {"retail": 1.0, "long_term_care": 1.8, "hospital": 2.5}
_FORMULARY_SIZE = {"retail": (6, 12), "long_term_care": (8, 14), "hospital": (10, 18)}
# Holidays before which pharmacies stock up (month, day of the holiday's week): Thanksgiving
# and Christmas, found by name in _holidays.
_STOCK_UP_DAYS = 7


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate; anomalies are planted only after ``warmup_days``.

    ``thin_share`` of the pharmacies open at a random day after the first, so
    their history is thin when their orders are judged.
    """

    seed: int = 7
    pharmacies: int = 100
    start: date = date(2023, 1, 2)
    days: int = 730
    warmup_days: int = 365
    anomalies_per_pharmacy: float = 1.5
    anomalies: Sequence[Anomaly] = ANOMALIES
    thin_share: float = 0.0


@dataclass(frozen=True, eq=False)
class SyntheticHistory:
    history: History
    customer_classes: dict[str, str]
    anomalies: tuple[PlantedAnomaly, ...]
    config: GeneratorConfig = field(default_factory=GeneratorConfig)


@dataclass(frozen=True)
class Calendar:
    """Federal holidays, and the days before which pharmacies stock up."""

    holidays: frozenset[int]
    stock_up: frozenset[int]  # the holidays themselves (Thanksgiving, Christmas)


def generate_history(catalogue: Catalogue, config: GeneratorConfig) -> SyntheticHistory:
    """A reproducible synthetic history for ``config.pharmacies`` pharmacies."""
    rng = np.random.default_rng(config.seed)
    first = day_number(config.start)
    last = first + config.days - 1
    calendar = _calendar(config.start.year, day_date(last).year)
    taken: set[str] = set()
    classes: dict[str, str] = {}
    planted: list[tuple[Anomaly, str, tuple[int | None, float, int | None, list[Order]]]] = []
    rows: list[tuple[str, int, str, Product, int]] = []
    for _ in range(config.pharmacies):
        ph = _pharmacy(rng, catalogue, _dea_number(rng, taken))
        classes[ph.dea] = ph.customer_class
        opens = first
        if rng.random() < config.thin_share:
            opens = first + int(rng.integers(0, max(1, config.days - 30)))
        orders = _normal_orders(rng, ph, _schedule(ph, opens, last, calendar.holidays), calendar)
        # Anomalies need an established customer: eight orders of a four-weekly family.
        earliest = max(first + config.warmup_days, opens + 240)
        planter = Planter(rng, catalogue, ph, orders, earliest, last, calendar.holidays)
        for _ in range(rng.poisson(config.anomalies_per_pharmacy)):
            kind = config.anomalies[int(rng.integers(len(config.anomalies)))]
            result = planter.plant(kind)
            if result is not None:
                planted.append((kind, ph.dea, result))
        rows.extend(_rows(ph, planter.orders))
    anomalies = tuple(
        PlantedAnomaly(i, kind.code, dea, drug, factor, *_span(touched), kind, cadence)
        for i, (kind, dea, (drug, factor, cadence, touched)) in enumerate(planted)
    )
    return SyntheticHistory(_history(rows), classes, anomalies, config)


def _span(orders: list[Order]) -> tuple[date, date, tuple[str, ...]]:
    """First and last day of an anomaly, and its order ids."""
    days = [o.day for o in orders]
    return day_date(min(days)), day_date(max(days)), tuple(o.order_id for o in orders)


def _dea_number(rng: np.random.Generator, taken: set[str]) -> str:
    """A pharmacy DEA number ('B') with a valid check digit; 'S' for synthetic."""
    while True:
        six = "".join(str(d) for d in rng.integers(0, 10, 6))
        dea = f"BS{six}{expected_check_digit(six)}"
        if dea not in taken:
            taken.add(dea)
            return dea


def _pharmacy(rng: np.random.Generator, catalogue: Catalogue, dea: str) -> Pharmacy:
    names = list(CLASS_SHARES)
    cls = names[int(rng.choice(len(names), p=list(CLASS_SHARES.values())))]
    if cls == "hospital":
        weekdays: tuple[int, ...] = (0, 2, 4)
    elif cls == "retail" and rng.random() < 0.6:
        weekdays = (0, 3)
    else:
        weekdays = (int(rng.integers(0, 5 if cls == "retail" else 3)),)
    codes = sorted(catalogue.families)
    hospital = np.asarray([c in HOSPITAL_FAMILIES for c in codes])
    weight = np.where(hospital, 3.0 if cls == "hospital" else 0.15, 1.0)
    lo, hi = _FORMULARY_SIZE[cls]
    size = int(rng.integers(lo, hi + 1))
    chosen = rng.choice(len(codes), size=size, replace=False, p=weight / weight.sum())
    volume = _CLASS_VOLUME[cls] * rng.lognormal(0.0, 0.5)
    formulary = []
    for i in sorted(chosen):
        products = list(catalogue.products_of(codes[i]))
        injectable = [p for p in products if "injection" in p.dosage_form]
        preferred = injectable if cls == "hospital" and injectable else products
        usual = preferred[int(rng.integers(len(preferred)))]
        # An alternate of the same kind of form, so its units are comparable (tablets with tablets).
        alternates = [p for p in preferred if p != usual and _form_kind(p) == _form_kind(usual)]
        picked = (usual, *(alternates[:1] if rng.random() < 0.3 else ()))
        cadence = int(rng.choice(CADENCES, p=_CADENCE_SHARES))
        # Units per order grow with the cadence: a 28-day family restocks four weeks at once.
        packages = np.clip(
            300 * volume * cadence / 7 * rng.lognormal(0.0, 0.4) / usual.package_size, 2, 160
        )
        units = float(packages * usual.package_size)
        formulary.append(Item(picked, cadence, units))
    season_peak = 5 if rng.random() < 0.75 else 196  # winter (early Jan) or summer (mid July)
    return Pharmacy(
        dea,
        cls,
        weekdays,
        tuple(formulary),
        float(rng.uniform(-0.05, 0.30)),
        float(rng.uniform(0.0, 0.25)),
        season_peak,
    )


def _form_kind(p: Product) -> str:
    """``injection``, ``tablet``, ``capsule``, ...: forms whose dosage units compare."""
    return "injection" if "injection" in p.dosage_form else p.dosage_form.split()[-1]


def _calendar(first_year: int, last_year: int) -> Calendar:
    """US federal holidays (observed dates not shifted; pharmacies close on the day)."""
    out: set[int] = set()
    stock_up: set[int] = set()
    for y in range(first_year, last_year + 1):

        def nth(month: int, weekday: int, n: int, y: int = y) -> date:
            d = date(y, month, 1)
            d += timedelta(days=(weekday - d.weekday()) % 7 + 7 * (n - 1))
            return d

        last_monday_may = nth(5, 0, 5) if nth(5, 0, 5).month == 5 else nth(5, 0, 4)
        fixed = [date(y, 1, 1), date(y, 6, 19), date(y, 7, 4), date(y, 11, 11), date(y, 12, 25)]
        moving = [
            nth(1, 0, 3),
            nth(2, 0, 3),
            last_monday_may,
            nth(9, 0, 1),
            nth(10, 0, 2),
            nth(11, 3, 4),
        ]
        out.update(day_number(d) for d in fixed + moving)
        stock_up.update((day_number(nth(11, 3, 4)), day_number(date(y, 12, 25))))
    return Calendar(frozenset(out), frozenset(stock_up))


def _schedule(ph: Pharmacy, first: int, last: int, holidays: frozenset[int]) -> list[int]:
    """Order days: scheduled weekdays; a holiday is skipped, or moved on by a weekly orderer."""
    days = []
    for day in range(first, last + 1):
        if (day + 3) % 7 not in ph.weekdays:
            continue
        if day in holidays:
            if len(ph.weekdays) > 1:
                continue
            while not business_day(day, holidays):
                day += 1
        days.append(day)
    return days


def _normal_orders(
    rng: np.random.Generator, ph: Pharmacy, days: list[int], calendar: Calendar
) -> list[Order]:
    """Each family goes on the first scheduled order on or after it is due."""
    orders = []
    due = [days[0] if days else 0] * len(ph.formulary)
    for day in days:
        lines = {}
        stocking = any(0 < h - day <= _STOCK_UP_DAYS for h in calendar.stock_up)
        scale = ph.volume_on(day, days[0]) * (float(rng.uniform(1.2, 1.5)) if stocking else 1.0)
        for j, item in enumerate(ph.formulary):
            if day >= due[j]:
                lines[item.products[0].drug_code] = line(rng, item, scale)
                jitter = int(np.clip(round(rng.normal(0.0, item.cadence / 10)), -3, 3))
                due[j] = day + item.cadence + jitter
        if lines:
            orders.append(Order(day, lines))
    return orders


def _rows(ph: Pharmacy, orders: list[Order]) -> list[tuple[str, int, str, Product, int]]:
    orders.sort(key=lambda o: o.day)
    rows = []
    per_day: dict[int, int] = {}
    for o in orders:
        n = per_day[o.day] = per_day.get(o.day, 0) + 1
        o.order_id = f"{ph.dea}-{day_date(o.day):%Y%m%d}-{n}"
        for product, packages in o.lines.values():
            rows.append((o.order_id, o.day, ph.dea, product, packages * product.package_size))
    return rows


def _history(rows: list[tuple[str, int, str, Product, int]]) -> History:
    rows.sort(key=lambda r: r[1])  # stable: an order's lines stay together
    order_ids: dict[str, int] = {}
    purchasers: dict[str, int] = {}
    variants: dict[str, int] = {}
    cols = np.empty((7, len(rows)), dtype=np.int64)
    for i, (oid, day, dea, product, units) in enumerate(rows):
        cols[:, i] = (
            order_ids.setdefault(oid, len(order_ids)),
            day,
            purchasers.setdefault(dea, len(purchasers)),
            product.drug_code,
            variants.setdefault(product.variant, len(variants)),
            int(product.ndc.digits),
            units,
        )
    day_, purchaser, drug_code, variant = (c.astype(np.int32) for c in cols[1:5])
    labels = tuple(order_ids), tuple(purchasers), tuple(variants)
    return History(cols[0], day_, purchaser, drug_code, variant, cols[5], cols[6], *labels)
