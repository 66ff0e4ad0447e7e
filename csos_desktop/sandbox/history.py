"""Synthetic order history for SOM: pharmacies, cadence, seasonality and planted anomalies.

Each pharmacy (retail, long-term care or hospital) has a formulary of drug
families from the synthetic catalogue, an ordering schedule (e.g. Monday and
Thursday), federal holidays (skipped, or moved to the next business day by a
weekly orderer), a winter peak and a slow trend. After a warm-up, anomalies of
each kind are planted and labelled: an oversized order, a burst of orders, a
new family, a new strength/form, a shift towards schedule II, an order on a
weekend. The same seed gives the same history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from csos_desktop.domain.catalogue import Catalogue, Product
from csos_desktop.domain.dea import expected_check_digit
from csos_desktop.som.flags import FlagCode
from csos_desktop.som.history import History, day_date, day_number

ANOMALY_CODES = (
    FlagCode.ORDER_UNITS,
    FlagCode.BURST,
    FlagCode.NEW_FAMILY,
    FlagCode.STRENGTH_FORM,
    FlagCode.SCHEDULE_II_SHARE,
    FlagCode.CADENCE,
)
CLASS_SHARES = {"retail": 0.6, "long_term_care": 0.25, "hospital": 0.15}
# Families mostly bought by hospitals (injectables, anaesthesia); rare elsewhere.
HOSPITAL_FAMILIES = frozenset({9801, 9300, 9150, 2884, 7285, 9230, 9041, 2270, 2885})
_CLASS_VOLUME = {"retail": 1.0, "long_term_care": 1.8, "hospital": 2.5}
_FORMULARY_SIZE = {"retail": (6, 12), "long_term_care": (8, 14), "hospital": (10, 18)}


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate; anomalies are planted only after ``warmup_days``."""

    seed: int = 7
    pharmacies: int = 100
    start: date = date(2023, 1, 2)
    days: int = 730
    warmup_days: int = 365
    anomalies_per_pharmacy: float = 1.5
    anomaly_codes: Sequence[FlagCode] = ANOMALY_CODES


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


@dataclass(frozen=True, eq=False)
class SyntheticHistory:
    history: History
    customer_classes: dict[str, str]
    anomalies: tuple[PlantedAnomaly, ...]
    config: GeneratorConfig = field(default_factory=GeneratorConfig)


@dataclass(frozen=True)
class _Item:
    products: tuple[Product, ...]  # the first is the usual one
    inclusion: float  # chance a scheduled order restocks this family
    units: float  # usual dosage units per order


@dataclass(frozen=True)
class _Pharmacy:
    dea: str
    customer_class: str
    weekdays: tuple[int, ...]  # Monday = 0
    formulary: tuple[_Item, ...]
    trend: float  # relative change in volume per year


@dataclass
class _Order:
    day: int
    lines: dict[int, tuple[Product, int]]  # drug code -> (product, packages)
    order_id: str = ""
    planted: bool = False


_Planted = tuple[int | None, float, list[_Order]]


def generate_history(catalogue: Catalogue, config: GeneratorConfig) -> SyntheticHistory:
    """A reproducible synthetic history for ``config.pharmacies`` pharmacies."""
    rng = np.random.default_rng(config.seed)
    first = day_number(config.start)
    last = first + config.days - 1
    holidays = _holidays(config.start.year, day_date(last).year)
    taken: set[str] = set()
    classes: dict[str, str] = {}
    planted: list[tuple[FlagCode, str, _Planted]] = []
    rows: list[tuple[str, int, str, Product, int]] = []
    for _ in range(config.pharmacies):
        ph = _pharmacy(rng, catalogue, _dea_number(rng, taken))
        classes[ph.dea] = ph.customer_class
        orders = _normal_orders(rng, ph, _schedule(ph, first, last, holidays))
        planter = _Planter(rng, catalogue, ph, orders, first + config.warmup_days, last, holidays)
        for _ in range(rng.poisson(config.anomalies_per_pharmacy)):
            code = config.anomaly_codes[int(rng.integers(len(config.anomaly_codes)))]
            result = planter.plant(code)
            if result is not None:
                planted.append((code, ph.dea, result))
        rows.extend(_rows(ph, planter.orders))
    anomalies = tuple(
        PlantedAnomaly(i, code, dea, drug, factor, *_span(touched))
        for i, (code, dea, (drug, factor, touched)) in enumerate(planted)
    )
    return SyntheticHistory(_history(rows), classes, anomalies, config)


