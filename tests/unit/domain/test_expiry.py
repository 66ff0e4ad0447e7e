"""The 45-day warning, driven by the earlier of certificate and DEA registration; clock injected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.expiry import ExpirySource, expiry_warning

NOT_AFTER = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)


def test_nothing_until_45_days_before_the_certificate_ends() -> None:
    assert expiry_warning(NOT_AFTER, None, NOT_AFTER - timedelta(days=46)) is None
    warning = expiry_warning(NOT_AFTER, None, NOT_AFTER - timedelta(days=45))
    assert warning is not None and warning.source is ExpirySource.CERTIFICATE
    assert warning.days_left == 45 and "2027-06-30" in warning.message()
    assert "1311.40" in warning.message()


def test_an_earlier_registration_expiry_drives_the_warning() -> None:
    now = NOT_AFTER - timedelta(days=200)
    registration = (now + timedelta(days=30)).date()
    warning = expiry_warning(NOT_AFTER, registration, now)
    assert warning is not None and warning.source is ExpirySource.REGISTRATION
    assert warning.days_left == 30 and "DEA registration" in warning.message()
    assert expiry_warning(NOT_AFTER, date(2030, 1, 1), now) is None  # later: certificate counts


def test_an_ended_registration_says_signing_has_stopped() -> None:
    now = NOT_AFTER - timedelta(days=100)
    warning = expiry_warning(NOT_AFTER, (now - timedelta(days=1)).date(), now)
    assert warning is not None and warning.ended and "cannot be signed" in warning.message()
