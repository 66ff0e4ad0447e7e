"""What is left of each order line: ordered, shipped, cancelled, voided, received, and the limit.

21 CFR 1305.22(e): a balance ships only within 60 days of the order's date; no
order is valid more than 60 days after the purchaser signed it. 1305.28: the
purchaser may cancel and the supplier may void all or part of an order.
1305.22(g): the purchaser records what was received — never more than was
shipped. Pure arithmetic; the store supplies the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from csos_desktop.domain.order import Order

#: 1305.22(e): an order is valid for 60 days after the purchaser signed it.
VALIDITY = timedelta(days=60)


@dataclass(frozen=True)
class Reported:
    """What the distributor last reported for one line."""

    shipped: int
    voided: int  # by the supplier (its own voids and the 60-day void)


@dataclass(frozen=True)
class LineBalance:
    """One line's numbers; ``shipped`` is None while the distributor has reported nothing."""

    line_no: int
    item_name: str
    ordered: int
    shipped: int | None
    cancelled: int
    supplier_voided: int
    expired: int  # unshipped balance void because 60 days passed
    received: int

    @property
    def open_balance(self) -> int:
        """Packages that may still ship."""
        shipped = self.shipped or 0
        return max(0, self.ordered - shipped - self.cancelled - self.supplier_voided - self.expired)

    @property
    def receivable(self) -> int:
        """Packages that may still be recorded as received.

        Once the distributor has reported the line, what it shipped; before that (goods
        can arrive before the next sync), what was ordered and not cancelled or voided.
        """
        if self.shipped is not None:
            ceiling = self.shipped
        else:
            ceiling = self.ordered - self.cancelled - self.supplier_voided - self.expired
        return max(0, ceiling - self.received)

    def to_json(self) -> dict[str, object]:
        return {
            "line_no": self.line_no,
            "ordered": self.ordered,
            "shipped": self.shipped,
            "cancelled": self.cancelled,
            "supplier_voided": self.supplier_voided,
            "void_after_60_days": self.expired,
            "received": self.received,
            "open_balance": self.open_balance,
            "receivable": self.receivable,
        }


def valid_until(date_signed: date) -> date:
    """The last day a balance of the order may ship (1305.22(e))."""
    return date_signed + VALIDITY


def is_expired(date_signed: date | None, today: date) -> bool:
    return date_signed is not None and today > valid_until(date_signed)


def line_balances(
    order: Order,
    *,
    reported: Mapping[int, Reported] | None,
    cancelled: Mapping[int, int],
    received: Mapping[int, int],
    today: date,
) -> tuple[LineBalance, ...]:
    """Each line's balance as of *today*; ``reported`` None: the distributor said nothing yet.

    After day 60 every unshipped package is void: when nothing was reported as
    shipped, nothing more can be received either.
    """
    expired_now = is_expired(order.date_signed, today)
    out = []
    for line in order.lines:
        rep = None if reported is None else reported.get(line.line_no, Reported(0, 0))
        shipped = None if rep is None else rep.shipped
        voided = 0 if rep is None else rep.voided
        gone = cancelled.get(line.line_no, 0)
        expired = 0
        if expired_now:
            expired = max(0, line.quantity - (shipped or 0) - gone - voided)
            if shipped is None:
                shipped = 0  # day 61 with no shipment on record: nothing left to receive
        out.append(
            LineBalance(
                line.line_no,
                line.item_name,
                line.quantity,
                shipped,
                gone,
                voided,
                expired,
                received.get(line.line_no, 0),
            )
        )
    return tuple(out)


def nothing_left(balances: tuple[LineBalance, ...]) -> bool:
    """Every package was cancelled or voided and none shipped: the order is over."""
    return all((b.shipped or 0) == 0 and b.open_balance == 0 for b in balances)
