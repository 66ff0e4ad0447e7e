"""Putting a key pair and its CSOS certificate on a token (enrolment's last steps)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.errors import CsosError
from csos_desktop.pki.csr import build_csr
from csos_desktop.token.certs import write_certificate
from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm, generate_keypair, normalised_spki
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner


class CertificateDoesNotMatchKey(CsosError):
    """The CA returned a certificate for another key; nothing is written to the token."""


@dataclass(frozen=True)
class PendingKey:
    """A key pair generated for an enrolment, with its CSR."""

    key: GeneratedKey
    csr_der: bytes


def new_key_and_csr(
    ts: TokenSession, algorithm: KeyAlgorithm, subject: dict[str, str], label: str
) -> PendingKey:
    """Generate a key pair on the token and a CSR signed by it."""
    key = generate_keypair(ts, algorithm, label)
    csr = build_csr(TokenSigner(ts, key.key_id), key.public_key_info, subject)
    return PendingKey(key, csr)


def install_certificate(
    ts: TokenSession,
    key: GeneratedKey,
    certificate_der: bytes,
    chain_der: Sequence[bytes] = (),
    *,
    label: str | None = None,
) -> None:
    """Write the certificate (after checking it is for *key*) and its CA chain to the token."""
    cert = asn1_x509.Certificate.load(certificate_der)
    if normalised_spki(bytes(cert.public_key.dump())) != normalised_spki(key.public_key_info):
        raise CertificateDoesNotMatchKey(
            "The certificate authority returned a certificate for a different key than the "
            "one on your token. Nothing was written; contact the CA."
        )
    write_certificate(ts, certificate_der, key.key_id, label or key.label)
    for der in chain_der:
        ca = asn1_x509.Certificate.load(der)
        # CA certificates carry no CKA_ID of ours: they belong to no key on the token.
        write_certificate(ts, der, b"", ca.subject.human_friendly[:64])
