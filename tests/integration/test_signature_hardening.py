"""Forward-dated signatures and the profile checks on the signer.

Every signature here is cryptographically valid and chains to the trusted test root:
only the check under test can refuse it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from csos_desktop.pki import cms as cms_oids
from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.pki.signed_check import Reason
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
    verify_now,
)


def _verify_order(ca: TestCa, document: bytes, signature: bytes) -> tuple[Reason, ...]:
    roots, crls = trust_of(ca)
    return verify_order(
        document, signature, trust_roots=roots, crls=crls, now=datetime.now(UTC)
    ).reasons


def _sign(
    ca: TestCa, document: bytes, when: datetime, rewrite=lambda attrs: attrs, **profile
) -> bytes:
    soft = SoftwareSigner()
    cert = crafted_certificate(ca, soft, **profile)
    return AttributeSigner(soft, cert, chain(ca), rewrite).sign(document, when)


def test_a_crafted_signer_with_the_csos_profile_is_accepted(test_ca: TestCa) -> None:
    now = datetime.now(UTC)
    document = order_document(now)
    assert _verify_order(test_ca, document, _sign(test_ca, document, now)) == ()


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(hours=3)])
def test_an_order_signed_in_the_future_is_refused(test_ca: TestCa, ahead: timedelta) -> None:
    when = datetime.now(UTC) + ahead
    document = order_document(when)
    reasons = _verify_order(test_ca, document, _sign(test_ca, document, when))
    assert reasons == (Reason.SIGNING_TIME_IN_FUTURE,)


def test_a_59_day_forward_dated_order_is_refused_today(test_ca: TestCa) -> None:
    when = datetime.now(UTC) + timedelta(days=59)
    document = order_document(when)
    assert Reason.SIGNING_TIME_IN_FUTURE in _verify_order(
        test_ca, document, _sign(test_ca, document, when)
    )


def test_a_signing_time_within_the_clock_skew_is_accepted(test_ca: TestCa) -> None:
    when = datetime.now(UTC) + timedelta(minutes=4)
    document = order_document(when)
    assert _verify_order(test_ca, document, _sign(test_ca, document, when)) == ()


def test_a_prescription_signed_in_the_future_is_refused(test_ca: TestCa) -> None:
    when = datetime.now(UTC) + timedelta(hours=2)
    document = rx_document(when)
    roots, crls = trust_of(test_ca)
    result = verify_prescription(
        document,
        _sign(test_ca, document, when),
        trust_roots=roots,
        crls=crls,
        now=datetime.now(UTC),
    )
    assert result.reasons == (Reason.SIGNING_TIME_IN_FUTURE,)
    assert "clock" in result.findings[0].message


@pytest.mark.parametrize(
    ("usage", "missing"),
    [
        (("digital_signature",), "nonRepudiation"),
        (("content_commitment",), "digitalSignature"),
        (None, "no key usage"),
    ],
)
def test_the_signer_needs_digital_signature_and_non_repudiation(
    test_ca: TestCa, usage: tuple[str, ...] | None, missing: str
) -> None:
    now = datetime.now(UTC)
    document = order_document(now)
    result = verify_now(test_ca, document, _sign(test_ca, document, now, usage=usage))
    assert Reason.CERTIFICATE_PROFILE in result.reasons
    assert (
        missing in dict((f.reason, f.message) for f in result.findings)[Reason.CERTIFICATE_PROFILE]
    )


def test_policy_oids_are_checked_when_the_profile_names_them(test_ca: TestCa) -> None:
    """The DEA profile table names no policy OID today; when it does, a signer must assert one."""
    from asn1crypto import x509 as asn1

    from csos_desktop.pki.signer_profile import signer_profile_problems

    named = frozenset({"2.16.840.1.101.3.2.1.12.1"})
    other_policy = x509.CertificatePolicies(
        [x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]
    )
    ours = x509.CertificatePolicies(
        [x509.PolicyInformation(x509.ObjectIdentifier(next(iter(named))), None)]
    )
    without = asn1.Certificate.load(crafted_certificate(test_ca, SoftwareSigner()))
    other = asn1.Certificate.load(
        crafted_certificate(test_ca, SoftwareSigner(), extra=[other_policy])
    )
    good = asn1.Certificate.load(crafted_certificate(test_ca, SoftwareSigner(), extra=[ours]))
    assert signer_profile_problems(without) == ()  # the profile names none: not checked
    assert "certificate policy" in signer_profile_problems(without, named)[0]
    assert "certificate policy" in signer_profile_problems(other, named)[0]
    assert signer_profile_problems(good, named) == ()


def _ess_for(cert_der: bytes, serial: int) -> bytes:
    cert = asn1_x509.Certificate.load(cert_der)
    value = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "cert_hash": hashlib.sha256(cert_der).digest(),
                    "issuer_serial": {
                        "issuer": [asn1_x509.GeneralName(name="directory_name", value=cert.issuer)],
                        "serial_number": serial,
                    },
                }
            ]
        }
    )
    return _attr(cms_oids.OID_SIGNING_CERTIFICATE_V2, bytes(value.dump()))


def _attr(oid: str, *values: bytes) -> bytes:
    from csos_desktop.pki.der import sequence, set_of

    return sequence(bytes(core.ObjectIdentifier(oid).dump()), set_of(*values))


def _oid_of(attr: bytes) -> str:
    from asn1crypto import cms

    return str(cms.CMSAttribute.load(attr)["type"].dotted)


def _replace(oid: str, *new: bytes):  # type: ignore[no-untyped-def]
    return lambda attrs: [a for a in attrs if _oid_of(a) != oid] + list(new)


def test_signing_certificate_v2_naming_another_certificate_is_malformed(test_ca: TestCa) -> None:
    now = datetime.now(UTC)
    document = order_document(now)
    other = crafted_certificate(test_ca, SoftwareSigner())
    rewrite = _replace(cms_oids.OID_SIGNING_CERTIFICATE_V2, _ess_for(other, 1))
    reasons = _verify_order(test_ca, document, _sign(test_ca, document, now, rewrite))
    assert reasons == (Reason.MALFORMED_SIGNATURE,)


def _time(when: datetime) -> bytes:
    from csos_desktop.pki.cms import _signing_time

    return _signing_time(when)


@pytest.mark.parametrize(
    "attack",
    ["two signing-time attributes", "two signing-time values", "two message-digest values"],
)
def test_repeated_or_multi_valued_signed_attributes_are_malformed(
    test_ca: TestCa, attack: str
) -> None:
    now = datetime.now(UTC)
    document = order_document(now)
    later = _time(now + timedelta(days=30))
    digest = b"\x04\x20" + hashlib.sha256(b"another document").digest()
    honest_digest = b"\x04\x20" + hashlib.sha256(document).digest()
    rewrite = {
        "two signing-time attributes": lambda a: [*a, _attr(cms_oids.OID_SIGNING_TIME, later)],
        "two signing-time values": _replace(
            cms_oids.OID_SIGNING_TIME, _attr(cms_oids.OID_SIGNING_TIME, _time(now), later)
        ),
        "two message-digest values": _replace(
            cms_oids.OID_MESSAGE_DIGEST,
            _attr(cms_oids.OID_MESSAGE_DIGEST, honest_digest, digest),
        ),
    }[attack]
    reasons = _verify_order(test_ca, document, _sign(test_ca, document, now, rewrite))
    assert reasons == (Reason.MALFORMED_SIGNATURE,)
