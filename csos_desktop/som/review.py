"""The order SOM judges: drug family, NDC, strength, form and dosage units per line.

Kept apart from the signed ``Order`` so the distributor can build one from its
own records; :func:`review_from_order` is the thin adapter for the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from csos_desktop.domain.catalogue import Catalogue, DrugFamily
from csos_desktop.domain.dea_codes import DEA_CODES, code_of_product
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order, OrderLine
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
        if not self.strength and not self.dosage_form:
            return ""  # unknown, as a history row synced without a catalogue has it
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


@dataclass(frozen=True)
class UnplacedLine:
    """A controlled line whose drug family nothing knows: SOM cannot judge it."""

    line_no: int
    ndc: str
    item_name: str

    def describe(self) -> str:
        return f"line {self.line_no} (NDC {self.ndc}, {self.item_name})"


@dataclass(frozen=True)
class PlacedOrder:
    """The order as SOM sees it, the controlled lines it could not place, and the families
    of every placed line (the catalogue's, and those the history or the DEA table named)."""

    review: OrderUnderReview
    unplaced: tuple[UnplacedLine, ...]
    families: Mapping[int, DrugFamily]


def place_order(
    order: Order,
    catalogue: Catalogue,
    *,
    known_codes: Mapping[str, tuple[int, str]] | None = None,
    as_of: date | None = None,
) -> PlacedOrder:
    """Each controlled line's drug family from the first that knows it: the catalogue, the
    distributor's history rows for its NDC (``known_codes``: 11-digit NDC -> drug code and
    the strength/form the history knows it by, so the line compares with its own rows),
    then the DEA code table by the ingredient its item name starts with.

    Dosage units are package size × number of packages. Lines with no schedule are not
    controlled and are left out; controlled lines none of the three places are returned
    in ``unplaced``, never dropped silently.
    """
    known = known_codes or {}
    families = dict(catalogue.families)
    lines: list[ReviewLine] = []
    unplaced: list[UnplacedLine] = []
    for line in order.lines:
        placed = _place(line, catalogue, known, families)
        if placed is not None:
            lines.append(placed)
        elif line.schedule is not None:
            unplaced.append(UnplacedLine(line.line_no, str(line.ndc), line.item_name))
    day = as_of or order.date_signed or order.created_at.date()
    review = OrderUnderReview(order.order_id, order.purchaser.dea_number.value, day, tuple(lines))
    return PlacedOrder(review, tuple(unplaced), families)


def _place(
    line: OrderLine,
    catalogue: Catalogue,
    known: Mapping[str, tuple[int, str]],
    families: dict[int, DrugFamily],
) -> ReviewLine | None:
    units = line.package_size * line.quantity
    product = catalogue.product(line.ndc.digits)
    if product is not None:
        return ReviewLine(
            product.drug_code, line.ndc.digits, product.strength, product.dosage_form, units
        )
    if line.schedule is None:
        return None
    strength, form = line.strength, line.dosage_form
    if line.ndc.digits in known:
        code, variant = known[line.ndc.digits]
        # The history's own label (empty when its sync had no catalogue): no false change.
        strength, _, form = variant.partition(" ") if variant else ("", "", "")
    else:
        found = code_of_product([line.item_name], line.schedule)
        if found is None:
            return None
        code = found
    if code not in families:
        listed = DEA_CODES.get(code)
        families[code] = (
            DrugFamily(code, listed.name, listed.schedule)
            if listed
            else DrugFamily(code, f"Drug code {code}", line.schedule)
        )
    return ReviewLine(code, line.ndc.digits, strength, form, units)


def review_from_order(
    order: Order, catalogue: Catalogue, *, as_of: date | None = None
) -> OrderUnderReview:
    """The controlled lines of ``order``, placed as :func:`place_order` does without history.

    A controlled line that cannot be placed is an error here, because SOM cannot judge a
    line it cannot place (the client's gate reports such lines instead: ``place_order``).
    """
    placed = place_order(order, catalogue, as_of=as_of)
    if placed.unplaced:
        raise UnknownProduct(
            "the product catalogue has no drug family for "
            + "; ".join(u.describe() for u in placed.unplaced)
            + ". Update the catalogue from the distributor, or check the NDC."
        )
    return placed.review
