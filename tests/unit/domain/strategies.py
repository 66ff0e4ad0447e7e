"""Hypothesis strategies for domain values, and the settings the domain tests share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from csos_desktop.domain.dea import REGISTRANT_TYPES, DeaNumber, expected_check_digit
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.order import Address, Order, OrderLine, Party
from csos_desktop.domain.order_rules import US_STATE_CODES
from csos_desktop.domain.schedule import Schedule

#: Few examples and no example database: the unit suite stays fast and leaves no files.
FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_DIGIT = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def dea_numbers(draw: st.DrawFn) -> str:
    """Valid DEA numbers (any registrant type, second char a letter or 9)."""
    first = draw(st.sampled_from(sorted(REGISTRANT_TYPES)))
    second = draw(st.sampled_from(_UPPER + "9"))
    six = draw(st.text(_DIGIT, min_size=6, max_size=6))
    return f"{first}{second}{six}{expected_check_digit(six)}"


# Text the order accepts: not blank, no control characters (Cc) or surrogates (Cs).
texts = st.text(st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=20).filter(
    lambda s: s.strip() != ""
)

positive_ints = st.integers(min_value=1, max_value=2**53 - 1)


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    zip5 = draw(st.text(_DIGIT, min_size=5, max_size=5))
    plus4 = draw(st.one_of(st.just(""), st.text(_DIGIT, min_size=4, max_size=4).map("-{}".format)))
    return Address(
        street=draw(texts),
        city=draw(texts),
        state=draw(st.sampled_from(sorted(US_STATE_CODES))),
        postal_code=zip5 + plus4,
    )


@st.composite
def parties(draw: st.DrawFn) -> Party:
    return Party(draw(texts), draw(addresses()), DeaNumber(draw(dea_numbers())))


@st.composite
def order_lines(draw: st.DrawFn, line_no: int) -> OrderLine:
    return OrderLine(
        line_no=line_no,
        ndc=Ndc(draw(st.text(_DIGIT, min_size=11, max_size=11))),
        item_name=draw(texts),
        strength=draw(texts),
        dosage_form=draw(texts),
        package_size=draw(positive_ints),
        quantity=draw(positive_ints),
        schedule=draw(st.one_of(st.none(), st.sampled_from(list(Schedule)))),
    )


@st.composite
def orders(draw: st.DrawFn) -> Order:
    """Valid orders, signed or not."""
    numbers = draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=4, unique=True))
    created = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
    ).replace(microsecond=0, tzinfo=UTC)
    signed: date | None = draw(st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2099, 12, 31))))
    year = (signed or created).year
    suffix = draw(st.text(_DIGIT + _UPPER, min_size=6, max_size=6))
    return Order(
        order_id=str(draw(st.uuids())),
        order_number=f"{year % 100:02d}X{suffix}",
        created_at=created,
        purchaser=draw(parties()),
        supplier=draw(parties()),
        lines=tuple(draw(order_lines(n)) for n in numbers),
        date_signed=signed,
    )


#: Any JSON value (what a parsed document may hold), integers within JSON's exact range.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(st.characters(blacklist_categories=["Cs"]), max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=["Cs"]), max_size=8), children, max_size=4
        )
    ),
    max_leaves=12,
)

json_objects: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=8), json_values, max_size=6
)
