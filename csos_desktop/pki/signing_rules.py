"""What must hold before a PIN is asked for any signature (orders, receipts, prescriptions,
grant approvals): one place for the purchaser-side rules, pure (the measurements are
made by :mod:`csos_desktop.services.signing.pki_checks`).

- Clock (21 CFR 1311.55(b)(8)): within five minutes of the reference time, else refuse
  with the measured skew; reference unreachable: sign with a warning, unless the
  machine policy says refuse.
- Chain: the certificate must chain to a configured trust anchor, else refuse naming
  the missing anchor.
- Revocation: revoked refuses with the date and reason; unknown (CA unreachable or
  offline) signs with a visible warning, because the supplier checks again and
  rejects what is revoked (1305.22(c)(3)); expired or not yet valid refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from csos_desktop.pki.chain import ChainResult, ChainStatus

MAX_SKEW = timedelta(minutes=5)


class Decision(Enum):
    SIGN = "sign"
    WARN = "sign-with-warning"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Ruling:
    decision: Decision
    message: str = ""


@dataclass(frozen=True)
class ClockReading:
    """Reference time minus local time, or why no reference answered."""

    reference: str
    skew: timedelta | None
    problem: str | None = None


def judge_clock(reading: ClockReading, *, refuse_unverified: bool) -> Ruling:
    if reading.skew is None:
        text = (
            f"the clock could not be checked against {reading.reference} ({reading.problem}); "
            "21 CFR 1311.55(b)(8) requires it within five minutes of official time"
        )
        if refuse_unverified:
            text += (
                ". Check the network to the NTP server (setting ntp_server), or have IT set "
                'clock_unverifiable = "WARN" in the machine policy to sign with a warning '
                "when no reference answers"
            )
        return Ruling(Decision.REFUSE if refuse_unverified else Decision.WARN, text)
    seconds = reading.skew.total_seconds()
    if abs(reading.skew) > MAX_SKEW:
        direction = "behind" if seconds > 0 else "ahead of"
        return Ruling(
            Decision.REFUSE,
            f"this computer's clock is {abs(seconds) / 60:.1f} minutes {direction} "
            f"{reading.reference}; signing is refused above five minutes (21 CFR "
            "1311.55(b)(8)). Set the clock (turn on automatic time) and try again",
        )
    return Ruling(Decision.SIGN)


def judge_chain(result: ChainResult, missing_anchor: str | None) -> Ruling:
    """The purchaser's rule on its own certificate's path at signing time;
    *missing_anchor*: the CA the path ends at when no configured anchor issued it."""
    status = result.status
    if status is ChainStatus.VALID:
        return Ruling(Decision.SIGN)
    if status is ChainStatus.REVOCATION_UNKNOWN:
        return Ruling(
            Decision.WARN,
            "revocation of your certificate could not be checked (no current CRL or OCSP "
            "answer could be had); signing anyway, the supplier checks it on receipt",
        )
    if status is ChainStatus.REVOKED:
        when = f"{result.revocation_date:%Y-%m-%d %H:%M} UTC" if result.revocation_date else "?"
        reason = str(result.revocation_reason or "unspecified").replace("_", " ")
        return Ruling(
            Decision.REFUSE,
            f"your certificate was revoked on {when} (reason: {reason}); nothing signed with it "
            "would be accepted. Enrol for a new certificate",
        )
    if status is ChainStatus.UNTRUSTED:
        missing = f"the anchor missing is {missing_anchor}" if missing_anchor else result.message
        return Ruling(
            Decision.REFUSE,
            f"your certificate does not chain to a configured trust anchor ({missing}). "
            "Install that CA certificate with `csos trust add FILE` (IT: the `trust_anchors` "
            "policy setting)",
        )
    return Ruling(Decision.REFUSE, f"your certificate cannot sign now: {result.message}")