def _span(orders: list[_Order]) -> tuple[date, date, tuple[str, ...]]:
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


def _pharmacy(rng: np.random.Generator, catalogue: Catalogue, dea: str) -> _Pharmacy:
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
        packages = np.clip(300 * volume * rng.lognormal(0.0, 0.4) / usual.package_size, 2, 40)
        units = float(packages * usual.package_size)
        formulary.append(_Item(picked, float(rng.uniform(0.5, 0.95)), units))
    return _Pharmacy(dea, cls, weekdays, tuple(formulary), float(rng.normal(0.03, 0.05)))


def _form_kind(p: Product) -> str:
    """``injection``, ``tablet``, ``capsule``, ...: forms whose dosage units compare."""
    return "injection" if "injection" in p.dosage_form else p.dosage_form.split()[-1]


def _holidays(first_year: int, last_year: int) -> frozenset[int]:
    """US federal holidays (observed dates not shifted; pharmacies close on the day)."""
    out: set[int] = set()
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
    return frozenset(out)


def _business_day(day: int, holidays: frozenset[int]) -> bool:
    return (day + 3) % 7 < 5 and day not in holidays


def _schedule(ph: _Pharmacy, first: int, last: int, holidays: frozenset[int]) -> list[int]:
    """Order days: scheduled weekdays; a holiday is skipped, or moved on by a weekly orderer."""
    days = []
    for day in range(first, last + 1):
        if (day + 3) % 7 not in ph.weekdays:
            continue
        if day in holidays:
            if len(ph.weekdays) > 1:
                continue
            while not _business_day(day, holidays):
                day += 1
        days.append(day)
    return days


def _normal_orders(rng: np.random.Generator, ph: _Pharmacy, days: list[int]) -> list[_Order]:
    orders = []
    for i, day in enumerate(days):
        season = 1.0 + 0.1 * np.cos(2 * np.pi * ((day - 5) % 365) / 365)  # winter peak
        trend = 1.0 + ph.trend * (day - days[0]) / 365
        lines = {}
        for item in ph.formulary:
            # The opening order stocks the whole formulary; later ones restock part of it.
            if i == 0 or rng.random() < item.inclusion:
                lines[item.products[0].drug_code] = _line(rng, item, season * trend)
        orders.append(_Order(day, lines))
    return orders


def _line(rng: np.random.Generator, item: _Item, scale: float = 1.0) -> tuple[Product, int]:
    product = item.products[0] if rng.random() < 0.8 else item.products[-1]
    units = item.units * scale * rng.lognormal(0.0, 0.2)
    return product, max(1, round(units / product.package_size))


def _rows(ph: _Pharmacy, orders: list[_Order]) -> list[tuple[str, int, str, Product, int]]:
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


