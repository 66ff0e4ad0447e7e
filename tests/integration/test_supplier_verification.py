"""21 CFR 1305.22(c) / 1305.25: each reason a supplier refuses an order, from a real case."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.pki.supplier_check import OrderVerification, Reason, verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.token.keys import KeyAlgorithm
from tests.conftest import Provisioned
from tests.integration.signing import chain_of, issue_for_token, sign_order

NOW = datetime.now(UTC)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def crls_of(ca: TestCa, now: datetime | None = None) -> list[asn1_crl.CertificateList]:
    return [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(now=now), ca.root_crl(now=now))
    ]


def check(
    ca: TestCa,
    document: bytes,
    signature: bytes,
    *,
    crls: list[asn1_crl.CertificateList] | None = None,
) -> OrderVerification:
    """Verify now, as a supplier does on receipt (a CRL issued after `now` is not yet usable)."""
    root = asn1_x509.Certificate.load(der(ca.root_certificate))
    return verify_order(
        document,
        signature,
        trust_roots=[root],
        crls=crls_of(ca) if crls is None else crls,
        now=datetime.now(UTC),
    )


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_a_correct_order_is_accepted_with_crl_checked(
    tokens: dict[KeyAlgorithm, Provisioned], test_ca: TestCa, algorithm: KeyAlgorithm
) -> None:
    result = check(test_ca, *sign_order(tokens[algorithm], chain=chain_of(test_ca)))
    assert result.accepted, result.findings
    assert result.revocation_checked
    assert result.signer is not None and result.signer.matches_dea("AB1234563")
    assert result.warnings == ()


def test_signature_not_matching_the_public_key_is_signature_invalid(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    broken = signature[:-1] + bytes([signature[-1] ^ 0x01])  # the signature value ends the blob
    assert check(test_ca, document, broken).reasons == (Reason.SIGNATURE_INVALID,)


def test_changed_document_is_digest_mismatch(rsa_token: Provisioned, test_ca: TestCa) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    changed = document.replace(b'"quantity":2', b'"quantity":9', 1)
    assert check(test_ca, changed, signature).reasons == (Reason.DIGEST_MISMATCH,)


def test_re_serialised_document_is_malformed(rsa_token: Provisioned, test_ca: TestCa) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    pretty = json.dumps(json.loads(document), indent=2).encode()
    reasons = check(test_ca, pretty, signature).reasons
    assert Reason.MALFORMED_DOCUMENT in reasons and Reason.DIGEST_MISMATCH in reasons


def test_expired_certificate_is_refused(rsa_token: Provisioned, test_ca: TestCa) -> None:
    cert = issue_for_token(test_ca, rsa_token, not_before=NOW - timedelta(days=400), days=365)
    signed_at = NOW - timedelta(days=40)  # while the certificate was still valid
    document, signature = sign_order(
        rsa_token, certificate_der=der(cert), chain=chain_of(test_ca), when=signed_at
    )
    result = check(test_ca, document, signature)
    assert result.reasons == (Reason.CERTIFICATE_EXPIRED,)
    assert "expired on" in result.findings[0].message


def test_certificate_not_yet_valid_is_refused(rsa_token: Provisioned, test_ca: TestCa) -> None:
    cert = issue_for_token(test_ca, rsa_token, not_before=NOW + timedelta(days=2))
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(test_ca))
    assert check(test_ca, document, signature).reasons == (Reason.CERTIFICATE_NOT_YET_VALID,)


def test_revoked_certificate_is_refused_with_reason_and_date(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    cert = issue_for_token(test_ca, rsa_token)
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(test_ca))
    test_ca.revoke(cert.serial_number, reason="keyCompromise", when=NOW - timedelta(minutes=1))
    result = check(test_ca, document, signature, crls=crls_of(test_ca))
    assert result.reasons == (Reason.CERTIFICATE_REVOKED,)
    assert "key compromise" in result.findings[0].message.lower()


def test_certificate_from_a_foreign_ca_is_untrusted_chain(
    rsa_token: Provisioned, tmp_path: Path, test_ca: TestCa
) -> None:
    foreign = TestCa.init(tmp_path / "foreign")
    cert = issue_for_token(foreign, rsa_token)
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(foreign))
    assert check(test_ca, document, signature).reasons == (Reason.UNTRUSTED_CHAIN,)


def test_purchaser_dea_other_than_certificate_is_dea_number_mismatch(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    cert = issue_for_token(test_ca, rsa_token, dea="BJ6125341")
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(test_ca))
    result = check(test_ca, document, signature)
    assert result.reasons == (Reason.DEA_NUMBER_MISMATCH,)
    message = result.findings[0].message
    assert "hash does not match" in message and "AB1234563" in message


def test_schedule_outside_the_certificate_is_not_authorised(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    cert = issue_for_token(test_ca, rsa_token, schedules=parse_schedule_list("3,3N,4,5"))
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(test_ca))
    result = check(test_ca, document, signature)
    assert result.reasons == (Reason.SCHEDULE_NOT_AUTHORISED,)
    assert "line 1 (schedule 2)" in result.findings[0].message


@pytest.mark.parametrize("cut", [1, 100, 400])
def test_truncated_signature_is_malformed_signature(
    rsa_token: Provisioned, test_ca: TestCa, cut: int
) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    result = check(test_ca, document, signature[:-cut])
    assert result.reasons == (Reason.MALFORMED_SIGNATURE,)


def test_garbage_document_and_signature_report_both_and_never_raise(test_ca: TestCa) -> None:
    result = check(test_ca, b"\xff\xfe not json", b"\x30\x03\x02\x01")
    assert set(result.reasons) == {Reason.MALFORMED_DOCUMENT, Reason.MALFORMED_SIGNATURE}


def test_order_signed_more_than_60_days_ago_is_expired(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    cert = issue_for_token(test_ca, rsa_token, not_before=NOW - timedelta(days=90))
    signed_at = NOW - timedelta(days=61)
    document, signature = sign_order(
        rsa_token, certificate_der=der(cert), chain=chain_of(test_ca), when=signed_at
    )
    result = check(test_ca, document, signature)
    assert result.reasons == (Reason.ORDER_EXPIRED,)


def test_order_signed_59_days_ago_is_still_valid(rsa_token: Provisioned, test_ca: TestCa) -> None:
    cert = issue_for_token(test_ca, rsa_token, not_before=NOW - timedelta(days=90))
    document, signature = sign_order(
        rsa_token, certificate_der=der(cert), chain=chain_of(test_ca), when=NOW - timedelta(days=59)
    )
    assert check(test_ca, document, signature).accepted


def test_stale_crl_means_revocation_unknown_not_acceptance(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    stale = crls_of(test_ca, now=NOW - timedelta(days=30))  # next update 7 days after that
    assert check(test_ca, document, signature, crls=stale).reasons == (Reason.REVOCATION_UNKNOWN,)


def test_without_crl_the_order_verifies_but_says_revocation_was_not_checked(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    result = check(test_ca, document, signature, crls=[])
    assert result.accepted
    assert not result.revocation_checked
    assert any("revocation was not checked" in w for w in result.warnings)


def test_several_defects_are_all_reported(rsa_token: Provisioned, test_ca: TestCa) -> None:
    cert = issue_for_token(
        test_ca, rsa_token, dea="BJ6125341", schedules=parse_schedule_list("4,5")
    )
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(test_ca))
    reasons = set(check(test_ca, document, signature).reasons)
    assert reasons == {Reason.DEA_NUMBER_MISMATCH, Reason.SCHEDULE_NOT_AUTHORISED}


def test_crl_is_checked_even_when_the_certificate_names_no_distribution_point(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    ca = TestCa.init(tmp_path / "no-dp", crl_url=None, root_crl_url=None)
    cert = issue_for_token(ca, rsa_token)
    assert not any(e.oid.dotted_string == "2.5.29.31" for e in cert.extensions)
    document, signature = sign_order(rsa_token, certificate_der=der(cert), chain=chain_of(ca))
    assert check(ca, document, signature).accepted
    ca.revoke(cert.serial_number, reason="keyCompromise", when=NOW - timedelta(minutes=1))
    assert check(ca, document, signature).reasons == (Reason.CERTIFICATE_REVOKED,)


def test_missing_crl_for_the_issuing_ca_is_revocation_unknown(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    document, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    only_root = crls_of(test_ca)[1:]
    assert check(test_ca, document, signature, crls=only_root).reasons == (
        Reason.REVOCATION_UNKNOWN,
    )
