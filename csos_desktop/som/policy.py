"""The SOM policy: thresholds per customer class, published by the distributor.

The document (schema ``csos-som-policy/1``, ``resources/schemas/som-policy-1.json``)
has a complete ``defaults`` block and, per customer class, only the values that
differ. The distributor and the client read the same document and run the same
code, so a local warning predicts the distributor's intercept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from csos_desktop.domain.errors import InputError
from csos_desktop.som.flags import Severity

SCHEMA = "csos-som-policy/1"


class PolicyInvalid(InputError):
    """A policy document that cannot be applied."""


@dataclass(frozen=True)
class HistoryRules:
    """How much history a baseline looks at, and when it counts as established."""

    lookback_days: int
    min_orders: int
    min_days: int
    max_baseline_orders: int


@dataclass(frozen=True)
class SizeRules:
    """Units of one order, and of the rolling window, against the baseline."""

    order_warn_multiplier: float
    order_intercept_multiplier: float | None
    spread_fence: float
    windows_days: tuple[int, ...]  # rolling windows, shortest first
    window_warn_multiplier: float
    window_intercept_multiplier: float | None
    thin_order_floor_units: float
    thin_window_floor_units: float

    @property
    def window_days(self) -> int:
        """The longest window (the one the thin-history floor is stated for)."""
        return self.windows_days[-1]


@dataclass(frozen=True)
class FrequencyRules:
    """Orders of a family in recent windows against the baseline rate (Poisson tail), and the
    pace of its last few orders against its usual gap between orders."""

    windows_days: tuple[int, ...]  # shortest first
    warn_multiplier: float
    intercept_multiplier: float | None
    warn_tail_probability: float
    intercept_tail_probability: float
    min_expected_orders: float
    thin_expected_orders: float
    gap_warn_multiplier: float | None = None
    gap_intercept_multiplier: float | None = None
    gap_max_orders: int = 6

    @property
    def window_days(self) -> int:
        """The longest window (expected counts are stated per this many days)."""
        return self.windows_days[-1]


@dataclass(frozen=True)
class PatternRules:
    """New families, strength/form changes, schedule II share of the mix, cadence."""

    new_family: Severity
    strength_form_change: Severity
    schedule_ii_window_days: int
    schedule_ii_min_points: float
    schedule_ii_warn_odds_ratio: float
    schedule_ii_intercept_odds_ratio: float | None
    cadence: Severity
    cadence_min_weekday_share: float


@dataclass(frozen=True)
class ClassPolicy:
    """Every threshold for one customer class (retail, long-term care, hospital, ...)."""

    name: str
    description: str
    history: HistoryRules
    size: SizeRules
    frequency: FrequencyRules
    pattern: PatternRules


@dataclass(frozen=True, eq=False)
class Policy:
    """A whole policy document, read and checked."""

    policy_id: str
    version: str
    default_class: str
    classes: tuple[ClassPolicy, ...]
    purchaser_classes: Mapping[str, str]
    intercept_when_warn_kinds: int | None

    def class_index(self, name: str) -> int:
        for i, c in enumerate(self.classes):
            if c.name == name:
                return i
        known = ", ".join(c.name for c in self.classes)
        raise PolicyInvalid(f"customer class {name!r} is not in the policy (it has {known})")

    def class_of(self, purchaser_dea: str, override: str | None = None) -> ClassPolicy:
        """The class the policy assigns this purchaser (or ``override``), else the default."""
        name = override or self.purchaser_classes.get(purchaser_dea, self.default_class)
        return self.classes[self.class_index(name)]

    def column(
        self, get: Callable[[ClassPolicy], float | None], class_idx: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        """One threshold per row, looked up by each row's class; None (never) becomes inf."""
        values = [get(c) for c in self.classes]
        table = np.asarray([np.inf if v is None else v for v in values], dtype=np.float64)
        return table[class_idx]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Policy:
        """Read a policy document; raise PolicyInvalid naming the first bad field."""
        if doc.get("schema") != SCHEMA:
            raise PolicyInvalid(f'a SOM policy must have "schema": "{SCHEMA}"')
        defaults = _mapping(doc.get("defaults"), "defaults")
        raw_classes = _mapping(doc.get("classes"), "classes")
        if not raw_classes:
            raise PolicyInvalid("a SOM policy needs at least one customer class")
        classes = tuple(
            _class_policy(str(name), _merged(defaults, _mapping(over, f"classes.{name}")))
            for name, over in raw_classes.items()
        )
        decision = _mapping(doc.get("decision", {}), "decision")
        policy = cls(
            policy_id=_text(doc, "policy_id"),
            version=_text(doc, "version"),
            default_class=_text(doc, "default_class"),
            classes=classes,
            purchaser_classes={
                str(k): str(v)
                for k, v in _mapping(doc.get("purchaser_classes", {}), "purchaser_classes").items()
            },
            intercept_when_warn_kinds=_optional_int(decision, "intercept_when_warn_kinds"),
        )
        for name in (policy.default_class, *policy.purchaser_classes.values()):
            policy.class_index(name)
        return policy


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyInvalid(f"policy field {path} must be an object")
    return value


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, section by section."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _text(m: Mapping[str, Any], key: str) -> str:
    value = m.get(key)
    if not isinstance(value, str) or not value:
        raise PolicyInvalid(f"policy field {key} must be a non-empty string")
    return value


