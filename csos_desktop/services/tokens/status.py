"""What the token and its certificate look like right now, read without a PIN.

The GUI polls this from its token thread (hot-plug) and shows it in the status
bar and on the Home screen; `csos cert show` prints the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from csos_desktop.config import load_config
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.expiry import ExpirySource, ExpiryWarning, expiry_warning

if TYPE_CHECKING:  # PKCS#11 loads when the token is read (the GUI: on its token thread)
    from csos_desktop.token.identity import SigningIdentity
    from csos_desktop.token.modules import DriverSetting
    from csos_desktop.token.slots import TokenInfo


@dataclass(frozen=True)
class CertificateStatus:
    """A CSOS certificate on the token, as the user needs to see it."""

    key_id: str
    subject: str
    issuer: str
    serial_number: int
    #: The DEA number the app knows (enrolment, settings), checked against the hash; None
    #: when it knows none.
    dea_number: str | None
    schedules: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    days_left: int
    dea_number_matches: bool | None = None

    #: Where it signs for: the subject's organisation and locality, else the registrant.
    location: str = ""

    @property
    def dea_label(self) -> str:
        """The DEA number when the app knows it (its hash matches), else "hash only"."""
        if self.dea_number is None:
            return "hash only (set `dea_number` in settings)"
        if not self.dea_number_matches:
            return f"hash only ({self.dea_number} does not match)"
        return f"{self.dea_number} (matches this certificate)"

    #: The 45-day warning: the certificate's or the DEA registration's end, whichever is first.
    warning: ExpiryWarning | None = None

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    @property
    def renewal_due(self) -> bool:
        from csos_desktop.token.identity import RENEWAL_WINDOW_DAYS

        return self.days_left <= RENEWAL_WINDOW_DAYS or self.warning is not None

    @property
    def registration_warning(self) -> ExpiryWarning | None:
        """The warning when it is the DEA registration, not the certificate, that ends first."""
        w = self.warning
        return w if w is not None and w.source is ExpirySource.REGISTRATION else None

    @classmethod
    def of(
        cls,
        identity: SigningIdentity,
        now: datetime,
        *candidates: str | None,
        registration_expiry: date | None = None,
    ) -> CertificateStatus:
        """*candidates*: DEA numbers at hand (the orders being signed, the signing user)."""
        from csos_desktop.enrol.known_dea import known_dea  # enrolment records: httpx
        from csos_desktop.services.signing.locations import location_name

        info = identity.info
        known = known_dea(identity, *candidates)
        return cls(
            key_id=identity.key_id.hex(),
            subject=info.subject,
            issuer=info.issuer,
            serial_number=info.serial_number,
            dea_number=known.number if known else None,
            dea_number_matches=known.matches if known else None,
            schedules=tuple(sorted(s.value for s in info.schedules)),
            not_before=info.not_before,
            not_after=info.not_after,
            days_left=identity.days_left(now),
            warning=expiry_warning(info.not_after, registration_expiry, now),
            location=location_name(identity),
        )


@dataclass(frozen=True)
class TokenStatus:
    """Driver, token and certificates; `problem` says why something is missing."""

    module: str | None
    token: TokenInfo | None
    certificates: tuple[CertificateStatus, ...]
    problem: str | None = None

    @property
    def present(self) -> bool:
        return self.token is not None

    @property
    def certificate(self) -> CertificateStatus | None:
        """The certificate that signs (the one expiring last when there are several)."""
        if not self.certificates:
            return None
        return max(self.certificates, key=lambda c: c.not_after)


def registration_expiry() -> date | None:
    """The DEA registration's expiry from settings (`dea_registration_expiry`), if set."""
    value = load_config().text("dea_registration_expiry")
    return date.fromisoformat(value) if value else None


def read_token_status(
    module: str | None = None,
    label: str | None = None,
    *,
    configured: DriverSetting | None = None,
    now: datetime | None = None,
) -> TokenStatus:
    """Read the first (or *label*) token and its CSOS certificates; never raises CsosError."""
    from csos_desktop.token.access import open_library
    from csos_desktop.token.certs import read_certificates
    from csos_desktop.token.identity import signing_identities
    from csos_desktop.token.session import TokenSession
    from csos_desktop.token.slots import describe, present_tokens

    now = now or datetime.now(UTC)
    try:
        choice, lib = open_library(module, configured)
    except CsosError as exc:
        return TokenStatus(None, None, (), exc.message)
    try:
        tokens = present_tokens(lib)
        if label is not None:
            tokens = [t for t in tokens if describe(t).label == label]
        if not tokens:
            return TokenStatus(choice.path, None, (), "No token inserted.")
        token = tokens[0]
        with TokenSession(token) as ts:
            ts.open_public()
            identities = signing_identities(read_certificates(ts))
        registration = registration_expiry()
        return TokenStatus(
            choice.path,
            describe(token),
            tuple(
                CertificateStatus.of(i, now, registration_expiry=registration) for i in identities
            ),
        )
    except CsosError as exc:
        return TokenStatus(choice.path, None, (), exc.message)


@dataclass(frozen=True)
class TokenListing:
    """The driver in use and every token it sees (for `csos token list` and the wizard)."""

    module_path: str
    module_source: str
    tokens: tuple[TokenInfo, ...]


def list_present_tokens(module: str | None, configured: DriverSetting | None) -> TokenListing:
    """Every inserted token the driver sees, without a PIN; a missing driver is a CsosError."""
    from csos_desktop.token.access import open_library
    from csos_desktop.token.slots import list_tokens

    choice, lib = open_library(module, configured)
    return TokenListing(choice.path, choice.source, tuple(list_tokens(lib)))


def installed_driver_paths() -> list[str]:
    """Paths of the PKCS#11 drivers known to be installed here (the Settings list)."""
    from csos_desktop.token.modules import installed_modules

    return [choice.path for choice in installed_modules()]
