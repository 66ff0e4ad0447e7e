"""One rule set: every reason a verifier gives about the document is refused at signing first.

For each reason code of ``DOCUMENT_REASONS``, a document is made that the supplier's
or pharmacy's check rejects with that code (signed by a key held in memory, which
skips every client check), and the signing side — the pre-PIN check the CLI and
the GUI call — is shown to refuse the same document before any PIN is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.prescription import PrescriptionInvalid, parse_prescription_input
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.document_rules import DOCUMENT_REASONS
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.pki.signed_check import Reason
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.signing import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    default_checks,
)
from csos_desktop.services.signing.checks import certificate_in_validity
from csos_desktop.token.identity import SigningIdentity
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA
from tests.unit.domain.rx_samples import sample_rx_input
from tests.unit.store.helpers import OTHER_DEA, SoftwareKey, order_input

NOW = datetime.now(UTC).replace(microsecond=0)


def identity(
    ca: TestCa,
    *,
    dea: str = PURCHASER_DEA,
    schedules: str | None = None,
    not_before: datetime | None = None,
    days: int = 365,
) -> tuple[SigningIdentity, CmsSigner]:
    key = SoftwareKey()
    cert = ca.issue_for_public_key(
        key.key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Main Street Pharmacy"),
        dea_number=dea,
        schedules=parse_schedule_list(schedules) if schedules else ALL_SCHEDULES,
        days=days,
        not_before=not_before or NOW - timedelta(days=1),
    )
    der = cert.public_bytes(Encoding.DER)
    info = read_csos_profile(asn1_x509.Certificate.load(der))
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    return SigningIdentity(b"\x01", der, info, "memory"), CmsSigner(key, der, chain)


def pre_pin_stage(
    ident: SigningIdentity, item: object, purpose: SigningPurpose = SigningPurpose.ORDER
) -> None:
    """What every signing session runs before the PIN (``default_checks``), for one item,
    but for the network checks (clock reference, trust anchors and CRLs): a refusal there
    would hide the document check this file is about (tests/integration/test_signing_clock
    and the trust tests run those against real servers)."""
    stage = PrePinChecks(session=(certificate_in_validity,), items=default_checks().items)
    stage.run(SigningFacts(purpose, ident, (), None, NOW), [item])


def roots(ca: TestCa) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]


# -- orders ---------------------------------------------------------------------------------

OrderCase = Callable[[TestCa], tuple[dict[str, Any], SigningIdentity, CmsSigner]]


def _year_wrong(ca: TestCa) -> tuple[dict[str, Any], SigningIdentity, CmsSigner]:
    data = order_input(number=f"{(NOW.year - 1) % 100:02d}X000042")
    return data, *identity(ca)


def _other_dea(ca: TestCa) -> tuple[dict[str, Any], SigningIdentity, CmsSigner]:
    return order_input(number=f"{NOW:%y}X000042"), *identity(ca, dea=OTHER_DEA)


def _schedule(ca: TestCa) -> tuple[dict[str, Any], SigningIdentity, CmsSigner]:
    return order_input(number=f"{NOW:%y}X000042"), *identity(ca, schedules="3,4,5")


def _expired(ca: TestCa) -> tuple[dict[str, Any], SigningIdentity, CmsSigner]:
    ident = identity(ca, not_before=NOW - timedelta(days=30), days=10)
    return order_input(number=f"{NOW:%y}X000042"), *ident


def _not_yet(ca: TestCa) -> tuple[dict[str, Any], SigningIdentity, CmsSigner]:
    ident = identity(ca, not_before=NOW + timedelta(days=2))
    return order_input(number=f"{NOW:%y}X000042"), *ident


ORDER_CASES: dict[Reason, OrderCase] = {
    Reason.MALFORMED_DOCUMENT: _year_wrong,
    Reason.DEA_NUMBER_MISMATCH: _other_dea,
    Reason.SCHEDULE_NOT_AUTHORISED: _schedule,
    Reason.CERTIFICATE_EXPIRED: _expired,
    Reason.CERTIFICATE_NOT_YET_VALID: _not_yet,
}


#: What the signer reads, per reason: the refusal must be this check's, not another's.
CERTIFICATE_WORDS = {
    Reason.CERTIFICATE_EXPIRED: "Your CSOS certificate expired on",
    Reason.CERTIFICATE_NOT_YET_VALID: "Your CSOS certificate is valid only from",
}
ORDER_WORDS = {
    **CERTIFICATE_WORDS,
    Reason.MALFORMED_DOCUMENT: "the order has 1 problem",
    Reason.DEA_NUMBER_MISMATCH: "your certificate was issued for another DEA number than the "
    f"purchaser's {PURCHASER_DEA} (its DEA number hash does not match)",
    Reason.SCHEDULE_NOT_AUTHORISED: "your certificate does not authorise schedule(s) 2",
}


def test_every_document_reason_has_an_order_and_a_prescription_case() -> None:
    assert set(ORDER_CASES) == set(DOCUMENT_REASONS)
    assert set(RX_CASES) == set(DOCUMENT_REASONS)


@pytest.mark.parametrize("reason", sorted(ORDER_CASES, key=lambda r: r.value))
def test_order_verify_reason_is_refused_at_signing_first(test_ca: TestCa, reason: Reason) -> None:
    data, ident, cms = ORDER_CASES[reason](test_ca)
    order = parse_order_input(data, now=NOW)
    # What a client without the check would have sent: dated and signed as is.
    doc = {**order.to_document(), "date_signed": NOW.date().isoformat()}
    document = canonical_bytes(doc)
    signature = cms.sign(document, NOW)
    verdict = verify_order(document, signature, trust_roots=roots(test_ca), now=NOW)
    assert reason in {f.reason for f in verdict.findings}, verdict.findings

    with pytest.raises(CsosError, match=re.escape(ORDER_WORDS[reason])):
        pre_pin_stage(ident, order)


# -- prescriptions ------------------------------------------------------------------------

RxCase = Callable[[TestCa], tuple[dict[str, Any], SigningIdentity, CmsSigner]]


def _rx(**changes: Any) -> dict[str, Any]:
    return {**sample_rx_input(NOW.date().isoformat()), **changes}


def _week_old(ca: TestCa) -> tuple[dict[str, Any], SigningIdentity, CmsSigner]:
    return _rx(date_of_issue=(NOW.date() - timedelta(days=7)).isoformat()), *identity(ca)


RX_CASES: dict[Reason, RxCase] = {
    Reason.MALFORMED_DOCUMENT: _week_old,
    Reason.DEA_NUMBER_MISMATCH: lambda ca: (_rx(), *identity(ca, dea=OTHER_DEA)),
    Reason.SCHEDULE_NOT_AUTHORISED: lambda ca: (_rx(), *identity(ca, schedules="3,4,5")),
    Reason.CERTIFICATE_EXPIRED: lambda ca: (
        _rx(),
        *identity(ca, not_before=NOW - timedelta(days=30), days=10),
    ),
    Reason.CERTIFICATE_NOT_YET_VALID: lambda ca: (
        _rx(),
        *identity(ca, not_before=NOW + timedelta(days=2)),
    ),
}


#: What the practitioner reads for the refusals the prescription check words itself.
RX_WORDS = {
    **CERTIFICATE_WORDS,
    Reason.MALFORMED_DOCUMENT: "is not the day it was signed",
    Reason.DEA_NUMBER_MISMATCH: "issued for another DEA number (its DEA number hash does not "
    "match): only the practitioner named on the prescription may sign it",
    Reason.SCHEDULE_NOT_AUTHORISED: "Your certificate does not cover schedule 2",
}


@pytest.mark.parametrize("reason", sorted(RX_CASES, key=lambda r: r.value))
def test_rx_verify_reason_is_refused_at_signing_first(test_ca: TestCa, reason: Reason) -> None:
    data, ident, cms = RX_CASES[reason](test_ca)
    rx = parse_prescription_input(data, now=NOW)
    document = canonical_bytes(rx.to_document())
    signature = cms.sign(document, NOW)
    verdict = verify_prescription(document, signature, trust_roots=roots(test_ca), now=NOW)
    assert reason in {f.reason for f in verdict.findings}, verdict.findings

    with pytest.raises(CsosError, match=re.escape(RX_WORDS[reason])):
        pre_pin_stage(ident, rx, SigningPurpose.PRESCRIPTION)


#: Each content rule of 1306.05/1306.12/1306.22 a pharmacy reports as malformed-document.
RX_RULES: dict[str, dict[str, Any]] = {
    "refills-schedule-ii": {"refills": 1},
    "refills-too-many": {
        "refills": 6,
        "drug": {**sample_rx_input()["drug"], "schedule": "4"},
    },
    "do-not-fill-not-schedule-ii": {
        "do_not_fill_before": (NOW.date() + timedelta(days=10)).isoformat(),
        "drug": {**sample_rx_input()["drug"], "schedule": "4"},
    },
    "do-not-fill-before-issue": {
        "do_not_fill_before": (NOW.date() - timedelta(days=1)).isoformat()
    },
    "do-not-fill-beyond-90-days": {
        "do_not_fill_before": (NOW.date() + timedelta(days=120)).isoformat()
    },
    "schedule-i-not-prescribable": {"drug": {**sample_rx_input()["drug"], "schedule": "1"}},
    "missing": {"directions": None},
}


@pytest.mark.parametrize("rule", sorted(RX_RULES))
def test_each_prescription_content_rule_is_refused_before_signing(
    test_ca: TestCa, rule: str
) -> None:
    data = {k: v for k, v in _rx(**RX_RULES[rule]).items() if v is not None}
    with pytest.raises(PrescriptionInvalid) as refused:
        parse_prescription_input(data, now=NOW)  # what `csos rx sign` and the GUI run first
    assert rule in {p.rule for p in refused.value.problems}
    doc = {**_rx(), **RX_RULES[rule], "rx_id": "5d0b1c3e-2f4a-4b6c-8d7e-9f0a1b2c3d4e"}
    document = canonical_bytes({k: v for k, v in doc.items() if v is not None})
    _, cms = identity(test_ca)
    verdict = verify_prescription(
        document, cms.sign(document, NOW), trust_roots=roots(test_ca), now=NOW
    )
    assert Reason.MALFORMED_DOCUMENT in {f.reason for f in verdict.findings}
