"""The DEA number the app knows for a certificate, which carries only its hash.

From, in order: numbers at hand (the orders being signed, the signing user's record),
the number remembered at enrolment, the ``dea_number`` setting. A number whose hash
matches wins over one that does not, which is shown as "does not match".
"""

from __future__ import annotations

from dataclasses import dataclass

from csos_desktop.config import load_config
from csos_desktop.enrol.records import Records
from csos_desktop.token.identity import SigningIdentity


@dataclass(frozen=True)
class KnownDea:
    """The DEA number the app knows for a certificate, and whether its hash matches."""

    number: str
    matches: bool

    @property
    def label(self) -> str:
        verdict = "matches this certificate" if self.matches else "does not match"
        return f"{self.number} ({verdict})"


def known_dea(identity: SigningIdentity, *candidates: str | None) -> KnownDea | None:
    remembered = Records().known_dea(identity.certificate_der)
    configured = load_config().text("dea_number")
    known = [c.strip().upper() for c in (*candidates, remembered, configured) if c]
    for number in known:
        if identity.info.matches_dea(number):
            return KnownDea(number, True)
    return KnownDea(known[0], False) if known else None
