"""Item checks: what the verifier would reject about the document itself, refused first.

One rule set for signing and checking: ``pki.document_rules`` runs the functions
``verify_order`` and ``verify_prescription`` use (reading the exact bytes back,
dates against the signing moment). Certificate validity, DEA number and
schedules have their own checks in ``checks.py``; these add the rest.
"""

from __future__ import annotations

from csos_desktop.domain.order import Order
from csos_desktop.domain.prescription import Prescription
from csos_desktop.pki.document_rules import order_findings, prescription_findings
from csos_desktop.pki.signed_check import Reason
from csos_desktop.services.orders.order_signer import dated_for_signing
from csos_desktop.services.signing.checks import NotReadyToSign, OrderNotSignable, SigningFacts


def order_document_rules(facts: SigningFacts, item: object) -> None:
    """1305.21(b), 1305.25: an order the supplier would call malformed is not signed."""
    if not isinstance(item, Order):
        return
    found = [
        f"{f.message} ({f.reason.value})"
        for f in order_findings(dated_for_signing(item, facts.now), facts.identity.info, facts.now)
        if f.reason is Reason.MALFORMED_DOCUMENT
    ]
    if found:
        raise OrderNotSignable("This order cannot be signed: " + "; ".join(found) + ".")


def prescription_document_rules(facts: SigningFacts, item: object) -> None:
    """1306.05(a): e.g. a date of issue that is not the day of signing, refused first."""
    if not isinstance(item, Prescription):
        return
    for f in prescription_findings(item, facts.identity.info, facts.now):
        if f.reason is Reason.MALFORMED_DOCUMENT:
            raise NotReadyToSign(
                f"This prescription cannot be signed: {f.message} ({f.reason.value}). "
                "Correct the prescription and sign it again."
            )
