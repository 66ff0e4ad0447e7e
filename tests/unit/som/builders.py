"""Hand-made histories with known answers, shared by the SOM tests."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from importlib import resources
from typing import Any

from csos_desktop.domain.catalogue import DrugFamily, bundled_catalogue
from csos_desktop.som.evaluate import evaluate
from csos_desktop.som.flags import Assessment, FlagCode
from csos_desktop.som.history import History, HistoryLine
from csos_desktop.som.policy import Policy
from csos_desktop.som.review import OrderUnderReview, ReviewLine

PHARMACY = "BS1234563"
START = date(2024, 1, 1)  # a Monday
OXY = 9143
ALPRAZOLAM = 2882
FENTANYL = 9801
FAMILIES: Mapping[int, DrugFamily] = bundled_catalogue().families
VARIANT = {OXY: "10 mg tablet", ALPRAZOLAM: "0.5 mg tablet", FENTANYL: "25 mcg/h transdermal patch"}


def policy_document() -> dict[str, Any]:
    """A fresh copy of the bundled default policy document (tests may change it)."""
    text = resources.files("csos_desktop").joinpath("resources/som/default-policy.json")
    return copy.deepcopy(json.loads(text.read_text(encoding="utf-8")))


def policy(**changes: Mapping[str, Any]) -> Policy:
    """The default policy with some default sections changed, e.g. size={...}."""
    doc = policy_document()
    for section, values in changes.items():
        doc["defaults"][section].update(values)
    return Policy.from_document(doc)


def weekly(
    weeks: int,
    units: Mapping[int, int] | None = None,
    *,
    start: date = START,
    dea: str = PHARMACY,
    every_days: int = 7,
    prefix: str = "h",
) -> list[HistoryLine]:
    """An order every ``every_days`` from ``start``: oxycodone 1,000 and alprazolam 500 units."""
    units = units or {OXY: 1000, ALPRAZOLAM: 500}
    return [
        HistoryLine(
            f"{prefix}{w}", start + timedelta(days=every_days * w), dea, code, n, VARIANT[code]
        )
        for w in range(weeks)
        for code, n in units.items()
    ]


def history(*parts: Iterable[HistoryLine]) -> History:
    return History.from_lines(line for part in parts for line in part)


def order(
    on: date, units: Mapping[int, int], *, dea: str = PHARMACY, variant: Mapping[int, str] = VARIANT
) -> OrderUnderReview:
    """An order of ``units`` per family, with the usual strength/form unless ``variant`` says."""
    lines = []
    for code, n in units.items():
        # "10 mg tablet" -> strength "10 mg", form "tablet"
        strength, form = " ".join(variant[code].split()[:2]), " ".join(variant[code].split()[2:])
        lines.append(ReviewLine(code, "99101001001", strength, form, n))
    return OrderUnderReview("new-order", dea, on, tuple(lines))


def judge(o: OrderUnderReview, h: History, p: Policy | None = None) -> Assessment:
    return evaluate(o, h, p or policy(), FAMILIES)


def codes(a: Assessment) -> set[FlagCode]:
    return {f.code for f in a.flags}


def after(weeks: int) -> date:
    """The day a weekly history of ``weeks`` orders would place its next order."""
    return START + timedelta(days=7 * weeks)
