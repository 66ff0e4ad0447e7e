"""Every revocation address a certificate names is tried and a failure reported: none is
passed over for its name (the sandbox's RFC 6761 `.invalid` placeholders included)."""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.enrol.status import fetch_revinfo
from csos_desktop.sandbox.ca import DEFAULT_CRL_URL, TestCa
from tests.unit.store.helpers import software_identity


def test_an_unreachable_crl_address_is_reported_not_dropped(test_ca: TestCa) -> None:
    _, cms = software_identity(test_ca)  # the test CA's default (placeholder) CRL address
    cert = cms.certificate
    pool = [
        asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))
        for c in (test_ca.issuing_certificate, test_ca.root_certificate)
    ]
    found = fetch_revinfo(cert, pool, endpoints=None, ca_bundle=None, use_ocsp=False, timeout=5)
    assert found.crls == ()
    assert any(p.startswith(f"CRL {DEFAULT_CRL_URL}") for p in found.problems), found.problems