class _Planter:
    """Plants anomalies into one pharmacy's orders, each clear of the others by 60 days."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalogue: Catalogue,
        ph: _Pharmacy,
        orders: list[_Order],
        earliest: int,
        last: int,
        holidays: frozenset[int],
    ) -> None:
        self.rng, self.catalogue, self.ph, self.orders = rng, catalogue, ph, orders
        self.earliest, self.last, self.holidays = earliest, last, holidays
        self.busy: list[tuple[int, int]] = []

    def plant(self, code: FlagCode) -> _Planted | None:
        span = 42 if code in (FlagCode.BURST, FlagCode.SCHEDULE_II_SHARE) else 14
        start = self._free_start(span)
        if start is None:
            return None
        methods: dict[FlagCode, Callable[[int, int], _Planted | None]] = {
            FlagCode.ORDER_UNITS: self._size,
            FlagCode.BURST: self._burst,
            FlagCode.NEW_FAMILY: self._new_family,
            FlagCode.STRENGTH_FORM: self._strength_form,
            FlagCode.SCHEDULE_II_SHARE: self._mix_shift,
            FlagCode.CADENCE: self._weekend_order,
        }
        result = methods[code](start, span)
        if result is not None:
            for o in result[2]:
                o.planted = True
            self.busy.append((start - span - 60, start + span + 60))
        return result

    def _free_start(self, span: int) -> int | None:
        for _ in range(20):
            start = int(self.rng.integers(self.earliest, max(self.earliest + 1, self.last - span)))
            if all(not (a <= start <= b) for a, b in self.busy):
                return start
        return None

    def _regular(self, start: int, span: int, drug_code: int | None = None) -> list[_Order]:
        return [
            o
            for o in self.orders
            if start <= o.day < start + span
            and not o.planted
            and (drug_code is None or drug_code in o.lines)
        ]

    def _pick(self, items: Sequence[_Item]) -> _Item | None:
        return items[int(self.rng.integers(len(items)))] if items else None

    def _size(self, start: int, span: int) -> _Planted | None:
        orders = [o for o in self._regular(start, span) if o.lines]
        if not orders:
            return None
        order = orders[0]
        drug_code = sorted(order.lines)[int(self.rng.integers(len(order.lines)))]
        factor = float(self.rng.uniform(3.0, 8.0))
        item = next(i for i in self.ph.formulary if i.products[0].drug_code == drug_code)
        product = order.lines[drug_code][0]
        # The factor is against the pharmacy's usual volume, not this order's own noise.
        units = factor * item.units * (1.0 + self.ph.trend * (order.day - self.orders[0].day) / 365)
        order.lines[drug_code] = (product, max(3, round(units / product.package_size)))
        return drug_code, factor, [order]

    def _burst(self, start: int, span: int) -> _Planted | None:
        item = self._pick([i for i in self.ph.formulary if i.inclusion >= 0.6])
        if item is None:
            return None
        drug_code = item.products[0].drug_code
        regular = self._regular(start, span, drug_code)
        scheduled = sum(1 for o in self.orders if start <= o.day < start + span)
        factor = float(self.rng.uniform(3.0, 5.0))
        # Extra orders bring the family's rate to `factor` times its usual rate; a
        # pharmacy that already orders most days places several orders a day.
        n_extra = round((factor - 1) * item.inclusion * scheduled)
        business = [d for d in range(start, start + span) if _business_day(d, self.holidays)]
        if n_extra == 0 or not business:
            return None
        extra_days = sorted(self.rng.choice(business, size=n_extra, replace=True).tolist())
        extras = [_Order(int(d), {drug_code: _line(self.rng, item)}) for d in extra_days]
        self.orders.extend(extras)
        return drug_code, factor, sorted(regular + extras, key=lambda o: o.day)

    def _new_family(self, start: int, span: int) -> _Planted | None:
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
        return drug_code, 1.0, [orders[0]]

    def _strength_form(self, start: int, span: int) -> _Planted | None:
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
        orders = self._regular(start, span, drug_code)
        if not orders:
            return None
        old, packages = orders[0].lines[drug_code]
        product = new[int(self.rng.integers(len(new)))]
        units = packages * old.package_size
        orders[0].lines[drug_code] = (product, max(1, round(units / product.package_size)))
        return drug_code, 1.0, [orders[0]]

    def _mix_shift(self, start: int, span: int) -> _Planted | None:
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
        return None, factor, orders

    def _weekend_order(self, start: int, span: int) -> _Planted | None:
        day = start + (5 - (start + 3) % 7) % 7 + int(self.rng.integers(2))  # Saturday or Sunday
        items = list(self.ph.formulary)
        self.rng.shuffle(items)  # type: ignore[arg-type]
        lines = dict(_keyed(self.rng, items[: 1 + int(self.rng.integers(2))]))
        order = _Order(day, lines)
        self.orders.append(order)
        return None, 1.0, [order]


def _keyed(
    rng: np.random.Generator, items: Sequence[_Item]
) -> list[tuple[int, tuple[Product, int]]]:
    return [(i.products[0].drug_code, _line(rng, i)) for i in items]
