"""Choosing the certificate by the order's purchaser (services/signing/locations.py), no token:
real certificates from the sandbox CA for software keys, with the CKA_IDs a token would give."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.token_errors import KeyNotFound
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.signing.locations import (
    CertificateForAnotherDea,
    NoCertificateForPurchaser,
    SeveralCertificatesForPurchaser,
    Usability,
    choose_for_purchaser,
    order_schedules_covered,
)
from csos_desktop.services.signing.picker import remember_choice, remembered_choices
from csos_desktop.token.identity import SigningIdentity
from tests.unit.domain.samples import SAMPLE_NOW, sample_order_input
from tests.unit.store.helpers import software_identity

MAIN, NORTH, OTHER = "AB1234563", "BS2468139", "AC3456781"


def identity(ca: TestCa, dea: str, key_id: bytes) -> SigningIdentity:
    return replace(software_identity(ca, dea)[0], key_id=key_id)


@pytest.fixture(scope="module")
def token(test_ca: TestCa) -> list[SigningIdentity]:
    """What a token with two locations' certificates and a renewal for the first holds."""
    return [
        identity(test_ca, MAIN, b"\x0a"),
        identity(test_ca, NORTH, b"\x0b"),
        identity(test_ca, MAIN, b"\x0c"),
    ]


def known(identity: SigningIdentity) -> str | None:
    return MAIN if identity.info.matches_dea(MAIN) else None


def usable(problem: dict[bytes, str]) -> Usability:
    """Why each certificate cannot sign now (the session's checks, here given)."""
    return lambda i: problem.get(i.key_id)


def test_the_only_certificate_for_the_purchaser_is_chosen(token: list[SigningIdentity]) -> None:
    chosen = choose_for_purchaser(token, NORTH, cert_id=None, usable=usable({}), known=known)
    assert chosen.key_id == b"\x0b"


def test_no_certificate_for_the_purchaser_names_it_and_lists_the_token(
    token: list[SigningIdentity],
) -> None:
    with pytest.raises(NoCertificateForPurchaser) as refused:
        choose_for_purchaser(token, OTHER, cert_id=None, usable=usable({}), known=known)
    message = refused.value.message
    assert f"for DEA number {OTHER}" in message
    assert "--cert-id 0a" in message and "--cert-id 0b" in message
    assert f"({MAIN};" in message  # known for Main Street
    assert "(DEA number hash only;" in message  # Northside's number is not known


def test_several_for_one_purchaser_take_the_only_usable_one(token: list[SigningIdentity]) -> None:
    chosen = choose_for_purchaser(
        token, MAIN, cert_id=None, usable=usable({b"\x0a": "expired"}), known=known
    )
    assert chosen.key_id == b"\x0c"


def test_several_usable_for_one_purchaser_ask_for_cert_id(token: list[SigningIdentity]) -> None:
    with pytest.raises(SeveralCertificatesForPurchaser) as refused:
        choose_for_purchaser(token, MAIN, cert_id=None, usable=usable({}), known=known)
    message = refused.value.message
    assert "choose one with --cert-id" in message
    assert "--cert-id 0a" in message and "--cert-id 0c" in message
    assert "--cert-id 0b" not in message  # another location's: not a candidate


def test_none_usable_says_why_for_each(token: list[SigningIdentity]) -> None:
    problems = {b"\x0a": "expired on 2026-01-01", b"\x0c": "does not authorise schedule(s) 2"}
    with pytest.raises(NoCertificateForPurchaser) as refused:
        choose_for_purchaser(token, MAIN, cert_id=None, usable=usable(problems), known=known)
    assert "expired on 2026-01-01" in refused.value.message
    assert "does not authorise schedule(s) 2" in refused.value.message


def test_cert_id_must_be_for_the_purchaser(token: list[SigningIdentity]) -> None:
    assert choose_for_purchaser(token, MAIN, cert_id="0x0C", usable=usable({}), known=known).key_id
    with pytest.raises(CertificateForAnotherDea, match="another DEA number than the order's"):
        choose_for_purchaser(token, MAIN, cert_id="0b", usable=usable({}), known=known)
    with pytest.raises(KeyNotFound, match="No CSOS certificate with id ff"):
        choose_for_purchaser(token, MAIN, cert_id="ff", usable=usable({}), known=known)


def test_schedules_the_certificate_does_not_cover(test_ca: TestCa) -> None:
    ident = identity(test_ca, MAIN, b"\x0a")
    narrow = replace(ident, info=replace(ident.info, schedules=frozenset({Schedule.IV})))
    order = parse_order_input(sample_order_input(), now=SAMPLE_NOW)
    assert order_schedules_covered(ident, order) is None
    assert order_schedules_covered(narrow, order) == "does not authorise schedule(s) 2"


def test_the_choice_is_remembered_per_dea_number(tmp_path: Path) -> None:
    assert remembered_choices(tmp_path) == {}
    remember_choice("ab1234563", "0a", tmp_path)
    remember_choice(NORTH, "0b", tmp_path)
    assert remembered_choices(tmp_path) == {MAIN: "0a", NORTH: "0b"}
    (tmp_path / "certificate-choices.json").write_text("{not json", encoding="utf-8")
    assert remembered_choices(tmp_path) == {}  # the picker preselects again; nothing breaks
