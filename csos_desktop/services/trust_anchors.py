"""Trust anchors for offline checks (archives, audit checkpoints): given, or configured.

:func:`configured_trust` reads the trust store (`csos trust`, or IT's `trust_anchors`
policy); with none configured it returns None and commands ask for --trust.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.services.context import current


@dataclass(frozen=True)
class TrustMaterial:
    """Anchors signers must chain to, and revocation data for them."""

    roots: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...] = ()


def configured_trust() -> TrustMaterial | None:
    """The configured trust store's anchors, or None when it holds none.

    `archive verify`, `archive purge` and `audit verify` fall back to it when no
    --trust is given.
    """
    roots = current().trust_anchors()
    return TrustMaterial(tuple(roots)) if roots else None