def _optional_int(m: Mapping[str, Any], key: str) -> int | None:
    value = m.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PolicyInvalid(f"policy field {key} must be a positive integer or null")
    return value


class _Section:
    """Typed reads from one section of a class, naming the field path on error."""

    def __init__(self, cls_name: str, data: Mapping[str, Any], section: str) -> None:
        self.path = f"classes.{cls_name}.{section}"
        self.m = _mapping(data.get(section), self.path)

    def number(self, key: str, *, minimum: float = 0.0, integer: bool = False) -> float:
        value = self.m.get(key)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or value < minimum
            or (integer and value != int(value))
        ):
            kind = "an integer" if integer else "a number"
            raise PolicyInvalid(f"policy field {self.path}.{key} must be {kind} >= {minimum:g}")
        return float(value)

    def count(self, key: str, minimum: int = 0) -> int:
        return int(self.number(key, minimum=minimum, integer=True))

    def days(self, key: str) -> tuple[int, ...]:
        """One window length, or a list of them (sorted, shortest first)."""
        value = self.m.get(key)
        items = value if isinstance(value, list) else [value]
        if not items or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in items):
            raise PolicyInvalid(
                f"policy field {self.path}.{key} must be a whole number of days >= 1"
                " or a non-empty list of them"
            )
        return tuple(sorted(set(items)))

    def optional(self, key: str, minimum: float) -> float | None:
        return None if self.m.get(key, None) is None else self.number(key, minimum=minimum)

    def severity(self, key: str) -> Severity:
        try:
            return Severity(self.m.get(key))
        except ValueError:
            raise PolicyInvalid(
                f"policy field {self.path}.{key} must be one of off, warn, intercept"
            ) from None


def _class_policy(name: str, data: Mapping[str, Any]) -> ClassPolicy:
    h = _Section(name, data, "history")
    s = _Section(name, data, "size")
    f = _Section(name, data, "frequency")
    p = _Section(name, data, "pattern")
    history = HistoryRules(
        h.count("lookback_days", 30),
        h.count("min_orders", 1),
        h.count("min_days"),
        h.count("max_baseline_orders", 3),
    )
    if history.min_days > history.lookback_days:
        raise PolicyInvalid(f"policy class {name}: min_days must not exceed lookback_days")
    size = SizeRules(
        s.number("order_warn_multiplier", minimum=1),
        s.optional("order_intercept_multiplier", 1),
        s.number("spread_fence"),
        s.days("window_days"),
        s.number("window_warn_multiplier", minimum=1),
        s.optional("window_intercept_multiplier", 1),
        s.number("thin_order_floor_units"),
        s.number("thin_window_floor_units"),
    )
    frequency = FrequencyRules(
        f.days("window_days"),
        f.number("warn_multiplier", minimum=1),
        f.optional("intercept_multiplier", 1),
        f.number("warn_tail_probability"),
        f.number("intercept_tail_probability"),
        f.number("min_expected_orders"),
        f.number("thin_expected_orders"),
        f.optional("gap_warn_multiplier", 1),
        f.optional("gap_intercept_multiplier", 1),
        f.count("gap_max_orders", 3) if "gap_max_orders" in f.m else 6,
    )
    pattern = PatternRules(
        p.severity("new_family"),
        p.severity("strength_form_change"),
        p.count("schedule_ii_window_days", 1),
        p.number("schedule_ii_min_points"),
        p.number("schedule_ii_warn_odds_ratio", minimum=1),
        p.optional("schedule_ii_intercept_odds_ratio", 1),
        p.severity("cadence"),
        p.number("cadence_min_weekday_share"),
    )
    for section in (size, frequency):
        if section.window_days >= history.lookback_days:
            raise PolicyInvalid(f"policy class {name}: a window must be shorter than lookback_days")
    return ClassPolicy(name, str(data.get("description", "")), history, size, frequency, pattern)
