"""When to warn that signing will stop: certificate or DEA registration, whichever ends first.

CSOS certificates end with the DEA registration they are issued for, and the
DEA's registration authority notifies subscribers 45 days before expiry; the
app warns from the same day (Home, tray, `csos doctor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

EXPIRY_WARNING_DAYS = 45


class ExpirySource(Enum):
    CERTIFICATE = "certificate"
    REGISTRATION = "registration"


@dataclass(frozen=True)
class ExpiryWarning:
    """What ends first, when, and how many whole days are left (negative: already ended)."""

    source: ExpirySource
    ends_on: date
    days_left: int

    @property
    def ended(self) -> bool:
        return self.days_left < 0

    def message(self) -> str:
        what = {
            ExpirySource.CERTIFICATE: "Your CSOS certificate",
            ExpirySource.REGISTRATION: "Your DEA registration (and with it the CSOS certificate)",
        }[self.source]
        if self.ended:
            return f"{what} ended on {self.ends_on:%Y-%m-%d}: orders cannot be signed."
        action = (
            "Renew it now (`csos enrol renew`, 21 CFR 1311.40)."
            if self.source is ExpirySource.CERTIFICATE
            else "Renew the registration with the DEA, then the certificate."
        )
        return f"{what} ends on {self.ends_on:%Y-%m-%d} ({self.days_left} day(s) left). {action}"


def expiry_warning(
    certificate_not_after: datetime,
    registration_expiry: date | None,
    now: datetime,
    window_days: int = EXPIRY_WARNING_DAYS,
) -> ExpiryWarning | None:
    """The warning due at *now*, or None while both dates are more than *window_days* away."""
    ends = [(certificate_not_after.date(), ExpirySource.CERTIFICATE)]
    if registration_expiry is not None:
        ends.append((registration_expiry, ExpirySource.REGISTRATION))
    ends_on, source = min(ends, key=lambda e: e[0])
    days_left = (ends_on - now.date()).days
    if days_left > window_days:
        return None
    return ExpiryWarning(source, ends_on, days_left)
