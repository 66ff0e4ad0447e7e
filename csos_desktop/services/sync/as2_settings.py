"""The AS2 connection in force: from the configuration's ``as2_*`` settings to keys read.

A distributor connection is ``REST`` (its CSOS API) or ``AS2``; with AS2, orders signed
as X12 go in AS2 messages and the REST API still carries everything else. The AS2 key
and certificates are files named by the settings (they are not CSOS keys, and never
the DEA token's); each is read when a connection is built, with an error naming the
setting and the file when it cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop.domain.errors import InputError

if TYPE_CHECKING:
    from cryptography import x509

    from csos_desktop.config import EffectiveConfig
    from csos_desktop.pki.as2_message import As2Party
    from csos_desktop.sync.as2 import As2Connection

#: The settings an AS2 connection cannot do without.
REQUIRED = ("as2_url", "as2_id", "as2_partner_id", "as2_partner_certificate", "as2_key",
            "as2_certificate")  # fmt: skip


class As2NotConfigured(InputError):
    """The connection is AS2 but a setting is missing or names an unusable file."""


@dataclass(frozen=True)
class As2Settings:
    """What the configuration says about the AS2 connection (files not read yet)."""

    url: str
    as2_id: str
    partner_id: str
    partner_certificate: Path
    key: Path
    certificate: Path
    encrypt: bool = True
    compress: bool = False

    def party(self) -> As2Party:
        """Our AS2 key and certificate, read from their files."""
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        from csos_desktop.pki.as2_message import As2Party

        try:
            key = load_pem_private_key(self.key.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise As2NotConfigured(
                f"as2_key: {self.key} is not a readable unencrypted PEM private key ({exc})."
            ) from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise As2NotConfigured(f"as2_key: {self.key} must hold an RSA key.")
        return As2Party(key, _certificate("as2_certificate", self.certificate))

    def partner(self) -> x509.Certificate:
        return _certificate("as2_partner_certificate", self.partner_certificate)

    def connection(self, ca_bundle: Path | None) -> As2Connection:
        """The connection to send with; TLS trusts *ca_bundle* (the distributor's)."""
        from csos_desktop.sync.as2 import As2Connection

        return As2Connection(
            self.url,
            self.as2_id,
            self.partner_id,
            self.party(),
            self.partner(),
            encrypt=self.encrypt,
            compress=self.compress,
            ca_bundle=ca_bundle,
        )


def _certificate(setting: str, path: Path) -> x509.Certificate:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise As2NotConfigured(
            f"{setting}: {path} is not a readable PEM certificate ({exc})."
        ) from exc


def as2_settings(config: EffectiveConfig, *, always: bool = False) -> As2Settings | None:
    """The AS2 settings when ``distributor_connection`` is AS2 (or *always*: `csos as2
    serve` needs them whichever way orders go), else None; As2NotConfigured naming every
    missing setting when one is absent."""
    if config.text("distributor_connection") != "AS2" and not always:
        return None
    missing = [k for k in REQUIRED if not config.text(k)]
    if missing:
        raise As2NotConfigured(
            "the AS2 connection needs these settings, not set: "
            + ", ".join(missing)
            + " (`csos config set KEY VALUE`, docs/x12.md)."
        )

    def text(key: str) -> str:
        return str(config.text(key))

    return As2Settings(
        text("as2_url"),
        text("as2_id"),
        text("as2_partner_id"),
        Path(text("as2_partner_certificate")),
        Path(text("as2_key")),
        Path(text("as2_certificate")),
        encrypt=bool(config.get("as2_encrypt")),
        compress=bool(config.get("as2_compress")),
    )


def signs_as_x12() -> bool:
    """Whether orders are signed as X12 850 too: when they go to the distributor over AS2
    (only a signed 850 travels over AS2; the JSON order is signed in the same login)."""
    from csos_desktop.config import load_config

    return load_config().text("distributor_connection") == "AS2"
