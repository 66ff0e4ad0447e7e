"""The order SOM judges: drug family, NDC, strength, form and dosage units per line.

Kept apart from the signed ``Order`` so the distributor can build one from its
own records; :func:`review_from_order` is the thin adapter for the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order
from csos_desktop.som.history import History, HistoryLine


class UnknownProduct(InputError):
    """A controlled line whose NDC the catalogue does not know, so its family is unknown."""


@dataclass(frozen=True)
class ReviewLine:
    """One controlled line: family, 11-digit NDC, strength, form and dosage units."""

    drug_code: int
    ndc: str
    strength: str
    dosage_form: str
    units: int

    @property
    def variant(self) -> str:
        return f"{self.strength} {self.dosage_form}"


@dataclass(frozen=True)
class OrderUnderReview:
    """An order as SOM sees it, judged as of ``as_of`` (the day it is to be signed)."""

    order_id: str
    purchaser_dea: str
    as_of: date
    lines: tuple[ReviewLine, ...]

    def as_history(self) -> History:
        """The order's lines as history rows (how it is scored and later remembered)."""
        return History.from_lines(
            HistoryLine(
                self.order_id,
                self.as_of,
                self.purchaser_dea,
                line.drug_code,
                line.units,
                line.variant,
                line.ndc,
            )
            for line in self.lines
        )


def review_from_order(
    order: Order, catalogue: Catalogue, *, as_of: date | None = None
) -> OrderUnderReview:
    """The controlled lines of ``order`` with their families from ``catalogue``.

    Dosage units are package size × number of packages. Lines with no schedule
    are not controlled and are left out; a controlled line whose NDC the
    catalogue lacks is an error, because SOM cannot judge a line it cannot place.
    """
    lines = []
    unknown = []
    for line in order.lines:
        product = catalogue.product(line.ndc.digits)
        if product is None:
            if line.schedule is not None:
                unknown.append(f"line {line.line_no} (NDC {line.ndc}, {line.item_name})")
            continue
        units = line.package_size * line.quantity
        lines.append(
            ReviewLine(
                product.drug_code, line.ndc.digits, product.strength, product.dosage_form, units
            )
        )
    if unknown:
        raise UnknownProduct(
            "the product catalogue has no drug family for "
            + "; ".join(unknown)
            + ". Update the catalogue from the distributor, or check the NDC."
        )
    day = as_of or order.date_signed or order.created_at.date()
    return OrderUnderReview(order.order_id, order.purchaser.dea_number.value, day, tuple(lines))
