"""The pharmacy's calendar: dates a person reads are in its local time zone.

Date signed, the order number's year, receipt dates and a prescription's date of
issue follow the wall calendar of the pharmacy (the system zone, or the
``time_zone`` setting); timestamps inside signatures (CMS signing-time) and the
audit log stay UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csos_desktop.config.effective import load_config
from csos_desktop.config.settings import SettingInvalid


def pharmacy_zone() -> tzinfo:
    """The ``time_zone`` setting, else the system's zone."""
    name = load_config().text("time_zone")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingInvalid(
                f"time_zone {name!r} is not an IANA time zone (e.g. America/Chicago)."
            ) from exc
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def local_date(moment: datetime) -> date:
    """The pharmacy's calendar day at *moment* (aware; naive is taken as UTC)."""
    return local_time(moment).date()


def local_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(pharmacy_zone())
