"""The settings CSOS Desktop knows: name, type, default and how a value is checked.

Credentials are not settings: they live in the OS keyring, and a PIN is never
stored anywhere. Every setting here may be set (and locked) by the machine policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from urllib.parse import urlsplit

from csos_desktop.domain.errors import InputError

Value = str | int | bool


class SettingInvalid(InputError):
    """A configuration value cannot be used as given."""


class Kind(Enum):
    TEXT = "text"
    PATH = "path"
    URL = "url"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    DATE = "date"


@dataclass(frozen=True)
class Setting:
    key: str
    kind: Kind
    default: Value | None
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("distributor_url", Kind.URL, None, "HTTPS address of the distributor's CSOS API."),
    Setting(
        "pkcs11_module",
        Kind.PATH,
        None,
        "PKCS#11 driver of the token (default: detected from known vendor paths).",
    ),
    Setting(
        "ca_bundle",
        Kind.PATH,
        None,
        "PEM file of CA certificates trusted for the distributor's TLS "
        "(default: the system store).",
    ),
    Setting("token_label", Kind.TEXT, None, "Label of the token to use when several are inserted."),
    Setting(
        "rx_pharmacy_id",
        Kind.TEXT,
        None,
        "The pharmacy, at the distributor's endpoint, that receives signed prescriptions.",
    ),
    Setting(
        "trust_anchors",
        Kind.PATH,
        None,
        "PEM file or directory of the CA certificates signatures must chain to (the DEA "
        "E-Commerce Root CA and CSOS Sub CA); locked by IT, the user's store is ignored.",
    ),
    Setting(
        "time_zone",
        Kind.TEXT,
        None,
        "IANA time zone of the pharmacy (e.g. America/Chicago) for dates people read "
        "(default: the system's).",
    ),
    Setting(
        "ntp_server",
        Kind.TEXT,
        "time.nist.gov",
        "NTP server the clock is checked against first before signing (NIST's by default; "
        "HOST or HOST:PORT); when it does not answer, the HTTPS Date of the distributor or "
        "the CA.",
    ),
    Setting(
        "clock_unverifiable",
        Kind.CHOICE,
        "REFUSE",
        "When no time reference answers before signing: REFUSE (21 CFR 1311.55(b)(8)), or "
        "WARN and sign.",
        choices=("WARN", "REFUSE"),
    ),
    Setting(
        "dea_number",
        Kind.TEXT,
        None,
        "The registrant's DEA number, checked against the certificate's DEA-number hash "
        "(the certificate does not carry the number itself).",
    ),
    Setting(
        "log_level",
        Kind.CHOICE,
        "INFO",
        "Detail of the log file.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    Setting(
        "sync_interval_minutes",
        Kind.INTEGER,
        15,
        "How often order statuses are pulled from the distributor.",
        minimum=1,
        maximum=1440,
    ),
    Setting(
        "pin_min_length",
        Kind.INTEGER,
        6,
        "Shortest new token PIN accepted by `csos token change-pin` and unblock.",
        minimum=4,
        maximum=64,
    ),
    Setting(
        "allow_software_tokens",
        Kind.BOOLEAN,
        False,
        "Allow EPCS signing with a software token (SoftHSM2): testing only. Honoured from the "
        "machine policy only.",
    ),
    Setting(
        "allow_private_revocation_urls",
        Kind.BOOLEAN,
        False,
        "Fetch CRLs and OCSP answers from loopback, link-local and private addresses "
        "(a test CA on this machine or network). Honoured from the machine policy, or in a "
        "CSOS_HOME (demo, sandbox) configuration.",
    ),
    Setting(
        "dea_registration_expiry",
        Kind.DATE,
        None,
        "Expiry date (YYYY-MM-DD) of the DEA registration: CSOS certificates end with it, so "
        "the earlier of this and the certificate's expiry drives the 45-day warning.",
    ),
    Setting(
        "distributor_connection",
        Kind.CHOICE,
        "REST",
        "How signed orders reach the distributor: REST (its CSOS API) or AS2 (orders signed "
        "as X12 850 go in AS2 messages to as2_url; the API still carries the answers).",
        choices=("REST", "AS2"),
    ),
    Setting("as2_url", Kind.URL, None, "HTTPS address of the distributor's AS2 endpoint."),
    Setting("as2_id", Kind.TEXT, None, "This pharmacy's AS2 identifier (AS2-From)."),
    Setting("as2_partner_id", Kind.TEXT, None, "The distributor's AS2 identifier (AS2-To)."),
    Setting(
        "as2_partner_certificate",
        Kind.PATH,
        None,
        "PEM file of the distributor's AS2 certificate: its receipts must be signed by it, "
        "and messages are encrypted to it.",
    ),
    Setting(
        "as2_key",
        Kind.PATH,
        None,
        "PEM file of this pharmacy's AS2 RSA private key (unencrypted; readable by the "
        "pharmacy's account only). Not a CSOS key: never the DEA token's.",
    ),
    Setting("as2_certificate", Kind.PATH, None, "PEM file of this pharmacy's AS2 certificate."),
    Setting(
        "as2_encrypt",
        Kind.BOOLEAN,
        True,
        "Encrypt AS2 messages to the distributor's AS2 certificate (they are always signed, "
        "with a signed receipt asked for).",
    ),
    Setting(
        "as2_compress",
        Kind.BOOLEAN,
        False,
        "Compress AS2 messages (RFC 5402, zlib) before encrypting them.",
    ),
    Setting(
        "som_warnings",
        Kind.BOOLEAN,
        True,
        "Warn before signing an order the distributor's SOM policy would intercept.",
    ),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def setting(key: str) -> Setting:
    """The setting called *key*, or SettingInvalid listing the known keys."""
    found = BY_KEY.get(key)
    if found is None:
        raise SettingInvalid(f"Unknown setting {key!r}. Known settings: {', '.join(BY_KEY)}.")
    return found


def _check_url(s: Setting, value: str) -> str:
    parts = urlsplit(value)
    # Plain HTTP would send orders and bearer credentials unencrypted: refused outright.
    if parts.scheme != "https" or not parts.hostname:
        raise SettingInvalid(f"{s.key} must be an https:// address (got {redact_url(value)!r}).")
    if parts.username or parts.password:
        raise SettingInvalid(
            f"{s.key} must not contain a user name or password; credentials "
            "are kept in the system keyring."
        )
    return value.rstrip("/")


def redact_url(value: str) -> str:
    """*value* with any user:password@ part replaced, for messages."""
    parts = urlsplit(value)
    if parts.username is None and parts.password is None:
        return value
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"***@{host}").geturl()


def _check_text(s: Setting, value: str) -> str:
    if not value.strip():
        raise SettingInvalid(f"{s.key} must not be empty.")
    return value


def _check_choice(s: Setting, value: str) -> str:
    upper = value.upper()
    if upper not in s.choices:
        raise SettingInvalid(f"{s.key} must be one of {', '.join(s.choices)} (got {value!r}).")
    return upper


def _check_date(s: Setting, value: str) -> str:
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise SettingInvalid(f"{s.key} must be a date as YYYY-MM-DD (got {value!r}).") from None


_TEXT_CHECKS: dict[Kind, Callable[[Setting, str], str]] = {
    Kind.DATE: _check_date,
    Kind.URL: _check_url,
    Kind.TEXT: _check_text,
    Kind.PATH: _check_text,
    Kind.CHOICE: _check_choice,
}


def check_value(s: Setting, value: object) -> Value:
    """A value read from a TOML file, checked against *s*'s kind and bounds."""
    if s.kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise SettingInvalid(f"{s.key} must be true or false.")
        return value
    if s.kind is Kind.INTEGER:
        # bool is an int subclass; `true` is not a number of minutes.
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingInvalid(f"{s.key} must be a whole number.")
        if (s.minimum is not None and value < s.minimum) or (
            s.maximum is not None and value > s.maximum
        ):
            raise SettingInvalid(f"{s.key} must be between {s.minimum} and {s.maximum}.")
        return value
    if not isinstance(value, str):
        raise SettingInvalid(f"{s.key} must be a text value in quotes.")
    return _TEXT_CHECKS[s.kind](s, value)


def parse_text(s: Setting, text: str) -> Value:
    """A value typed on the command line (`csos config set KEY VALUE`)."""
    if s.kind is Kind.BOOLEAN:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise SettingInvalid(f"{s.key} must be true or false (got {text!r}).")
    if s.kind is Kind.INTEGER:
        try:
            return check_value(s, int(text.strip()))
        except ValueError:
            raise SettingInvalid(f"{s.key} must be a whole number (got {text!r}).") from None
    return check_value(s, text)
