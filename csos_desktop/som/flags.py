"""What SOM says about an order: flags (kind, code, severity, numbers, sentence) and a decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum


class FlagKind(Enum):
    """The three kinds of suspicious order named in 21 CFR 1301.74(b), and a line not judged.

    ``UNJUDGED`` is no finding about the order: a controlled line whose product nobody
    knows, which the pharmacist must justify like a warning rather than sign unseen.
    """

    SIZE = "size"
    FREQUENCY = "frequency"
    PATTERN = "pattern"
    UNJUDGED = "unjudged"


class FlagCode(Enum):
    """Which check raised a flag; each belongs to one kind."""

    ORDER_UNITS = "order-units"
    WINDOW_UNITS = "window-units"
    BURST = "burst"
    REORDER_PACE = "reorder-pace"
    NEW_FAMILY = "new-family"
    STRENGTH_FORM = "strength-form-change"
    SCHEDULE_II_SHARE = "schedule-ii-share"
    CADENCE = "cadence"
    PRODUCT_UNKNOWN = "product-unknown"

    @property
    def kind(self) -> FlagKind:
        return _KIND[self]


_KIND = {
    FlagCode.ORDER_UNITS: FlagKind.SIZE,
    FlagCode.WINDOW_UNITS: FlagKind.SIZE,
    FlagCode.BURST: FlagKind.FREQUENCY,
    FlagCode.REORDER_PACE: FlagKind.FREQUENCY,
    FlagCode.NEW_FAMILY: FlagKind.PATTERN,
    FlagCode.STRENGTH_FORM: FlagKind.PATTERN,
    FlagCode.SCHEDULE_II_SHARE: FlagKind.PATTERN,
    FlagCode.CADENCE: FlagKind.PATTERN,
    FlagCode.PRODUCT_UNKNOWN: FlagKind.UNJUDGED,
}

#: Bit of each kind in the compact ``kinds`` mask batch scoring returns.
KIND_BITS = {FlagKind.SIZE: 1, FlagKind.FREQUENCY: 2, FlagKind.PATTERN: 4}


class Severity(Enum):
    """How far a check goes: nothing, a warning, or holding the order for review."""

    OFF = "off"
    WARN = "warn"
    INTERCEPT = "intercept"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.OFF: 0, Severity.WARN: 1, Severity.INTERCEPT: 2}
SEVERITY_OF_RANK = {rank: severity for severity, rank in _RANK.items()}


class Decision(Enum):
    """The judgement on a whole order: the most severe of its flags."""

    OK = "ok"
    WARN = "warn"
    INTERCEPT = "intercept"


DECISION_OF_RANK = {0: Decision.OK, 1: Decision.WARN, 2: Decision.INTERCEPT}


def kinds_text(mask: int) -> str:
    """``size;pattern`` from a kinds mask, in the fixed order size, frequency, pattern."""
    return ";".join(kind.value for kind, bit in KIND_BITS.items() if mask & bit)


@dataclass(frozen=True)
class Flag:
    """One reason an order looks suspicious, with the numbers behind it and a sentence."""

    code: FlagCode
    severity: Severity
    drug_code: int | None
    figures: Mapping[str, float | str]
    explanation: str

    @property
    def kind(self) -> FlagKind:
        return self.code.kind

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "code": self.code.value,
            "severity": self.severity.value,
            "drug_code": self.drug_code,
            "figures": dict(self.figures),
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Assessment:
    """SOM's judgement on one order, as of a date, under one policy and customer class."""

    order_id: str
    purchaser_dea: str
    as_of: date
    customer_class: str
    policy_id: str
    decision: Decision
    flags: tuple[Flag, ...]
    #: Intercepted because warnings span the policy's number of kinds, none intercepting alone.
    escalated: bool = False

    @property
    def kinds(self) -> tuple[FlagKind, ...]:
        """The distinct kinds of the flags, in the order size, frequency, pattern."""
        present = {f.kind for f in self.flags}
        return tuple(k for k in FlagKind if k in present)

    @property
    def explanation(self) -> str:
        """All flag sentences, most severe first; empty when the order is ok."""
        sentences = [f.explanation for f in self.flags]
        if self.escalated:
            sentences.append(
                f"Held for review because its warnings span {len(self.kinds)} kinds"
                " (size, frequency, pattern); policy: that many kinds intercept."
            )
        return " ".join(sentences)

    def to_json(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "purchaser_dea": self.purchaser_dea,
            "as_of": self.as_of.isoformat(),
            "customer_class": self.customer_class,
            "policy_id": self.policy_id,
            "decision": self.decision.value,
            "escalated": self.escalated,
            "kinds": [k.value for k in self.kinds],
            "flags": [f.to_json() for f in self.flags],
        }
