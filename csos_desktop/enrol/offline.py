"""The offline path: export a CSR made on the token, later import the certificate the CA sent.

For CAs reached by a web form or e-mail instead of EST. The key stays pending
(``csos-pending-<date>``) until its certificate is imported; the import finds
the key by its public key, so it works on whichever token holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.enrol.est_client import ApplicationData
from csos_desktop.enrol.flow import Enrolled, check_issued, finish, request_for
from csos_desktop.enrol.records import PendingEnrolment, Records
from csos_desktop.enrol.token_keys import key_for_certificate, pending_label
from csos_desktop.pki.profile import NotACsosCertificate, read_csos_profile
from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm, generate_keypair
from csos_desktop.token.session import TokenSession


@dataclass(frozen=True)
class ExportedRequest:
    key: GeneratedKey
    csr_der: bytes


def export_request(
    ts: TokenSession,
    name: str,
    *,
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048,
    records: Records | None = None,
    clock: Clock = utc_now,
) -> ExportedRequest:
    """Generate a pending key pair and a CSR for it (logged-in read-write session)."""
    name = name.strip()
    if not name:
        raise InputError("Give the registrant's name as the CA has it (--name).")
    now = clock()
    key = generate_keypair(ts, algorithm, pending_label(now))
    (records or Records()).save_pending(
        f"offline:{key.key_id.hex()}", PendingEnrolment(key.key_id, key.label, now)
    )
    return ExportedRequest(key, request_for(ts, key, name))


def read_certificate_file(data: bytes) -> list[bytes]:
    """DER certificates from PEM (certificates or PKCS#7), DER certificate or DER PKCS#7."""
    try:
        if pem.detect(data):
            out = []
            for kind, _, der in pem.unarmor(data, multiple=True):
                if kind == "CERTIFICATE":
                    out.append(der)
                elif kind in ("PKCS7", "CMS"):
                    out += [
                        c.public_bytes(Encoding.DER) for c in pkcs7.load_der_pkcs7_certificates(der)
                    ]
            if out:
                return [bytes(asn1_x509.Certificate.load(d, strict=True).dump()) for d in out]
        else:
            try:
                return [bytes(asn1_x509.Certificate.load(data, strict=True).dump())]
            except ValueError:
                return [
                    c.public_bytes(Encoding.DER) for c in pkcs7.load_der_pkcs7_certificates(data)
                ]
    except ValueError as exc:
        raise InputError(f"The file is not a certificate, a PEM bundle or a .p7b ({exc}).") from exc
    raise InputError("The file holds no certificate.")


def import_certificate(
    ts: TokenSession,
    certificates: Sequence[bytes],
    chain: Sequence[bytes] = (),
    *,
    dea_number: str | None = None,
    records: Records | None = None,
    clock: Clock = utc_now,
) -> tuple[Enrolled, bool]:
    """Install an issued certificate on the token that holds its key.

    Returns the result and whether the chain could be checked (it needs the
    CA's root, from the file or --chain). *dea_number*, when given, must be the
    one whose hash the certificate carries.
    """
    now = clock()
    everything = [*certificates, *chain]
    leaves = [d for d in everything if not asn1_x509.Certificate.load(d).ca]
    cas = [d for d in dict.fromkeys(everything) if asn1_x509.Certificate.load(d).ca]
    if len(leaves) != 1:
        raise InputError(
            f"Expected one subscriber certificate, found {len(leaves)}; give the "
            "certificate the CA issued (and its chain with --chain)."
        )
    leaf = leaves[0]
    try:
        info = read_csos_profile(asn1_x509.Certificate.load(leaf))
    except NotACsosCertificate as exc:
        raise InputError(f"This is not a CSOS certificate ({exc}).") from exc
    key = key_for_certificate(ts, leaf)
    if key is None:
        raise InputError(
            "No key on this token matches the certificate. Insert the token on "
            "which the request was made (`csos enrol csr`)."
        )
    if now >= info.not_after:
        raise InputError(
            f"The certificate expired on {info.not_after:%Y-%m-%d}; ask the CA for a current one."
        )
    has_root = any(asn1_x509.Certificate.load(d).self_signed != "no" for d in cas)
    if dea_number is not None and not info.matches_dea(dea_number):
        raise InputError(
            f"This certificate was not issued for DEA number {dea_number} (its DEA number "
            "hash does not match); check the number or ask the CA."
        )
    if has_root:
        app = ApplicationData(info.subject, dea_number or "", info.schedules)
        check_issued([leaf], key, app, cas, now)
    done = finish(ts, key, leaf, cas, dea_number=dea_number, records=records or Records(), now=now)
    return done, has_root
