"""Putting a CSOS certificate on the token next to its key (enrolment's last step).

The key pair and its request are made by ``enrol.flow.new_key_and_csr`` (with the
request's self-check)."""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.errors import CsosError
from csos_desktop.token.certs import write_certificate
from csos_desktop.token.keys import GeneratedKey, normalised_spki
from csos_desktop.token.session import TokenSession


class CertificateDoesNotMatchKey(CsosError):
    """The CA returned a certificate for another key; nothing is written to the token."""


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
