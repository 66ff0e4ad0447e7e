"""From 45 days before expiry the holder is told to renew (21 CFR 1311.40); clock injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csos_desktop.domain.enrolment import parse_holder_reason, renewal_notice
from csos_desktop.domain.errors import InputError

EXPIRES = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)


def test_nothing_is_said_46_days_before_expiry() -> None:
    assert renewal_notice(EXPIRES, EXPIRES - timedelta(days=46)) is None


@pytest.mark.parametrize("days", [45, 30, 10, 1])
def test_renewal_is_due_within_45_days(days: int) -> None:
    text = renewal_notice(EXPIRES, EXPIRES - timedelta(days=days))
    assert text is not None
    assert f"({days} day(s) left)" in text and "csos enrol renew" in text
    assert "2027-06-30" in text


def test_an_expired_certificate_needs_new_codes_not_renewal() -> None:
    text = renewal_notice(EXPIRES, EXPIRES + timedelta(seconds=1))
    assert text is not None and "expired" in text and "new one-time codes" in text


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("keyCompromise", "keyCompromise"),
        ("key-compromise", "keyCompromise"),
        ("CESSATION_OF_OPERATION", "cessationOfOperation"),
    ],
)
def test_revocation_reasons_are_read_leniently(typed: str, name: str) -> None:
    assert parse_holder_reason(typed) == name


def test_ca_only_reasons_are_not_offered_to_holders() -> None:
    with pytest.raises(InputError, match="keyCompromise"):
        parse_holder_reason("cACompromise")
