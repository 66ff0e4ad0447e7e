"""The DEA CSOS profile: hash-bound DEA number, schedules bit string, read from certificates
made by `openssl x509 -req -extfile` as well as by our sandbox CA."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from asn1crypto import core, pem
from asn1crypto import x509 as asn1_x509
from hypothesis import given
from hypothesis import strategies as st

from csos_desktop.domain.schedule import Schedule
from csos_desktop.pki.profile import (
    NotACsosCertificate,
    dea_number_hash,
    dea_number_matches,
    decode_schedules,
    encode_schedules,
    read_csos_profile,
    read_epcs_certificate,
)
from tests.openssl_pki import (
    DEA,
    HASH_AS_IA5_HEX,
    HASH_AS_OCTET_STRING,
    HASH_AS_UTF8_HEX,
    OID,
    SCHEDULES_AS_BITS,
    SCHEDULES_AS_TEXT,
    SUBJECT_SERIAL,
    OpensslCa,
    dea_extension_lines,
    needs_openssl,
    new_public_key,
)

pytestmark = needs_openssl


def _load(path: Path) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(pem.unarmor(path.read_bytes())[2])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[OpensslCa, Path]:
    d = tmp_path_factory.mktemp("openssl-ca")
    return OpensslCa.create(d / "ca"), new_public_key(d)


def test_dea_number_hash_is_sha1_of_the_number_and_the_subject_serial_number() -> None:
    expected = hashlib.sha1(b"AB1234563" + b"FOREIGN-0001").digest()
    assert dea_number_hash("AB1234563", "FOREIGN-0001") == expected
    assert dea_number_hash(" ab1234563 ", "FOREIGN-0001") == expected  # as typed
    assert dea_number_hash("AB1234563", "FOREIGN-0002") != expected


def test_schedules_2_to_5_are_the_single_byte_7e_with_one_unused_bit() -> None:
    everything_but_1 = frozenset(Schedule) - {Schedule.I}
    assert encode_schedules(everything_but_1) == bytes([0x03, 0x02, 0x01, 0x7E])
    assert encode_schedules({Schedule.I}) == bytes([0x03, 0x02, 0x07, 0x80])


@given(st.frozensets(st.sampled_from(list(Schedule)), min_size=1))
def test_schedules_round_trip(schedules: frozenset[Schedule]) -> None:
    assert decode_schedules(encode_schedules(schedules)) == schedules


def test_schedules_as_a_dollar_separated_string_are_accepted() -> None:
    assert decode_schedules(bytes(core.PrintableString("2$2N$3N").dump())) == {
        Schedule.II,
        Schedule.II_NON_NARCOTIC,
        Schedule.III_NON_NARCOTIC,
    }


def test_unknown_schedule_bits_are_refused() -> None:
    with pytest.raises(NotACsosCertificate, match="beyond schedule 5"):
        decode_schedules(bytes(core.BitString((0, 1, 0, 0, 0, 0, 0, 1)).dump()))


@pytest.mark.parametrize(
    ("hash_value", "schedules", "expected"),
    [
        (HASH_AS_OCTET_STRING, SCHEDULES_AS_BITS, frozenset(Schedule) - {Schedule.I}),
        (HASH_AS_IA5_HEX, SCHEDULES_AS_TEXT, {Schedule.II, Schedule.II_NON_NARCOTIC, Schedule.III}),
        (HASH_AS_UTF8_HEX, SCHEDULES_AS_BITS, frozenset(Schedule) - {Schedule.I}),
    ],
    ids=["octet-string+bits", "ia5-hex+dollar-text", "utf8-hex+bits"],
)
def test_an_openssl_made_certificate_is_read(
    pki: tuple[OpensslCa, Path],
    hash_value: str,
    schedules: str,
    expected: frozenset[Schedule],
) -> None:
    ca, pub = pki
    cert = _load(
        ca.issue(
            f"enc-{hash_value[:8]}-{schedules[-3:]}".replace(":", "").replace("\\", ""),
            pub,
            extensions=dea_extension_lines(hash_value, schedules),
        )
    )
    info = read_csos_profile(cert)
    assert info.subject == "Foreign Pharmacist" and info.subject_serial == SUBJECT_SERIAL
    assert info.schedules == expected
    assert dea_number_matches(cert, DEA) and not dea_number_matches(cert, "BS1234563")
    assert info.registrant_name == "Foreign Pharmacy"
    assert info.business_activity == "Retail Pharmacy"
    assert info.postal_address == ("1 Main St", "Springfield", "IL 62701")
    assert info.version == 1


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("no-dea", {"extensions": []}, "not a DEA CSOS certificate"),
        (
            "no-schedules",
            {"extensions": [f"{OID}.3={HASH_AS_OCTET_STRING}"]},
            "authorised schedules",
        ),
        (
            "short-hash",
            {"extensions": [f"{OID}.3=DER:04:02:ab:cd", f"{OID}.4={SCHEDULES_AS_BITS}"]},
            "does not hold a SHA-1 hash",
        ),
        (
            "bad-schedules",
            {"extensions": [f"{OID}.3={HASH_AS_OCTET_STRING}", f"{OID}.4=ASN1:INTEGER:7"]},
            "neither a bit string",
        ),
        (
            "no-serial",
            {"subject": "/C=US/CN=Foreign Pharmacist"},
            "subject has no serialNumber",
        ),
        ("no-digsig", {"key_usage": "critical,keyEncipherment"}, "digital signatures"),
    ],
)
def test_missing_or_malformed_dea_data_is_not_a_csos_certificate(
    pki: tuple[OpensslCa, Path], name: str, kwargs: dict[str, object], message: str
) -> None:
    ca, pub = pki
    cert = _load(ca.issue(name, pub, **kwargs))  # type: ignore[arg-type]
    with pytest.raises(NotACsosCertificate, match=message):
        read_csos_profile(cert)


def test_a_ca_certificate_is_never_a_signing_certificate(pki: tuple[OpensslCa, Path]) -> None:
    ca, _ = pki
    with pytest.raises(NotACsosCertificate, match="CA certificate"):
        read_csos_profile(_load(ca.root))
    with pytest.raises(NotACsosCertificate, match="CA certificate"):
        read_epcs_certificate(_load(ca.root))


def test_an_epcs_certificate_without_dea_extensions_is_a_prescription_signer(
    pki: tuple[OpensslCa, Path],
) -> None:
    ca, pub = pki
    cert = _load(ca.issue("csp", pub, extensions=[]))
    info = read_epcs_certificate(cert)
    assert not info.has_dea_extensions and not info.matches_dea(DEA)
    with pytest.raises(NotACsosCertificate):
        read_csos_profile(cert)
    # One that carries them is read strictly, as a CSOS certificate.
    assert read_epcs_certificate(_load(ca.issue("csp-dea", pub))).matches_dea(DEA)
