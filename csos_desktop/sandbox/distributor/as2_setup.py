"""The sandbox distributor's AS2 endpoint from its command line (`--as2-partner`).

Its own AS2 key and certificate are made once in ``<ca dir>/as2/`` (a file key and a
self-signed certificate, as AS2 partners exchange them) and printed, for the pharmacy's
``as2_partner_certificate``. Each partner is ``AS2_ID=DEA,CERT.pem[,URL]``: the customer
with that DEA number, its AS2 certificate, and its AS2 endpoint for the 997, 855 and 856
(without one they go by the REST feed only).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import Engine

from csos_desktop.domain.errors import InputError
from csos_desktop.pki.as2_message import As2Party
from csos_desktop.sandbox.as2_parties import self_signed_party, write_party
from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint, As2Partner
from csos_desktop.sandbox.distributor.customers import customer_by_dea


def own_party(directory: Path) -> tuple[As2Party, Path]:
    """The distributor's AS2 key and certificate in *directory* (made on first use), and the
    certificate file to give partners."""
    key_file, cert_file = directory / "distributor-key.pem", directory / "distributor.pem"
    if not (key_file.exists() and cert_file.exists()):
        party = self_signed_party("CSOS sandbox distributor AS2", datetime.now(UTC), days=365)
        write_party(directory, "distributor", party)
        return party, cert_file
    key = load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(f"{key_file} must hold an RSA key")
    return As2Party(key, x509.load_pem_x509_certificate(cert_file.read_bytes())), cert_file


def partner_of(engine: Engine, spec: str) -> As2Partner:
    """``AS2_ID=DEA,CERT.pem[,URL]`` as a partner; InputError saying what is wrong."""
    as2_id, sep, rest = spec.partition("=")
    parts = rest.split(",", 2)
    if not sep or not as2_id.strip() or len(parts) < 2:
        raise InputError(f"--as2-partner {spec!r}: give AS2_ID=DEA,CERT.pem[,URL]")
    dea, cert_path = parts[0].strip(), Path(parts[1].strip())
    customer = customer_by_dea(engine, dea)
    if customer is None:
        raise InputError(f"--as2-partner: no customer with DEA number {dea} (add it first)")
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError(f"--as2-partner: {cert_path} is not a PEM certificate ({exc})") from exc
    url = parts[2].strip() if len(parts) == 3 else None
    return As2Partner(customer, certificate, as2_id.strip(), url or None)


def as2_endpoint(
    engine: Engine, directory: Path, as2_id: str, partners: Iterable[str]
) -> tuple[As2Endpoint, Path]:
    """The endpoint answering at ``/as2``, and our certificate file."""
    ours, cert_file = own_party(directory)
    found = {p.as2_id: p for p in (partner_of(engine, spec) for spec in partners)}
    return As2Endpoint(ours, as2_id, found), cert_file
