"""Where suspicious-order monitoring (21 CFR 1301.74(b)) intercepts an accepted order.

The distributor asks a :class:`SomPolicy` about each order that passed
verification. :class:`NoOpSomPolicy` says yes to everything and names itself
in every answer, so nobody mistakes it for monitoring; :class:`EngineSomPolicy`
runs the same engine as the client (``csos_desktop.som``) on the customer's
history, so a local warning predicts the distributor's intercept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from csos_desktop.domain.order import Order


@dataclass(frozen=True)
class HistoryItem:
    """One earlier order line of the customer (what SOM compares against)."""

    order_id: str
    order_date: date
    drug_code: int
    dosage_units: int
    variant: str
    ndc: str


@dataclass(frozen=True)
class SomVerdict:
    """The decision on one order: ``ok``, ``warn`` or ``intercept``, with the reasons."""

    policy: str
    decision: str
    explanation: str
    flags: tuple[Mapping[str, Any], ...] = field(default=())

    @property
    def intercepted(self) -> bool:
        return self.decision == "intercept"

    def to_json(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "decision": self.decision,
            "explanation": self.explanation,
            "flags": [dict(f) for f in self.flags],
        }


class SomPolicy(Protocol):
    """Judges an order that passed verification, before it is filled."""

    name: str

    def assess(
        self, order: Order, history: Sequence[HistoryItem], *, customer_class: str
    ) -> SomVerdict: ...


class NoOpSomPolicy:
    """Accepts every order: no suspicious-order monitoring at all (a placeholder)."""

    name = "no-op"

    def assess(
        self, order: Order, history: Sequence[HistoryItem], *, customer_class: str
    ) -> SomVerdict:
        return SomVerdict(
            self.name,
            "ok",
            "not monitored: the sandbox runs the no-op SOM policy (every order passes)",
        )


class EngineSomPolicy:
    """The SOM engine of ``csos_desktop.som`` with a published policy and catalogue."""

    def __init__(
        self, policy_document: Mapping[str, Any], catalogue_document: Mapping[str, Any]
    ) -> None:
        from csos_desktop.domain.catalogue import Catalogue
        from csos_desktop.som.policy import Policy

        self._policy = Policy.from_document(policy_document)
        self._catalogue = Catalogue.from_document(catalogue_document)
        self.name = f"engine:{self._policy.policy_id}@{self._policy.version}"

    def assess(
        self, order: Order, history: Sequence[HistoryItem], *, customer_class: str
    ) -> SomVerdict:
        from csos_desktop.som.evaluate import evaluate
        from csos_desktop.som.history import History, HistoryLine
        from csos_desktop.som.review import UnknownProduct, review_from_order

        try:
            review = review_from_order(order, self._catalogue)
        except UnknownProduct as exc:
            # A line outside the catalogue cannot be placed in a drug family. The
            # sandbox lets it through but says so, rather than pretending it was judged.
            return SomVerdict(self.name, "warn", f"not judged: {exc}")
        dea = order.purchaser.dea_number.value
        past = History.from_lines(
            HistoryLine(
                h.order_id, h.order_date, dea, h.drug_code, h.dosage_units, h.variant, h.ndc
            )
            for h in history
        )
        known = {c.name for c in self._policy.classes}
        assessment = evaluate(
            review,
            past,
            self._policy,
            self._catalogue.families,
            customer_class=customer_class if customer_class in known else None,
        )
        flags = tuple(f.to_json() for f in assessment.flags)
        text = assessment.explanation or "no deviation from the customer's history"
        return SomVerdict(self.name, assessment.decision.value, text, flags)


def default_policy(
    policy_document: Mapping[str, Any] | None, catalogue_document: Mapping[str, Any] | None
) -> SomPolicy:
    """The engine when a policy and a catalogue are published, else the no-op policy."""
    if not policy_document or not catalogue_document or not catalogue_document.get("products"):
        return NoOpSomPolicy()
    if "defaults" not in policy_document:
        return NoOpSomPolicy()
    return EngineSomPolicy(policy_document, catalogue_document)
