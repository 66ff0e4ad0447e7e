"""The test CA's revocations: RFC 5280 reason names and the CRLs built from its state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from csos_desktop.sandbox.ca_certs import CaKey, ski
from csos_desktop.sandbox.ca_errors import RevocationRefused

# RFC 5280 reason names; removeFromCRL only belongs in delta CRLs, which we do not issue.
REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    f.value: f for f in x509.ReasonFlags if f is not x509.ReasonFlags.remove_from_crl
}


def parse_reason(name: str) -> x509.ReasonFlags:
    """Map an RFC 5280 reason name (`keyCompromise`, `key_compromise`, any case) to a flag."""
    key = name.replace("_", "").replace("-", "").lower()
    for rfc_name, flag in REVOCATION_REASONS.items():
        if rfc_name.lower() == key:
            return flag
    raise RevocationRefused(
        f"unknown revocation reason {name!r}; use one of {', '.join(REVOCATION_REASONS)}"
    )


def build_crl(
    state: dict[str, Any],
    *,
    issuer: x509.Certificate,
    key: CaKey,
    by_root: bool,
    this_update: datetime,
    next_update_days: int,
) -> x509.CertificateRevocationList:
    """The CRL *issuer* signs over the revocations in *state* that are its own.

    Takes the next CRL number from *state* (the caller saves it).
    """
    counter = "root_crl_number" if by_root else "crl_number"
    state[counter] += 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(this_update + timedelta(days=next_update_days))
        .add_extension(x509.CRLNumber(state[counter]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski(issuer)),
            critical=False,
        )
    )
    for r in state["revoked"]:
        if r.get("by_root", False) != by_root:
            continue
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(r["serial"])
            .revocation_date(datetime.fromisoformat(r["date"]))
        )
        # RFC 5280 5.3.1: leave the reason out rather than say "unspecified".
        if r["reason"] != x509.ReasonFlags.unspecified.value:
            entry = entry.add_extension(
                x509.CRLReason(REVOCATION_REASONS[r["reason"]]), critical=False
            )
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key, hashes.SHA256())
