"""The test CA's directory: its certificates and unencrypted keys, written once, read back.

`root.pem`, `chain.pem` (the issuing CA), `root-key.pem` / `ca-key.pem` (0600, never
overwritten) and a README saying these keys are for demos and tests only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.ca_certs import CaKey
from csos_desktop.sandbox.ca_errors import CaDirectoryExists, NotACaDirectory

FILES = ("root.pem", "chain.pem", "root-key.pem", "ca-key.pem", "state.json")
_README = """\
CSOS SANDBOX TEST CA -- FOR DEMOS AND TESTS ONLY.
The private keys here (root-key.pem, ca-key.pem) are NOT encrypted. Certificates issued
here are not DEA CSOS certificates: never sign a real controlled-substance order with one.
root.pem = trust anchor; chain.pem = issuing CA; state.json = issued, revoked, CRL numbers.
"""


@dataclass(frozen=True)
class CaMaterial:
    """The two CA certificates and their keys."""

    root_key: CaKey
    root: x509.Certificate
    ca_key: CaKey
    issuing: x509.Certificate


def refuse_existing(directory: Path) -> None:
    """CaDirectoryExists if *directory* already holds any CA file."""
    existing = [f for f in (*FILES, "README.txt") if (directory / f).exists()]
    if existing:
        raise CaDirectoryExists(
            f"{directory} already holds a test CA ({', '.join(existing)}); "
            "choose an empty directory or delete that one first"
        )


def write_ca_files(directory: Path, ca: CaMaterial) -> None:
    """Write the keys (0600, O_EXCL), certificates and README into *directory*."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for fname, key in (("root-key.pem", ca.root_key), ("ca-key.pem", ca.ca_key)):
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # O_EXCL: never clobber a key another process just wrote.
            fd = os.open(directory / fname, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        (directory / "root.pem").write_bytes(ca.root.public_bytes(serialization.Encoding.PEM))
        (directory / "chain.pem").write_bytes(ca.issuing.public_bytes(serialization.Encoding.PEM))
        (directory / "README.txt").write_text(_README, encoding="utf-8")
    except FileExistsError as exc:
        raise CaDirectoryExists(f"{directory} already holds a test CA") from exc
    except OSError as exc:
        raise InputError(f"cannot create the test CA in {directory}: {exc.strerror}") from exc


def read_ca_files(directory: Path) -> CaMaterial:
    """(root key, root, issuing CA key, issuing CA) from *directory*, checked to match."""
    if not directory.is_dir():
        raise NotACaDirectory(
            f"{directory} is not a directory; create a CA with `csos sandbox ca init --dir DIR`"
        )
    missing = [f for f in FILES if not (directory / f).is_file()]
    if missing:
        raise NotACaDirectory(
            f"{directory} is not a test CA directory (missing {', '.join(missing)})"
        )
    try:
        root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
        issuing = x509.load_pem_x509_certificate((directory / "chain.pem").read_bytes())
        keys = [
            serialization.load_pem_private_key((directory / f).read_bytes(), None)
            for f in ("root-key.pem", "ca-key.pem")
        ]
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise NotACaDirectory(f"the test CA files in {directory} are unreadable: {exc}") from exc
    root_key, ca_key = keys
    if not (
        isinstance(root_key, CaKey)
        and isinstance(ca_key, CaKey)
        and root_key.public_key() == root.public_key()
        and ca_key.public_key() == issuing.public_key()
    ):
        raise NotACaDirectory(f"the keys in {directory} do not match its certificates")
    return CaMaterial(root_key, root, ca_key, issuing)
