"""What the fuzzer feeds mutated inputs to, and the one property each must keep.

Each target takes one mutated input and raises only if the code under test broke its
contract: the verifiers never raise and never fall back to their last-resort "could
not be read" finding (that fallback hides a gap we want to see); the document reader
raises only MalformedDocument; the CSV importer only OrderCsvInvalid.

Valid material (a test CA, a software-key signer with the CSOS profile, a signed order
and prescription) is made once per process under a temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.domain.order import Order, OrderInvalid
from csos_desktop.domain.order_csv import OrderCsvInvalid, orders_from_csv
from csos_desktop.domain.prescription import Prescription, PrescriptionInvalid
from csos_desktop.pki.cms_parse import parse_signed_data
from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.pki.signed_check import Verification
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from tests.integration.crafted import (
    AttributeSigner,
    SoftwareSigner,
    chain,
    crafted_certificate,
    order_document,
    rx_document,
    trust_of,
)
from tests.unit.domain.samples import SAMPLE_NOW, sample_order_input
from tests.unit.domain.test_order_csv import csv_of

#: Inputs tried by this process, per target (the fuzz run reports them).
COUNTS: dict[str, int] = {}
_FALLBACK = "its signature could not be read ("


@dataclass(frozen=True)
class Material:
    roots: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    now: datetime
    order: bytes
    order_sig: bytes
    rx: bytes
    rx_sig: bytes
    csv: str


@functools.cache
def material() -> Material:
    ca = TestCa.init(Path(tempfile.mkdtemp(prefix="csos-fuzz-")) / "ca")
    soft = SoftwareSigner()
    cert = crafted_certificate(ca, soft)
    signer = AttributeSigner(soft, cert, chain(ca), lambda attrs: attrs)
    now = datetime.now(UTC)
    order, rx = order_document(now), rx_document(now)
    roots, crls = trust_of(ca)
    return Material(
        roots,
        crls,
        now,
        order,
        signer.sign(order, now),
        rx,
        signer.sign(rx, now),
        csv_of({"A": sample_order_input()}),
    )


def count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def _no_fallback(result: Verification) -> None:
    hidden = [f.message for f in result.findings if _FALLBACK in f.message]
    assert not hidden, f"a verifier fell back to its last resort: {hidden}"


def check_order(document: bytes, signature: bytes) -> None:
    count("verify_order")
    m = material()
    result = verify_order(document, signature, trust_roots=m.roots, crls=m.crls, now=m.now)
    _no_fallback(result)
    if result.accepted and (document, signature) != (m.order, m.order_sig):
        # The CMS outside the signer's signed attributes is not signed (a version number, the
        # digestAlgorithms set): a mutation there may still verify. What was signed, and by
        # whom, must be exactly the original.
        assert document == m.order
        mutated, original = parse_signed_data(signature), parse_signed_data(m.order_sig)
        assert (mutated.signed_attrs_der, mutated.signature, mutated.signer.dump()) == (
            original.signed_attrs_der,
            original.signature,
            original.signer.dump(),
        )


def check_prescription(document: bytes, signature: bytes) -> None:
    count("verify_prescription")
    m = material()
    result = verify_prescription(document, signature, trust_roots=m.roots, crls=m.crls, now=m.now)
    _no_fallback(result)


def check_document(document: bytes) -> None:
    count("load_document")
    try:
        doc = load_document(document)
    except MalformedDocument:
        return
    for reader, refused in (
        (Order.from_document, (OrderInvalid, MalformedDocument)),
        (Prescription.from_document, (PrescriptionInvalid, MalformedDocument)),
    ):
        with contextlib.suppress(refused):
            reader(doc)


def check_csv(text: str) -> None:
    count("orders_from_csv")
    with contextlib.suppress(OrderCsvInvalid):
        orders_from_csv(text, now=SAMPLE_NOW)


def order_dict() -> dict[str, Any]:
    return dict(json.loads(material().order))


def rx_dict() -> dict[str, Any]:
    return dict(json.loads(material().rx))
