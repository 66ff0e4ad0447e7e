"""National Drug Codes: every printed layout normalises to the 11-digit 5-4-2 form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.ndc import Ndc, NdcInvalid, parse_ndc
from tests.unit.domain.strategies import FAST


@pytest.mark.parametrize(
    ("printed", "digits"),
    [
        ("1234-5678-90", "01234567890"),  # 4-4-2: zero before the labeler
        ("12345-678-90", "12345067890"),  # 5-3-2: zero before the product
        ("12345-6789-0", "12345678900"),  # 5-4-1: zero before the package
        ("12345-6789-01", "12345678901"),  # 5-4-2: already the 11-digit form
        ("12345678901", "12345678901"),  # 11 digits without hyphens
        ("  0406-0552-01 ", "00406055201"),  # surrounding spaces trimmed
    ],
)
def test_ndc_is_normalised_to_eleven_digits(printed: str, digits: str) -> None:
    assert parse_ndc(printed).digits == digits


def test_formatted_ndc_is_5_4_2() -> None:
    assert parse_ndc("1234-5678-90").formatted == "01234-5678-90"
    assert str(Ndc("12345678901")) == "12345-6789-01"


def test_ten_digits_without_hyphens_are_ambiguous() -> None:
    with pytest.raises(NdcInvalid, match="write it with the hyphens as printed on the package"):
        parse_ndc("1234567890")


@pytest.mark.parametrize("text", ["12345-6789-0A", "12345/6789/01", "12345 6789 01", "NDC 12345"])
def test_ndc_with_other_characters_is_refused(text: str) -> None:
    with pytest.raises(NdcInvalid, match="only digits and hyphens"):
        parse_ndc(text)


def test_ndc_with_unicode_digits_is_refused() -> None:
    with pytest.raises(NdcInvalid, match="only digits and hyphens"):
        parse_ndc("١٢٣٤٥-٦٧٨٩-٠١")


@pytest.mark.parametrize(
    "text",
    [
        "123-4567-890",
        "12345-67-890",
        "1234-567-89",
        "12345-6789",
        "1-2-3-4",
        "12345--6789",
        "-12345-6789-01",
        "123456-789-01",
        "12345-6789-012",
    ],
)
def test_ndc_must_be_laid_out_4_4_2_or_5_3_2_or_5_4_1_or_5_4_2(text: str) -> None:
    with pytest.raises(NdcInvalid, match=r"4-4-2, 5-3-2, 5-4-1 or 5-4-2"):
        parse_ndc(text)


@pytest.mark.parametrize("text", ["123456789", "123456789012", "1"])
def test_ndc_of_the_wrong_length_is_refused(text: str) -> None:
    with pytest.raises(NdcInvalid, match=f"has {len(text)} digits"):
        parse_ndc(text)


def test_empty_ndc_is_refused() -> None:
    with pytest.raises(NdcInvalid, match="no NDC given"):
        parse_ndc("   ")


def test_ndc_error_is_an_input_error() -> None:
    with pytest.raises(InputError):
        parse_ndc("x")


@pytest.mark.parametrize("digits", ["1234567890", "123456789012", "1234567890a", "٠١٢٣٤٥٦٧٨٩٠"])
def test_ndc_value_holds_exactly_eleven_ascii_digits(digits: str) -> None:
    with pytest.raises(NdcInvalid):
        Ndc(digits)


@FAST
@given(st.text(max_size=16))
def test_parse_ndc_raises_only_ndc_invalid(text: str) -> None:
    try:
        ndc = parse_ndc(text)
    except NdcInvalid:
        return
    assert len(ndc.digits) == 11
    assert parse_ndc(ndc.formatted) == ndc


@FAST
@given(st.sampled_from([(4, 4, 2), (5, 3, 2), (5, 4, 1)]), st.data())
def test_every_ten_digit_layout_round_trips(
    layout: tuple[int, int, int], data: st.DataObject
) -> None:
    segments = [data.draw(st.text("0123456789", min_size=n, max_size=n)) for n in layout]
    ndc = parse_ndc("-".join(segments))
    padded = [s.zfill(n) for s, n in zip(segments, (5, 4, 2), strict=True)]
    assert ndc.formatted == "-".join(padded)
