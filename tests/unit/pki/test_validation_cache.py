"""Accepted paths are reused per (signer, anchors, revocation data); a new CRL is a new entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.pki.chain import VALIDATION_CACHE, ChainStatus, validate_chain
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.trust.fetch import UnsupportedScheme, fetch_crl


def _asn1(obj: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(obj.public_bytes(Encoding.DER))


def _crls(ca: TestCa, now: datetime) -> list[asn1_crl.CertificateList]:
    return [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(now=now), ca.root_crl(now=now))
    ]


@pytest.fixture()
def ca(tmp_path: Path) -> TestCa:
    VALIDATION_CACHE.clear()
    return TestCa.init(tmp_path / "ca")


def test_a_signer_is_validated_once_per_crl_set_and_a_revocation_is_seen(ca: TestCa) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    cert = ca.issue_for_public_key(
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Cached Pharmacy"),
        dea_number="AB1234563",
        schedules=parse_schedule_list("2"),
        now=now,
    )
    signer, roots = _asn1(cert), [_asn1(ca.root_certificate)]
    inter = [_asn1(ca.issuing_certificate)]
    crls = _crls(ca, now)

    def check(crl_set: list[asn1_crl.CertificateList], moment: datetime) -> ChainStatus:
        return validate_chain(
            signer, trust_roots=roots, intermediates=inter, crls=crl_set, moment=moment
        ).status

    hits = VALIDATION_CACHE.hits
    assert check(crls, now) is ChainStatus.VALID
    assert check(crls, now + timedelta(minutes=1)) is ChainStatus.VALID
    assert VALIDATION_CACHE.hits == hits + 1
    # Past the CRLs' next update the entry is not used: the stale CRL is revocation-unknown.
    assert check(crls, now + timedelta(days=8)) is ChainStatus.REVOCATION_UNKNOWN
    ca.revoke(cert.serial_number, reason="keyCompromise", when=now)
    assert check(_crls(ca, now + timedelta(seconds=1)), now + timedelta(minutes=2)) is (
        ChainStatus.REVOKED
    )


def test_an_ldap_distribution_point_is_reported_as_unsupported() -> None:
    with pytest.raises(UnsupportedScheme, match="only http and https"):
        fetch_crl("ldap://directory.example/cn=CSOS%20Sub%20CA?certificateRevocationList")


def test_a_revocation_between_two_signatures_is_seen_whatever_was_checked_first(
    tmp_path: Path,
) -> None:
    """An archive holding order A (signed before the revocation) and B (after it):
    A's "valid" must not be reused for B's moment."""
    VALIDATION_CACHE.clear()
    now = datetime.now(UTC).replace(microsecond=0)
    ca = TestCa.init(tmp_path / "ca", now=now - timedelta(days=30))
    cert = ca.issue_for_public_key(
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Revoked Between Pharmacy"),
        dea_number="AB1234563",
        schedules=parse_schedule_list("2"),
        now=now - timedelta(days=20),
    )
    ca.revoke(cert.serial_number, reason="keyCompromise", when=now - timedelta(days=5))
    signer, roots = _asn1(cert), [_asn1(ca.root_certificate)]
    # The CRL in use was issued two hours ago: order B falls inside its window, A before it.
    inter, crls = [_asn1(ca.issuing_certificate)], _crls(ca, now - timedelta(hours=2))

    def at(moment: datetime) -> ChainStatus:
        return validate_chain(
            signer,
            trust_roots=roots,
            intermediates=inter,
            crls=crls,
            moment=moment,
            retroactive_revinfo=True,
        ).status

    assert at(now - timedelta(days=10)) is ChainStatus.VALID  # order A
    assert at(now - timedelta(hours=1)) is ChainStatus.REVOKED  # order B


def test_a_result_is_not_reused_past_a_revocation_listed_for_later(ca: TestCa) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    cert = ca.issue_for_public_key(
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Later Revoked Pharmacy"),
        dea_number="AB1234563",
        schedules=parse_schedule_list("2"),
        now=now - timedelta(days=1),
    )
    ca.revoke(cert.serial_number, reason="keyCompromise", when=now + timedelta(minutes=10))
    signer, roots = _asn1(cert), [_asn1(ca.root_certificate)]
    inter, crls = [_asn1(ca.issuing_certificate)], _crls(ca, now)

    def at(moment: datetime) -> ChainStatus:
        return validate_chain(
            signer, trust_roots=roots, intermediates=inter, crls=crls, moment=moment
        ).status

    assert at(now + timedelta(minutes=1)) is ChainStatus.VALID
    assert at(now + timedelta(minutes=20)) is ChainStatus.REVOKED
