"""Clock skew against the distributor, and whether it still allows signing.

21 CFR 1311.55(b)(8) requires the signing application's clock to be within
five minutes of official time; a larger skew makes the signing-time attribute
untrustworthy, so services must refuse to sign. We warn earlier, at two minutes.
"""

from __future__ import annotations

from datetime import timedelta

from csos_desktop.doctor.result import CheckResult, Status
from csos_desktop.pki.signing_rules import MAX_SKEW

WARN_SKEW = timedelta(minutes=2)


def _as_delta(skew: timedelta | float) -> timedelta:
    return skew if isinstance(skew, timedelta) else timedelta(seconds=skew)


def clock_skew_allows_signing(skew: timedelta | float) -> bool:
    """True when |skew| (timedelta or seconds) is within the five minutes 1311.55(b)(8) allows."""
    return abs(_as_delta(skew)) <= MAX_SKEW


def describe_skew(skew: timedelta | float) -> str:
    seconds = _as_delta(skew).total_seconds()
    direction = "behind" if seconds > 0 else "ahead of"
    if abs(seconds) < 1:
        return "in step with the distributor's clock (within a second)"
    return f"{abs(seconds):.0f} s {direction} the distributor's clock"


def skew_result(skew: timedelta | float, server: str) -> CheckResult:
    """The doctor's clock result for a measured skew (server time minus local time)."""
    delta = _as_delta(skew)
    details = {
        "skew_seconds": round(delta.total_seconds(), 1),
        "reference": server,
        "warn_above_seconds": WARN_SKEW.total_seconds(),
        "refuse_signing_above_seconds": MAX_SKEW.total_seconds(),
        "signing_allowed": clock_skew_allows_signing(delta),
    }
    text = f"This computer's clock is {describe_skew(delta)}"
    fix = (
        "Turn on automatic time synchronisation (Linux: `timedatectl set-ntp true`; "
        "Windows: Settings > Time > Sync now) and check the time zone."
    )
    if not clock_skew_allows_signing(delta):
        return CheckResult(
            "clock",
            "Clock",
            Status.ERROR,
            f"{text}: signing is refused while the clock is more than five "
            "minutes off (21 CFR 1311.55(b)(8)).",
            fix,
            details,
        )
    if abs(delta) > WARN_SKEW:
        return CheckResult(
            "clock",
            "Clock",
            Status.WARNING,
            f"{text}; signing stops above five minutes.",
            fix,
            details,
        )
    return CheckResult("clock", "Clock", Status.OK, f"{text}.", "", details)


def last_reading_result(last: dict[str, object] | None) -> CheckResult:
    """The last reading a time reference answered before signing (what signing relied on)."""
    fix = (
        "Signing measures the clock first against the NTP server (setting ntp_server, "
        "time.nist.gov by default), then the distributor's or CA's HTTPS Date."
    )
    if not last:
        return CheckResult(
            "clock_reference",
            "Clock reference",
            Status.SKIPPED,
            "No time reference has answered before a signature yet on this computer.",
            fix,
        )
    skew = float(str(last.get("skew_seconds", 0)))
    status = Status.OK if clock_skew_allows_signing(skew) else Status.ERROR
    return CheckResult(
        "clock_reference",
        "Clock reference",
        status,
        f"Last verified reading {last.get('at')}: "
        f"{describe_skew(skew).replace('distributor', 'reference')} ({last.get('reference')}).",
        "" if status is Status.OK else fix,
        dict(last),
    )
