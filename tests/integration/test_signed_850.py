"""The pharmacist signs the 850 itself; a supplier checks it by the same rules as a JSON order."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.pki.cms_attached import attach, detach, is_attached
from csos_desktop.pki.supplier_check import OrderVerification, Reason, verify_order
from csos_desktop.pki.x12_check import split_signed_order, verify_x12_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders.order_signer import OrderSigningSession, SignedX12Order
from csos_desktop.services.signing import SigningPurpose, SigningSession
from tests.conftest import Provisioned
from tests.integration.signing import chain_of, sample_order
from tests.integration.store.tokens import TestPin, open_identity
from tests.integration.test_supplier_verification import crls_of


@pytest.fixture(scope="module")
def signed(rsa_token: Provisioned, test_ca: TestCa) -> SignedX12Order:
    ts, identity = open_identity(rsa_token)
    session = SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER)
    try:
        session.log_in(TestPin())
        return OrderSigningSession(session).sign_x12(sample_order(datetime.now(UTC)), 77)
    finally:
        ts.close()


def check(ca: TestCa, blob: bytes) -> OrderVerification:
    parts = split_signed_order(blob)
    if isinstance(parts, OrderVerification):
        return parts
    document, signature = parts
    root = asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))
    return verify_x12_order(
        document, signature, trust_roots=[root], crls=crls_of(ca), now=datetime.now(UTC)
    )


def resign(ca: TestCa, signed: SignedX12Order, interchange: bytes, prov: Provisioned) -> bytes:
    """*interchange* signed for real by the same token (bad X12 under a good signature)."""
    ts, identity = open_identity(prov)
    session = SigningSession(ts, identity, chain_of(ca), SigningPurpose.ORDER)
    try:
        session.log_in(TestPin())
        return attach(session.sign(interchange), interchange)
    finally:
        ts.close()


def test_the_signed_850_encapsulates_the_exact_interchange(signed: SignedX12Order) -> None:
    assert is_attached(signed.signed)
    content, detached = detach(signed.signed)
    assert content == signed.interchange and read_850(content) == signed.order
    assert not is_attached(detached) and attach(detached, content) == signed.signed
    assert signed.order.date_signed is not None


def test_openssl_cms_verify_accepts_the_signed_850(
    signed: SignedX12Order, test_ca: TestCa, tmp_path: Path
) -> None:
    (tmp_path / "order.p7m").write_bytes(signed.signed)
    (tmp_path / "root.pem").write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    done = subprocess.run(
        [
            *("openssl", "cms", "-verify", "-binary", "-inform", "DER"),
            *("-in", str(tmp_path / "order.p7m"), "-CAfile", str(tmp_path / "root.pem")),
            *("-purpose", "any", "-out", str(tmp_path / "out")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out").read_bytes() == signed.interchange


def test_a_supplier_accepts_the_signed_850_by_the_json_orders_rules(
    signed: SignedX12Order, test_ca: TestCa
) -> None:
    result = check(test_ca, signed.signed)
    assert result.accepted, result.findings
    assert result.order == signed.order and result.revocation_checked


def test_one_changed_byte_of_the_850_is_digest_mismatch(
    signed: SignedX12Order, test_ca: TestCa
) -> None:
    changed = signed.interchange.replace(b"Main Street Pharmacy", b"Main Street Pharmacz", 1)
    assert changed != signed.interchange
    _, detached = detach(signed.signed)
    result = check(test_ca, attach(detached, changed))
    assert result.reasons == (Reason.DIGEST_MISMATCH,)


def test_the_json_verifier_and_the_x12_verifier_share_the_dea_rule(
    signed: SignedX12Order, test_ca: TestCa, rsa_token: Provisioned
) -> None:
    other = signed.interchange.replace(b"AB1234563", b"AB1234575")  # another valid DEA number
    result = check(test_ca, resign(test_ca, signed, other, rsa_token))
    assert result.reasons == (Reason.DEA_NUMBER_MISMATCH,)


@pytest.mark.parametrize(
    ("change", "x12_reason"),
    [
        (lambda t: t.replace(b"IEA*1*000000077", b"IEA*1*000000078"), "x12-control-mismatch"),
        (lambda t: t.replace(b"*", b"|", 1), "x12-separators"),
        (
            lambda t: t.replace(b"N4*Springfield*IL*62701", b"N4*Springfield*IL"),
            "x12-missing-field",
        ),
        (lambda t: t[:-2], "x12-malformed"),
    ],
)
def test_bad_x12_under_a_good_signature_is_malformed_document_with_its_x12_reason(
    signed: SignedX12Order,
    test_ca: TestCa,
    rsa_token: Provisioned,
    change: Callable[[bytes], bytes],
    x12_reason: str,
) -> None:
    bad = change(signed.interchange)
    assert bad != signed.interchange
    result = check(test_ca, resign(test_ca, signed, bad, rsa_token))
    assert result.reasons == (Reason.MALFORMED_DOCUMENT,)
    assert result.findings[0].message.startswith(x12_reason)


def test_a_json_signature_file_is_not_a_signed_850(rsa_token: Provisioned, test_ca: TestCa) -> None:
    from tests.integration.signing import sign_order

    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    assert check(test_ca, signature).reasons == (Reason.MALFORMED_SIGNATURE,)
    root = asn1_x509.Certificate.load(test_ca.root_certificate.public_bytes(Encoding.DER))
    json_verdict = verify_order(
        document, signature, trust_roots=[root], crls=crls_of(test_ca), now=datetime.now(UTC)
    )
    assert json_verdict.accepted, json_verdict.findings


def test_csos_order_verify_takes_the_p7m_alone_or_the_850_with_its_signature(
    signed: SignedX12Order, test_ca: TestCa, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from csos_desktop.cli import main

    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    crls = []
    for i, c in enumerate(crls_of(test_ca)):
        (tmp_path / f"{i}.crl").write_bytes(c.dump())
        crls += ["--crl", str(tmp_path / f"{i}.crl")]
    (tmp_path / "o.p7m").write_bytes(signed.signed)
    content, detached = detach(signed.signed)
    (tmp_path / "o.x12").write_bytes(content)
    (tmp_path / "o.p7s").write_bytes(detached)
    runner = CliRunner()
    for files in (["o.p7m"], ["o.x12", "o.p7s"]):
        args = ["order", "verify", *(str(tmp_path / f) for f in files), "--trust", str(root)]
        done = runner.invoke(main, [*args, *crls])
        assert (
            done.exit_code == 0 and f"ACCEPTED: order {signed.order.order_number}" in done.output
        ), done.output
    (tmp_path / "bad.p7m").write_bytes(detached)
    refused = runner.invoke(
        main, ["order", "verify", str(tmp_path / "bad.p7m"), "--trust", str(root)]
    )
    assert refused.exit_code == 1 and "malformed-signature" in refused.output
