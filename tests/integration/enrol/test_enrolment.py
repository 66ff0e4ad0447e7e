"""Enrolment against the sandbox CA over real TLS on a SoftHSM2 token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pkcs11 import Attribute, ObjectClass

from csos_desktop import paths
from csos_desktop.domain.errors import InputError
from csos_desktop.enrol.errors import CaCertificateUntrusted, EnrolmentCodesRefused
from csos_desktop.enrol.est_client import EstClient, OneTimeCodes
from csos_desktop.enrol.flow import Enrolled, Step, enrol
from csos_desktop.enrol.records import Records
from csos_desktop.enrol.token_keys import PENDING_PREFIX, pending_keys
from csos_desktop.sandbox.codes import CodeStore
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.session import TokenSession
from tests.integration.enrol.conftest import DEA, SCHEDULES, SandboxCa


def _key_ids(ts: TokenSession) -> set[bytes]:
    return {
        bytes(o[Attribute.ID])
        for o in ts.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
    }


def test_enrolment_puts_a_csos_certificate_for_an_on_token_key_on_the_token(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    steps: list[Step] = []
    records = Records(tmp_path)
    with sandbox_ca.client() as client:
        done = enrol(
            session,
            client,
            sandbox_ca.codes(),
            algorithm=KeyAlgorithm.P256,
            records=records,
            progress=steps.append,
        )
    assert steps == list(Step)
    assert (
        done.info.matches_dea(DEA) and done.dea_number == DEA and done.info.schedules == SCHEDULES
    )
    assert done.label.startswith(f"csos-{DEA}-")
    on_token = {c.key_id: c for c in read_certificates(session)}
    assert on_token[done.key_id].der == done.certificate_der
    assert on_token[done.key_id].label == done.label
    (key,) = session.session.get_objects(
        {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: done.key_id}
    )
    # 1311.30(d): born on the token, never extractable.
    assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE] and key[Attribute.LOCAL]
    assert key[Attribute.LABEL] == done.label
    assert done.key_id not in {p.key_id for p in pending_keys(session)}
    issuing = sandbox_ca.ca.issuing_certificate.public_bytes(Encoding.DER)
    assert any(c.der == issuing and not c.key_id for c in read_certificates(session))
    assert paths.chain_file().read_bytes().count(b"BEGIN CERTIFICATE") == 2
    record = records.ca()
    assert record is not None and record.ca_url == sandbox_ca.url
    assert record.endpoints is not None and record.endpoints.ocsp_url
    assert records.pending(PENDING_PREFIX) is None


def _enrol(
    session: TokenSession, sandbox_ca: SandboxCa, codes: OneTimeCodes, tmp_path: Path
) -> Enrolled:
    with sandbox_ca.client() as client:
        return enrol(session, client, codes, records=Records(tmp_path))


def test_reused_codes_are_refused_with_their_own_message(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    codes = sandbox_ca.codes()
    _enrol(session, sandbox_ca, codes, tmp_path)
    before = _key_ids(session)
    with pytest.raises(EnrolmentCodesRefused, match="already used") as err:
        _enrol(session, sandbox_ca, codes, tmp_path / "elsewhere")
    assert err.value.code == "code-used"
    assert _key_ids(session) == before, "no key is made when the codes are refused"


def test_wrong_codes_are_refused_exactly_as_an_unknown_reference(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    """Before: "4 attempt(s) left" told anyone which reference numbers exist."""
    codes = sandbox_ca.codes()
    before = _key_ids(session)
    with pytest.raises(EnrolmentCodesRefused, match="did not accept") as err:
        _enrol(session, sandbox_ca, OneTimeCodes(codes.reference_number, "AAAA-BBBB"), tmp_path)
    assert err.value.code == "wrong-code"
    assert "AAAA" not in err.value.message and "left" not in err.value.message
    with pytest.raises(EnrolmentCodesRefused) as unknown:
        _enrol(session, sandbox_ca, OneTimeCodes("0000000000", codes.authorization_code), tmp_path)
    assert (unknown.value.code, unknown.value.message) == (err.value.code, err.value.message)
    assert _key_ids(session) == before


def test_expired_codes_are_refused(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    past = datetime.now(UTC) - timedelta(days=31)
    issued = CodeStore(sandbox_ca.ca.directory, clock=lambda: past).issue(
        name="Late Pharmacy", dea_number=DEA, schedules=SCHEDULES, valid_days=30
    )
    with pytest.raises(EnrolmentCodesRefused, match="expired") as err:
        _enrol(
            session,
            sandbox_ca,
            OneTimeCodes(issued.reference_number, issued.authorization_code),
            tmp_path,
        )
    assert err.value.code == "code-expired"


def test_too_many_wrong_codes_lock_them_even_for_the_right_code(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    codes = sandbox_ca.codes(max_attempts=2)
    wrong = OneTimeCodes(codes.reference_number, "WRONG")
    with pytest.raises(EnrolmentCodesRefused) as first:
        _enrol(session, sandbox_ca, wrong, tmp_path)
    assert first.value.code == "wrong-code"
    with pytest.raises(EnrolmentCodesRefused) as second:
        _enrol(session, sandbox_ca, wrong, tmp_path)
    assert second.value.code == "too-many-attempts"
    with pytest.raises(EnrolmentCodesRefused, match="locked") as third:
        _enrol(session, sandbox_ca, codes, tmp_path)
    assert third.value.code == "too-many-attempts"


def test_codes_are_accepted_in_lower_case_without_dashes(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    codes = sandbox_ca.codes()
    typed = OneTimeCodes(
        f" {codes.reference_number} ", codes.authorization_code.replace("-", " ").lower()
    )
    done = _enrol(session, sandbox_ca, typed, tmp_path)
    on_token = {c.key_id: c.der for c in read_certificates(session)}
    assert on_token.get(done.key_id) == done.certificate_der
    assert done.dea_number == DEA


def test_a_ca_without_a_trusted_tls_certificate_gets_nothing(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    before = _key_ids(session)
    with (
        EstClient(sandbox_ca.url) as client,
        pytest.raises(CaCertificateUntrusted, match="--ca-bundle"),
    ):
        enrol(session, client, sandbox_ca.codes(), records=Records(tmp_path))
    assert _key_ids(session) == before


def test_plain_http_is_refused() -> None:
    with pytest.raises(InputError, match="https://"):
        EstClient("http://127.0.0.1:1")


def test_a_dea_number_other_than_the_applicants_stops_before_any_key(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    before = _key_ids(session)
    with sandbox_ca.client() as client, pytest.raises(InputError, match="AB1234563"):
        enrol(
            session, client, sandbox_ca.codes(), expected_dea="BJ6125341", records=Records(tmp_path)
        )
    assert _key_ids(session) == before


def test_certificate_names_the_served_crl_address(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    with sandbox_ca.client() as client:
        done = enrol(session, client, sandbox_ca.codes(), records=Records(tmp_path))
    cert = asn1_x509.Certificate.load(done.certificate_der)
    assert cert.crl_distribution_points[0]["distribution_point"].native == [
        f"{sandbox_ca.url}/crl/issuing.crl"
    ]
