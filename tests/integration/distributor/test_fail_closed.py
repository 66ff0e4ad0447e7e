"""A supplier fails closed: when no CRL can be fetched, the reference distributor in
fetch mode (what `csos demo` runs) refuses an order as revocation-unknown, whether its
certificate is good or revoked; it never accepts with a warning."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.pki.chain import VALIDATION_CACHE
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.signed_check import Reason
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.verification import TrustMaterial, check_order
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA
from tests.integration.crafted import SoftwareSigner, chain, order_document
from tests.unit.trust.http_server import Answer, http_server


def test_with_every_crl_fetch_failing_the_distributor_refuses_good_and_revoked_orders(
    tmp_path: Path,
) -> None:
    VALIDATION_CACHE.clear()
    with http_server() as ca_site:  # answers 404 until the CRLs are published
        ca = TestCa.init(
            tmp_path / "ca",
            crl_url=f"{ca_site.url}/issuing.crl",
            root_crl_url=f"{ca_site.url}/root.crl",
        )
        key = SoftwareSigner()
        cert = ca.issue_for_public_key(
            key.key.public_key(),
            subject=x509.Name.from_rfc4514_string("CN=Fail Closed Pharmacy"),
            dea_number=PURCHASER_DEA,
            schedules=ALL_SCHEDULES,
        )
        now = datetime.now(UTC)
        document = order_document(now)
        signature = CmsSigner(key, cert.public_bytes(Encoding.DER), chain(ca)).sign(document, now)
        trust = TrustMaterial(ca, fetch=True)

        unknown = check_order(trust, document, signature, now)
        assert not unknown.accepted
        assert Reason.REVOCATION_UNKNOWN in unknown.reasons

        ca.revoke(cert.serial_number, reason="keyCompromise")
        trust.refresh()
        revoked_unfetched = check_order(trust, document, signature, now)
        assert not revoked_unfetched.accepted
        assert Reason.REVOCATION_UNKNOWN in revoked_unfetched.reasons

        # Once the CA's CRLs can be had, the revocation itself is what refuses it.
        ca_site.answers["/issuing.crl"] = Answer(ca.crl().public_bytes(Encoding.DER))
        ca_site.answers["/root.crl"] = Answer(ca.root_crl().public_bytes(Encoding.DER))
        trust.refresh()
        later = datetime.now(UTC)
        revoked = check_order(trust, document, signature, later)
        assert Reason.CERTIFICATE_REVOKED in revoked.reasons
