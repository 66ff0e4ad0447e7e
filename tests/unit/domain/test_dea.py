"""DEA registration numbers: format, registrant type, check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csos_desktop.domain.dea import (
    REGISTRANT_TYPES,
    DeaNumber,
    DeaNumberInvalid,
    DeaRule,
    expected_check_digit,
    parse_dea_number,
)
from csos_desktop.domain.errors import InputError
from tests.unit.domain.strategies import FAST, dea_numbers


@pytest.mark.parametrize(
    "text",
    [
        "AB1234563",  # 1+3+5 + 2*(2+4+6) = 33
        "BJ6125341",  # 6+2+3 + 2*(1+5+4) = 31
        "RK0452716",  # 0+5+7 + 2*(4+2+1) = 26
        "MS1111119",  # mid-level practitioner: 3 + 2*3 = 9
        "F91234563",  # registered under a business address: 9 in second place
        "XA0000000",  # 0 + 0 = 0
    ],
)
def test_valid_dea_numbers_are_accepted(text: str) -> None:
    assert parse_dea_number(text).value == text


def test_dea_number_is_read_without_case_or_surrounding_spaces() -> None:
    assert parse_dea_number("  ab1234563\t") == DeaNumber("AB1234563")


def test_dea_number_error_is_an_input_error() -> None:
    with pytest.raises(InputError):
        parse_dea_number("AB1234564")


def test_check_digit_must_match_the_dea_formula() -> None:
    with pytest.raises(DeaNumberInvalid) as e:
        parse_dea_number("AB1234564")
    assert e.value.rule is DeaRule.CHECK_DIGIT
    assert str(e.value).startswith(
        "DEA number AB1234564: check digit should be 3, not 4 "
        "(digits 1+3+5 plus twice digits 2+4+6 must end in the last digit)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AB123456",
        "AB12345634",
        "A11234563",
        "1B1234563",
        "AB12345X3",
        "AB-1234563",
        "AB 1234563",
        "ÄB1234563",
        "AB１234563",
    ],
)
def test_dea_number_must_be_two_letters_and_seven_digits(text: str) -> None:
    with pytest.raises(DeaNumberInvalid) as e:
        parse_dea_number(text)
    assert e.value.rule is DeaRule.FORMAT
    assert "DEA number" in str(e.value)


def test_format_message_shows_an_example() -> None:
    with pytest.raises(DeaNumberInvalid, match=r"two letters .* seven digits, e\.g\. AB1234563"):
        parse_dea_number("AB12345")


@pytest.mark.parametrize("letter", ["C", "D", "E", "H", "N", "Z"])
def test_first_letter_must_be_a_dea_registrant_type(letter: str) -> None:
    number = f"{letter}B1234563"
    with pytest.raises(DeaNumberInvalid) as e:
        parse_dea_number(number)
    assert e.value.rule is DeaRule.REGISTRANT_TYPE
    assert f"the first letter {letter} is not a DEA registrant type" in str(e.value)
    assert "M (mid-level practitioner)" in str(e.value)


def test_registrant_type_names_say_who_holds_the_number() -> None:
    assert parse_dea_number("AB1234563").registrant_type == "A"
    assert "pharmacy" in parse_dea_number("AB1234563").registrant_type_name
    assert parse_dea_number("MS1111119").registrant_type_name == "mid-level practitioner"
    assert "distributor" in parse_dea_number("RK0452716").registrant_type_name
    assert "buprenorphine" in parse_dea_number("XA0000000").registrant_type_name


def test_dea_number_constructor_refuses_non_canonical_text() -> None:
    with pytest.raises(DeaNumberInvalid):
        DeaNumber("ab1234563")


@FAST
@given(dea_numbers())
def test_generated_valid_numbers_parse(number: str) -> None:
    dea = parse_dea_number(number)
    assert dea.registrant_type in REGISTRANT_TYPES


@FAST
@given(dea_numbers(), st.integers(1, 9))
def test_any_single_wrong_check_digit_is_caught(number: str, delta: int) -> None:
    wrong = number[:8] + str((int(number[8]) + delta) % 10)
    with pytest.raises(DeaNumberInvalid) as e:
        parse_dea_number(wrong)
    assert e.value.rule is DeaRule.CHECK_DIGIT


def test_expected_check_digit() -> None:
    assert expected_check_digit("123456") == 3
    assert expected_check_digit("612534") == 1
