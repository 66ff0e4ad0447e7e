"""AS2 keys and certificates as files, and the settings that name them (as IT writes them)."""

from __future__ import annotations

from pathlib import Path

from csos_desktop.config import set_value
from csos_desktop.pki.as2_message import As2Party
from csos_desktop.sandbox.as2_parties import write_party


def as2_config(
    directory: Path,
    url: str,
    ours: As2Party,
    partner: As2Party,
    *,
    encrypt: bool = True,
    compress: bool = False,
) -> dict[str, str]:
    """The user settings of an AS2 connection (as `csos config set` writes them)."""
    key, cert = write_party(directory, "pharmacy", ours)
    _, partner_cert = write_party(directory, "distributor", partner)
    values = {
        "distributor_connection": "AS2",
        "as2_url": url,
        "as2_id": "PHARMACY",
        "as2_partner_id": "DISTRIBUTOR",
        "as2_partner_certificate": str(partner_cert),
        "as2_key": str(key),
        "as2_certificate": str(cert),
        "as2_encrypt": str(encrypt).lower(),
        "as2_compress": str(compress).lower(),
    }
    for k, v in values.items():
        set_value(k, v)
    return values
