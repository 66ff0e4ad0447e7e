"""The rules each signature in a bundle answers to: those `csos order verify` applies.

An order goes through :func:`~csos_desktop.pki.supplier_check.verify_order` itself (the
signer's DEA number hash against the purchaser, the schedules its lines need, the CSOS
signing profile, its dates). A receipt or a notice of the order gets the shared checks
(:func:`~csos_desktop.pki.signed_check.check_signed`) and must be signed by the order's
purchaser too; a distributor statement gets them, and its tie to the order and the
supplier (:mod:`.statements`); a power of attorney gets them with the CSOS profile; a
signed prescription goes through ``csos rx verify``'s own rules. The
manifest gets them without the DEA extensions: what matters there is that an anchor
vouches for the exporter.

Each signature is checked as of its signing moment, with today's CRLs applying to it
retroactively: a revocation dated before that moment invalidates it, a later one does not.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.pki.signed_check import Collector, Finding, Reason, check_signed
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.services.archive.container import MemberUnreadable, read_member
from csos_desktop.services.archive.export import MANIFEST_SIGNATURE
from csos_desktop.services.archive.prescriptions import is_prescription_signature
from csos_desktop.services.archive.statements import is_statement_signature

#: Findings about the chain at the signing moment (the report says which moment).
CHAIN_REASONS = frozenset(
    {
        Reason.CERTIFICATE_REVOKED,
        Reason.CERTIFICATE_EXPIRED,
        Reason.CERTIFICATE_NOT_YET_VALID,
        Reason.REVOCATION_UNKNOWN,
        Reason.UNTRUSTED_CHAIN,
    }
)


class DocumentKind(Enum):
    ORDER = "order"
    PURCHASER_RECORD = "purchaser record"  # a receipt or a notice about the order
    STATEMENT = "statement"
    POWER_OF_ATTORNEY = "power of attorney"
    PRESCRIPTION = "prescription"
    MANIFEST = "manifest"


def kind_of(sig_name: str) -> DocumentKind:
    """What the signature *sig_name* signs, from where the exporter put it."""
    if sig_name == MANIFEST_SIGNATURE:
        return DocumentKind.MANIFEST
    if sig_name.startswith("poa/"):
        return DocumentKind.POWER_OF_ATTORNEY
    if is_prescription_signature(sig_name):
        return DocumentKind.PRESCRIPTION
    if is_statement_signature(sig_name):
        return DocumentKind.STATEMENT
    folder, _, file = sig_name.rpartition("/")
    if file == folder.rpartition("/")[2] + ".p7s":
        return DocumentKind.ORDER
    return DocumentKind.PURCHASER_RECORD


@dataclass(frozen=True)
class Trust:
    """What a signature's chain is validated against (no roots: integrity only)."""

    roots: Sequence[asn1_x509.Certificate]
    crls: Sequence[asn1_crl.CertificateList]
    #: Certificates the bundle carries besides those in each signature.
    pool: Sequence[asn1_x509.Certificate]
    #: A signer no revocation data covers is a problem (revocation-unknown), as it is for
    #: a supplier (1305.22(c)(3)): the verdict fails closed instead of only noting it.
    require_revocation: bool = False


@dataclass(frozen=True)
class RuleCheck:
    """Every finding about one signed document, and its signer's profile if readable."""

    findings: tuple[Finding, ...]
    signer: CsosCertificateInfo | None


def check_document(
    kind: DocumentKind,
    document: bytes,
    signature: bytes,
    *,
    trust: Trust,
    moment: datetime,
    purchaser_dea: str | None = None,
) -> RuleCheck:
    """The rules for *kind* at *moment*; *purchaser_dea* is the order's, for its records."""
    if kind is DocumentKind.ORDER:
        verdict = verify_order(
            document,
            signature,
            trust_roots=trust.roots,
            crls=trust.crls,
            now=moment,
            intermediates=trust.pool,
            retroactive_revinfo=True,
            require_revocation=trust.require_revocation,
        )
        return RuleCheck(verdict.findings, verdict.signer)
    if kind is DocumentKind.PRESCRIPTION:
        rx = verify_prescription(
            document,
            signature,
            trust_roots=trust.roots,
            crls=trust.crls,
            now=moment,
            require_revocation=trust.require_revocation,
            intermediates=trust.pool,
            retroactive_revinfo=True,
        )
        return RuleCheck(rx.findings, rx.signer)
    out = Collector()
    signer = check_signed(
        document,
        signature,
        trust_roots=trust.roots,
        crls=trust.crls,
        now=moment,
        out=out,
        no_crl_warning="",
        dea_extensions_required=kind is not DocumentKind.MANIFEST,
        intermediates=trust.pool,
        retroactive_revinfo=True,
        require_revocation=trust.require_revocation,
    )
    if kind is DocumentKind.PURCHASER_RECORD and signer.info is not None:
        if purchaser_dea is None:
            out.add(
                Reason.MALFORMED_DOCUMENT,
                "its order's purchaser cannot be read, so its signer cannot be checked",
            )
        elif not signer.info.matches_dea(purchaser_dea):
            out.add(
                Reason.DEA_NUMBER_MISMATCH,
                f"signed with a certificate for another DEA number than the order's purchaser "
                f"{purchaser_dea} (certificate serialNumber {signer.info.subject_serial})",
            )
    return RuleCheck(tuple(out.findings), signer.info)


def purchaser_of(zf: zipfile.ZipFile, sig_name: str) -> str | None:
    """The purchaser's DEA number in the order a receipt or notice belongs to."""
    folder = sig_name.rpartition("/")[0]
    try:
        order = json.loads(read_member(zf, f"{folder}/{folder.rpartition('/')[2]}.json"))
        dea = order["purchaser"]["dea_number"]
    except (MemberUnreadable, ValueError, RecursionError, KeyError, TypeError):
        return None
    return dea if isinstance(dea, str) else None
