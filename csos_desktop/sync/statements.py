"""Checking a distributor's signed statement before the pharmacy keeps it.

A statement (``csos-statement/1``) is only worth keeping as proof if it is the
supplier's, about this order: the CMS must verify like any CSOS signature (digest,
signature, profile, a signing time not in the future, chain to an anchor of the
configured trust store), its signer's DEA number must be the order's supplier's, and it
must name this order's id and number and the SHA-256 of the exact bytes and signature the
pharmacy sent. Without an anchor nobody vouches for the signer: anyone can make a
certificate carrying the supplier's DEA number hash, so no statement is verified then.
With anchors, revocation is required as everywhere on the supplier side: a signer no
current CRL or OCSP answer covers is ``revocation-unknown``, never the supplier's word.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.pki.signed_check import Collector, Reason, check_signed
from csos_desktop.sync.errors import ProtocolError
from csos_desktop.trust.revocation import RevocationData

STATEMENT_SCHEMA = "csos-statement/1"
#: Without anchors the chain's own findings say nothing new: the missing anchor is named.
_CHAIN_FREE = frozenset(Reason) - {Reason.UNTRUSTED_CHAIN, Reason.REVOCATION_UNKNOWN}
#: Named by their code in the rejection, so a pharmacist (and a search) finds them.
_REVOCATION = frozenset({Reason.CERTIFICATE_REVOKED, Reason.REVOCATION_UNKNOWN})


class StatementRefused(ProtocolError):
    """The distributor's signed statement is not what it should be: never the supplier's word."""


@dataclass(frozen=True)
class OrderFacts:
    """What the pharmacy itself knows about the order a statement is about."""

    order_id: str
    supplier_dea: str
    document: bytes
    signature: bytes
    #: The order's number; when known, the statement must name the same one.
    order_number: str | None = None


def verify_statement(
    document: bytes,
    signature: bytes,
    *,
    kind: str,
    order: OrderFacts,
    trust_roots: Sequence[asn1_x509.Certificate],
    revocation: RevocationData,
    now: datetime,
) -> dict[str, object]:
    """The statement's content when it is the supplier's, about *order*; else StatementRefused.

    Without trust anchors it is refused: integrity and the DEA number hash prove nothing
    about who signed. *revocation*: the CRLs and OCSP answers found for the signer's path
    (what could not be had is in its notes); revocation that cannot be established refuses.
    """
    out = Collector()
    signer = check_signed(
        document,
        signature,
        trust_roots=trust_roots,
        crls=revocation.crls,
        ocsps=revocation.ocsps,
        now=now,
        out=out,
        no_crl_warning="",
        require_revocation=bool(trust_roots),
    )
    problems = [
        f"{f.reason.value}: {f.message}" if f.reason in _REVOCATION else f.message
        for f in out.findings
        if trust_roots or f.reason in _CHAIN_FREE
    ]
    if any(f.reason is Reason.REVOCATION_UNKNOWN for f in out.findings) and trust_roots:
        problems += revocation.notes
    if not trust_roots:
        problems.insert(
            0,
            "no trust anchor is configured, so nobody vouches for the distributor's "
            "certificate (install the DEA CSOS root with `csos trust add FILE`)",
        )
    try:
        content = load_document(document)
    except MalformedDocument as exc:
        problems.append(str(exc))
        content = {}
    problems += binding_problems(content, signer.info, order, kind)
    if problems:
        raise StatementRefused(
            f"the distributor's signed {kind} statement for order {order.order_id} was "
            f"rejected: {'; '.join(problems)}"
        )
    return content


def binding_problems(
    content: dict[str, object],
    signer: CsosCertificateInfo | None,
    order: OrderFacts,
    kind: str | None,
) -> list[str]:
    """What ties a statement to its order and supplier, and does not hold (empty: all does).

    *kind*: the kind expected, or None to accept any (an archive checks what it holds).
    """
    if not content:
        return []
    problems = [] if signer is None else _signer_problems(signer, content, order)
    expected = {
        "schema": STATEMENT_SCHEMA,
        "kind": kind or content.get("kind"),
        "order_id": order.order_id,
        "order_document_sha256": hashlib.sha256(order.document).hexdigest(),
        "order_signature_sha256": hashlib.sha256(order.signature).hexdigest(),
    }
    if order.order_number is not None:
        expected["order_number"] = order.order_number
    return problems + [
        f"its {field} is {content.get(field)!r}, expected {want!r}"
        for field, want in expected.items()
        if content.get(field) != want
    ]


def _signer_problems(
    signer: CsosCertificateInfo, content: dict[str, object], order: OrderFacts
) -> list[str]:
    """The signer must be the supplier the statement names, and the order's supplier;
    another distributor may only say the order was not addressed to it (wrong-supplier).
    The certificate carries the DEA number as a hash: it is matched, never read."""
    supplier = content.get("supplier")
    named = supplier.get("dea_number") if isinstance(supplier, dict) else None
    if content and not (isinstance(named, str) and signer.matches_dea(named)):
        return [f"it names supplier {named!r} but its certificate is not that registrant's"]
    reasons = content.get("reasons")
    codes = (
        {r.get("code") for r in reasons if isinstance(r, dict)}
        if isinstance(reasons, list)
        else set()
    )
    if not signer.matches_dea(order.supplier_dea) and not (
        content.get("kind") == "non-acceptance" and "wrong-supplier" in codes
    ):
        return [f"it is not signed by the order's supplier {order.supplier_dea}"]
    return []
