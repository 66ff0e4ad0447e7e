"""The sandbox test CA issues CSOS certificates and CRLs a supplier can check (1305.22(c))."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, ObjectIdentifier
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import ExpiredError, NotYetValidError, RevokedError

from csos_desktop.domain.dea import DeaNumberInvalid
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.schedule import Schedule, parse_schedule_list
from csos_desktop.pki.profile import (
    DEA_EXTENSION_ARC,
    dea_number_hash,
    read_csos_profile,
)
from csos_desktop.sandbox.ca import (
    DEFAULT_CRL_URL,
    DEFAULT_ROOT_CRL_URL,
    CaDirectoryExists,
    CsrInvalid,
    IssueRefused,
    NotACaDirectory,
    RevocationRefused,
    TestCa,
)

from .conftest import DEA, PHARMACY, SubscriberKey, make_csr, write_pem

ALL = parse_schedule_list("2,2N,3,3N,4,5")
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")


def _der(obj: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return obj.public_bytes(serialization.Encoding.DER)


def _requested(name: x509.Name) -> x509.Name:
    """The subject without the serialNumber the CA adds."""
    return x509.Name([a for a in name if a.oid != x509.NameOID.SERIAL_NUMBER])


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], capture_output=True, text=True, timeout=30)


def _validate(ca: TestCa, cert: x509.Certificate, mode: str = "hard-fail") -> None:
    """Validate as the supplier-side verifier does: CRLs handed over, no fetching."""
    ctx = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(_der(ca.root_certificate))],
        other_certs=[asn1_x509.Certificate.load(_der(ca.issuing_certificate))],
        crls=[_der(ca.root_crl()), _der(ca.crl())],
        revocation_mode=mode,
        allow_fetching=False,
    )
    validator = CertificateValidator(asn1_x509.Certificate.load(_der(cert)), validation_context=ctx)
    asyncio.run(validator.async_validate_usage({"non_repudiation"}))  # type: ignore[no-untyped-call]


# ---- init / load ------------------------------------------------------------------------


def test_init_writes_certificates_keys_state_and_a_test_only_readme(tmp_path: Path) -> None:
    ca = TestCa.init(tmp_path / "ca")
    for name in ("root.pem", "chain.pem", "root-key.pem", "ca-key.pem", "state.json"):
        assert (ca.directory / name).is_file(), name
    for key in ("root-key.pem", "ca-key.pem"):
        assert stat.S_IMODE((ca.directory / key).stat().st_mode) == 0o600
    assert "NOT" in (ca.directory / "README.txt").read_text()
    assert "TEST" in (ca.directory / "README.txt").read_text()
    root, issuing = ca.root_certificate, ca.issuing_certificate
    assert issuing.issuer == root.subject
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = issuing.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert root.not_valid_after_utc - root.not_valid_before_utc >= timedelta(days=20 * 365)
    assert issuing.not_valid_after_utc - issuing.not_valid_before_utc >= timedelta(days=10 * 365)


def test_init_refuses_to_overwrite_an_existing_ca(ca: TestCa) -> None:
    before = (ca.directory / "ca-key.pem").read_bytes()
    with pytest.raises(CaDirectoryExists, match="already holds a test CA"):
        TestCa.init(ca.directory)
    assert (ca.directory / "ca-key.pem").read_bytes() == before


def test_load_explains_a_missing_or_incomplete_directory(tmp_path: Path, ca: TestCa) -> None:
    with pytest.raises(NotACaDirectory, match="not a directory"):
        TestCa.load(tmp_path / "nowhere")
    (ca.directory / "ca-key.pem").unlink()
    with pytest.raises(NotACaDirectory, match=r"missing ca-key\.pem"):
        TestCa.load(ca.directory)
    assert issubclass(NotACaDirectory, InputError)


def test_load_refuses_keys_that_do_not_match_the_certificates(tmp_path: Path) -> None:
    a, b = TestCa.init(tmp_path / "a"), TestCa.init(tmp_path / "b")
    shutil.copy(b.directory / "ca-key.pem", a.directory / "ca-key.pem")
    with pytest.raises(NotACaDirectory, match="do not match"):
        TestCa.load(a.directory)


def test_rsa_ca_issues_too(tmp_path: Path, ec_key: SubscriberKey) -> None:
    ca = TestCa.init(tmp_path / "rsa", algorithm="rsa2048", name_prefix="Other Sandbox")
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    assert "Other Sandbox Issuing CA" in cert.issuer.rfc4514_string()
    _validate(ca, cert)


# ---- issue ------------------------------------------------------------------------------


def test_certificate_carries_dea_number_and_schedules_for_the_supplier(
    ca: TestCa, subscriber_key: SubscriberKey
) -> None:
    schedules = parse_schedule_list("2,2N,3")
    cert = ca.issue(make_csr(subscriber_key), dea_number=" ab1234563 ", schedules=schedules)
    info = read_csos_profile(asn1_x509.Certificate.load(_der(cert)))
    assert info.matches_dea(DEA) and not info.matches_dea("BS1234563")
    assert info.schedules == frozenset({Schedule.II, Schedule.II_NON_NARCOTIC, Schedule.III})
    # The CA adds the serialNumber the DEA-number hash is bound to; the rest is the request's.
    serial = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value
    assert info.subject_serial == serial
    assert info.dea_hash == dea_number_hash(DEA, str(serial))
    assert _requested(cert.subject) == PHARMACY
    assert 0 < cert.serial_number < 2**63


def test_certificate_follows_the_csos_profile(ca: TestCa, ec_key: SubscriberKey) -> None:
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    ext = cert.extensions
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    with pytest.raises(x509.ExtensionNotFound):
        ext.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)  # openssl S/MIME purpose
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    issuing_ski = ca.issuing_certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    assert aki.key_identifier == issuing_ski.digest
    assert ext.get_extension_for_class(x509.SubjectKeyIdentifier).value == (
        x509.SubjectKeyIdentifier.from_public_key(ec_key.public_key())
    )
    dea = [e for e in ext if e.oid.dotted_string.startswith(DEA_EXTENSION_ARC + ".")]
    assert [e.oid.dotted_string for e in dea] == [f"{DEA_EXTENSION_ARC}.{n}" for n in range(1, 7)]
    assert not any(e.critical for e in dea)
    schedules = ext.get_extension_for_oid(ObjectIdentifier(DEA_EXTENSION_ARC + ".4"))
    assert schedules.value.value == bytes.fromhex("0302017e")  # 2,2N,3,3N,4,5: 0x7E, 1 unused


def _dp(cert: x509.Certificate) -> list[x509.GeneralName] | None:
    try:
        value = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return None
    return list(value[0].full_name or [])


def test_certificates_name_a_crl_distribution_point(tmp_path: Path, ec_key: SubscriberKey) -> None:
    ca = TestCa.init(tmp_path / "default")
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    assert _dp(cert) == [x509.UniformResourceIdentifier(DEFAULT_CRL_URL)]
    assert _dp(ca.issuing_certificate) == [x509.UniformResourceIdentifier(DEFAULT_ROOT_CRL_URL)]
    assert _dp(ca.root_certificate) is None
    url = "https://localhost:8443/crl/issuing.crl"
    ca = TestCa.init(tmp_path / "ca", crl_url=url, root_crl_url=None)
    assert _dp(ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)) == [
        x509.UniformResourceIdentifier(url)
    ]
    assert _dp(ca.issuing_certificate) is None
    ca.crl_url = None
    assert TestCa.load(ca.directory).crl_url is None
    assert _dp(ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)) is None


def test_without_a_distribution_point_only_require_mode_checks_the_crl(
    tmp_path: Path, ec_key: SubscriberKey
) -> None:
    # Why the CA names a distribution point by default: pyhanko's "hard-fail" skips
    # CRLs for certificates that declare none; "require" always checks (1305.22(c)(3)).
    ca = TestCa.init(tmp_path / "ca", crl_url=None, root_crl_url=None)
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    ca.revoke(cert.serial_number, reason="keyCompromise")
    _validate(ca, cert, mode="hard-fail")  # passes: the CRL was never consulted
    with pytest.raises(RevokedError):
        _validate(ca, cert, mode="require")


def test_der_csr_is_accepted(ca: TestCa, ec_key: SubscriberKey) -> None:
    der = x509.load_pem_x509_csr(make_csr(ec_key)).public_bytes(serialization.Encoding.DER)
    assert _requested(ca.issue(der, dea_number=DEA, schedules=ALL).subject) == PHARMACY


@needs_openssl
def test_openssl_verifies_the_chain(
    tmp_path: Path, ca: TestCa, subscriber_key: SubscriberKey
) -> None:
    cert = write_pem(
        tmp_path / "cert.pem", ca.issue(make_csr(subscriber_key), dea_number=DEA, schedules=ALL)
    )
    d = ca.directory
    result = _openssl("verify", "-CAfile", d / "root.pem", "-untrusted", d / "chain.pem", cert)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("OK")


@needs_openssl
def test_openssl_cms_verify_accepts_a_signature_with_the_default_smime_purpose(
    tmp_path: Path, ca: TestCa, subscriber_key: SubscriberKey
) -> None:
    cert = write_pem(
        tmp_path / "cert.pem", ca.issue(make_csr(subscriber_key), dea_number=DEA, schedules=ALL)
    )
    key = tmp_path / "key.pem"
    key.write_bytes(
        subscriber_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    doc = tmp_path / "order.json"
    doc.write_text('{"schema":"csos-order/1"}')
    sig = tmp_path / "order.p7s"
    d = ca.directory
    signed = _openssl(
        "cms",
        "-sign",
        "-binary",
        "-in",
        doc,
        "-signer",
        cert,
        "-inkey",
        key,
        "-certfile",
        d / "chain.pem",
        "-outform",
        "DER",
        "-out",
        sig,
    )
    assert signed.returncode == 0, signed.stderr
    result = _openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        sig,
        "-content",
        doc,
        "-CAfile",
        d / "root.pem",
        "-out",
        os.devnull,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("offset", [-1, -5])
def test_csr_with_a_broken_signature_is_refused(
    ca: TestCa, subscriber_key: SubscriberKey, offset: int
) -> None:
    der = bytearray(
        x509.load_pem_x509_csr(make_csr(subscriber_key)).public_bytes(serialization.Encoding.DER)
    )
    der[offset] ^= 0x01  # the signature is the last field of a PKCS#10 request
    with pytest.raises(CsrInvalid, match="signature does not verify"):
        ca.issue(bytes(der), dea_number=DEA, schedules=ALL)
    assert ca.issued == ()


def test_garbage_is_not_a_csr(ca: TestCa) -> None:
    with pytest.raises(CsrInvalid, match="not a readable certificate signing request"):
        ca.issue(b"-----BEGIN CERTIFICATE REQUEST-----\nxx\n", dea_number=DEA, schedules=ALL)


def test_wrong_dea_number_or_no_schedules_is_refused(ca: TestCa, ec_key: SubscriberKey) -> None:
    csr = make_csr(ec_key)
    with pytest.raises(DeaNumberInvalid, match="check digit"):
        ca.issue(csr, dea_number="AB1234567", schedules=ALL)
    with pytest.raises(IssueRefused, match="at least one schedule"):
        ca.issue(csr, dea_number=DEA, schedules=frozenset())
    with pytest.raises(IssueRefused, match="days"):
        ca.issue(csr, dea_number=DEA, schedules=ALL, days=0)
    assert ca.issued == ()


def test_expired_and_not_yet_valid_certificates_for_tests(
    ca: TestCa, ec_key: SubscriberKey
) -> None:
    now = datetime.now(UTC)
    csr = make_csr(ec_key)
    expired = ca.issue(
        csr, dea_number=DEA, schedules=ALL, days=30, not_before=now - timedelta(days=60)
    )
    assert expired.not_valid_after_utc < now
    with pytest.raises(ExpiredError):
        _validate(ca, expired)
    future = ca.issue(csr, dea_number=DEA, schedules=ALL, not_before=now + timedelta(days=2))
    with pytest.raises(NotYetValidError):
        _validate(ca, future)
    # `now` moves the whole validity window (a certificate "issued" a week ago).
    past = ca.issue(csr, dea_number=DEA, schedules=ALL, days=3, now=now - timedelta(days=7))
    assert past.not_valid_after_utc.date() == (now - timedelta(days=4)).date()


# ---- revocation -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hard-fail", "require"])
def test_supplier_validation_accepts_then_reports_revoked(
    ca: TestCa, subscriber_key: SubscriberKey, mode: str
) -> None:
    cert = ca.issue(make_csr(subscriber_key), dea_number=DEA, schedules=ALL)
    _validate(ca, cert, mode)
    ca.revoke(cert.serial_number, reason="keyCompromise")
    with pytest.raises(RevokedError, match="compromised key"):
        _validate(ca, cert, mode)


def test_crl_lists_the_serial_with_its_reason(ca: TestCa, ec_key: SubscriberKey) -> None:
    keep = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    gone = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ca.revoke(gone.serial_number, reason="cessation_of_operation", when=when)
    crl = ca.crl()
    assert crl.issuer == ca.issuing_certificate.subject
    assert crl.is_signature_valid(ca.issuing_certificate.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(keep.serial_number) is None
    entry = crl.get_revoked_certificate_by_serial_number(gone.serial_number)
    assert entry is not None and entry.revocation_date_utc == when
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.cessation_of_operation
    assert ca.revocations[0].reason == "cessationOfOperation"


def test_unspecified_reason_is_left_out_of_the_entry(ca: TestCa, ec_key: SubscriberKey) -> None:
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    ca.revoke(cert.serial_number)
    entry = ca.crl().get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None and len(entry.extensions) == 0  # RFC 5280 5.3.1


def test_crl_numbers_increase_and_survive_reload(ca: TestCa) -> None:
    def number(crl: x509.CertificateRevocationList) -> int:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number

    assert [number(ca.crl()), number(ca.crl())] == [1, 2]
    assert number(TestCa.load(ca.directory).crl()) == 3
    root_crl = ca.root_crl()
    assert number(root_crl) == 1 and len(root_crl) == 0
    assert root_crl.issuer == ca.root_certificate.subject


@needs_openssl
def test_openssl_reads_the_crl_and_refuses_the_revoked_certificate(
    tmp_path: Path, ca: TestCa, subscriber_key: SubscriberKey
) -> None:
    cert = ca.issue(make_csr(subscriber_key), dea_number=DEA, schedules=ALL)
    cert_pem = write_pem(tmp_path / "cert.pem", cert)
    ca.revoke(cert.serial_number, reason="keyCompromise")
    crl = write_pem(tmp_path / "crl.pem", ca.crl())
    text = _openssl("crl", "-in", crl, "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert f"{cert.serial_number:X}" in text.stdout.upper().replace(":", "")
    assert "Key Compromise" in text.stdout
    crls = write_pem(tmp_path / "crls.pem", ca.root_crl(), ca.crl())
    d = ca.directory
    result = _openssl(
        "verify",
        "-crl_check_all",
        "-CRLfile",
        crls,
        "-CAfile",
        d / "root.pem",
        "-untrusted",
        d / "chain.pem",
        cert_pem,
    )
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr


def test_revoking_an_unknown_or_revoked_serial_is_refused(
    ca: TestCa, ec_key: SubscriberKey
) -> None:
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    with pytest.raises(RevocationRefused, match="never issued"):
        ca.revoke(cert.serial_number + 1)
    ca.revoke(cert.serial_number, reason="superseded")
    with pytest.raises(RevocationRefused, match="already revoked"):
        ca.revoke(cert.serial_number, reason="keyCompromise")
    with pytest.raises(RevocationRefused, match="unknown revocation reason"):
        ca.revoke(cert.serial_number, reason="lost it")
    assert len(ca.revocations) == 1


def test_revoking_the_issuing_ca_puts_it_on_the_root_crl(ca: TestCa, ec_key: SubscriberKey) -> None:
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=ALL)
    ca.revoke(ca.issuing_certificate.serial_number, reason="cACompromise")
    assert len(ca.crl()) == 0
    root_crl = ca.root_crl()
    assert (
        root_crl.get_revoked_certificate_by_serial_number(ca.issuing_certificate.serial_number)
        is not None
    )
    for mode in ("hard-fail", "require"):
        with pytest.raises(RevokedError, match="intermediate"):
            _validate(ca, cert, mode)


def test_state_persists_across_load(ca: TestCa, ec_key: SubscriberKey) -> None:
    cert = ca.issue(make_csr(ec_key), dea_number=DEA, schedules=parse_schedule_list("3,4"))
    ca.revoke(cert.serial_number, reason="affiliationChanged")
    again = TestCa.load(ca.directory)
    assert again.root_certificate == ca.root_certificate
    assert again.issuing_certificate == ca.issuing_certificate
    [issued] = again.issued
    assert (issued.serial, issued.dea_number) == (cert.serial_number, DEA)
    assert issued.schedules == {Schedule.III, Schedule.IV}
    assert issued.subject.endswith(PHARMACY.rfc4514_string())
    assert issued.not_after == cert.not_valid_after_utc
    assert [(r.serial, r.reason) for r in again.revocations] == [
        (cert.serial_number, "affiliationChanged")
    ]
    # A second process sees the first one's revocation (a running sandbox server, the CLI).
    state = json.loads((ca.directory / "state.json").read_text())
    assert state["revoked"][0]["serial"] == cert.serial_number
    assert again.crl().get_revoked_certificate_by_serial_number(cert.serial_number) is not None
