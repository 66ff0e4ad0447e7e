"""Crafted inputs get a verdict and are stored, never a 500.

The distributor keeps what it received with its statement of non-acceptance
(1305.25) whatever the bytes are; the verifiers never raise.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from sqlalchemy import select

from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.pki.signed_check import Reason
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.db import orders
from tests.integration.crafted import (
    AttributeSigner,
    SoftwareSigner,
    chain,
    crafted_certificate,
    order_document,
    trust_of,
    verify_now,
)
from tests.integration.distributor.conftest import StartSandbox

HUGE_INTEGER = b'{"schema":"csos-order/1","quantity":' + b"9" * 4301 + b"}"
DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def _bad_extension_signature(ca: TestCa, document: bytes, oid: str, value: bytes) -> bytes:
    soft = SoftwareSigner()
    cert = crafted_certificate(
        ca, soft, extra=[x509.UnrecognizedExtension(ObjectIdentifier(oid), value)]
    )
    return AttributeSigner(soft, cert, chain(ca), lambda a: a).sign(document, datetime.now(UTC))


@pytest.mark.parametrize("verify", [verify_order, verify_prescription])
@pytest.mark.parametrize("document", [HUGE_INTEGER, DEEP], ids=["4301-digit", "nested"])
def test_crafted_json_is_a_malformed_document(verify, document: bytes, test_ca: TestCa) -> None:  # type: ignore[no-untyped-def]
    roots, crls = trust_of(test_ca)
    result = verify(document, b"\x30\x00", trust_roots=roots, crls=crls, now=datetime.now(UTC))
    assert Reason.MALFORMED_DOCUMENT in result.reasons


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        ("2.5.29.37", b"\x04\x00"),  # extended key usage: a primitive where a SEQUENCE goes
        ("2.5.29.31", b"\x30\x03\x02\x01"),  # CRL distribution points, truncated
        ("1.3.6.1.5.5.7.1.1", b"\xff"),  # authority information access, garbage
    ],
)
def test_a_certificate_with_a_malformed_extension_is_a_malformed_signature(
    test_ca: TestCa, oid: str, value: bytes
) -> None:
    document = order_document(datetime.now(UTC))
    result = verify_now(test_ca, document, _bad_extension_signature(test_ca, document, oid, value))
    assert result.reasons == (Reason.MALFORMED_SIGNATURE,)
    assert "malformed field or extension" in result.findings[0].message


def test_the_distributor_stores_crafted_input_with_a_statement(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox()
    now = datetime.now(UTC)
    bad_cert_doc = order_document(now)
    cases = [
        (HUGE_INTEGER, b"\x30\x00", Reason.MALFORMED_DOCUMENT),
        (
            bad_cert_doc,
            _bad_extension_signature(sandbox.ca, bad_cert_doc, "2.5.29.37", b"\x04\x00"),
            Reason.MALFORMED_SIGNATURE,
        ),
    ]
    with sandbox.client() as client:
        for document, signature, reason in cases:
            key = (
                str(uuid.uuid4()) if document is HUGE_INTEGER else json.loads(document)["order_id"]
            )
            record = client.submit_order(key, document, signature)
            assert record.status == "rejected"
            assert reason.value in [r.code for r in record.reasons]
            assert record.statement and "non-acceptance" in record.statement
            with sandbox.running.distributor.engine.connect() as conn:
                row = conn.execute(
                    select(orders.c.document, orders.c.signature).where(orders.c.order_id == key)
                ).one()
            assert (row.document, row.signature) == (document, signature)


def test_an_intermediate_with_a_malformed_name_is_a_malformed_signature(test_ca: TestCa) -> None:
    """Found by `make fuzz`: path building read the issuer of the other certificate in the
    CMS (a SET where a Name's SEQUENCE goes) and raised inside pyhanko-certvalidator."""
    from tests.fuzz import der_tree
    from tests.fuzz.strategies import CERTIFICATE_PATHS

    now = datetime.now(UTC)
    document = order_document(now)
    soft = SoftwareSigner()
    signature = AttributeSigner(
        soft, crafted_certificate(test_ca, soft), chain(test_ca), lambda a: a
    ).sign(document, now)
    roots, crls = trust_of(test_ca)
    for path in CERTIFICATE_PATHS:
        node = der_tree.at(der_tree.parse(signature), path)[-1]
        cert = bytearray(signature[node.start : node.end])
        tbs = der_tree.parse(bytes(cert))[0].children[0]
        issuer = tbs.children[3]  # [0] version, serial, signature algorithm, issuer
        cert[issuer.start] = 0x31
        mutated = der_tree.splice(signature, path, bytes(cert))
        result = verify_order(document, mutated, trust_roots=roots, crls=crls, now=now)
        assert Reason.MALFORMED_SIGNATURE in result.reasons or not result.accepted
        assert not any("could not be read (" in f.message for f in result.findings)
