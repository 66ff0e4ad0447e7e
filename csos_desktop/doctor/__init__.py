"""`csos doctor`: checks an IT admin runs over the phone, each with a fix hint.

Services import :func:`clock_skew_allows_signing` from here; it is pure and cheap.
"""

from csos_desktop.doctor.clock import WARN_SKEW, clock_skew_allows_signing
from csos_desktop.doctor.result import CheckResult, DoctorReport, Status
from csos_desktop.pki.signing_rules import MAX_SKEW

__all__ = [
    "MAX_SKEW",
    "WARN_SKEW",
    "CheckResult",
    "DoctorReport",
    "Status",
    "clock_skew_allows_signing",
]
