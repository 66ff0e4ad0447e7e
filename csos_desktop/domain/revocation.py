"""Whether a certificate is revoked: the verdict and where it came from (pure values).

``enrol.status`` asks the CA's CRL/OCSP and fills these in; the GUI and CLI show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class RevocationState(Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    UNTRUSTED = "untrusted"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class RevocationStatus:
    """The verdict and where it came from."""

    state: RevocationState
    message: str
    reason: str | None = None
    date: datetime | None = None
    sources: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.state.value,
            "message": self.message,
            "reason": self.reason,
            "date": self.date.isoformat() if self.date else None,
            "sources": list(self.sources),
        }
