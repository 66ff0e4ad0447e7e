"""One-time enrolment codes: hashed, single-use, expiring, locked after wrong tries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.sandbox.codes import (
    DEFAULT_MAX_ATTEMPTS,
    SOURCE_MAX_FAILURES,
    CodeFailure,
    CodeRejected,
    CodeStore,
    IssuedCodes,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: The client address wrong tries are counted against.
HERE = "192.0.2.10"
SCHEDULES = parse_schedule_list("2,3")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> CodeStore:
    return CodeStore(tmp_path, clock=clock)


def _issue(store: CodeStore, **kw: int) -> IssuedCodes:
    return store.issue(
        name="Main Street Pharmacy", dea_number="AB1234563", schedules=SCHEDULES, **kw
    )


def _refused(store: CodeStore, ref: str, code: str, source: str = HERE) -> CodeRejected:
    with pytest.raises(CodeRejected) as err:
        store.check(ref, code, source=source)
    return err.value


def test_the_authorisation_code_is_stored_only_as_a_hash(store: CodeStore, tmp_path: Path) -> None:
    codes = _issue(store)
    text = (tmp_path / "codes.json").read_text()
    assert codes.reference_number in text
    assert codes.authorization_code not in text
    assert codes.authorization_code.replace("-", "") not in text
    assert codes.authorization_code not in repr(codes)
    assert (tmp_path / "codes.json").stat().st_mode & 0o077 == 0


def test_check_returns_the_application_without_spending_the_codes(store: CodeStore) -> None:
    codes = _issue(store)
    for _ in range(2):
        app = store.check(codes.reference_number, codes.authorization_code, source=HERE)
    assert (app.dea_number, app.schedules, app.name) == (
        "AB1234563",
        SCHEDULES,
        "Main Street Pharmacy",
    )


def test_codes_work_once(store: CodeStore) -> None:
    codes = _issue(store)
    with store.redeem(codes.reference_number, codes.authorization_code, source=HERE) as r:
        assert r.issued_spki_sha256 is None
        r.record(7, "ab" * 32, b"cert")
    assert (
        _refused(store, codes.reference_number, codes.authorization_code).failure
        is CodeFailure.USED
    )
    with store.redeem(codes.reference_number, codes.authorization_code, source=HERE) as again:
        # Let through only so the server can resend the same certificate for the same key.
        assert again.issued_spki_sha256 == "ab" * 32 and again.previous_certificate == b"cert"


def test_a_failed_issuance_does_not_spend_the_codes(store: CodeStore) -> None:
    codes = _issue(store)
    with (
        pytest.raises(RuntimeError),
        store.redeem(codes.reference_number, codes.authorization_code, source=HERE),
    ):
        raise RuntimeError("bad CSR")
    store.check(codes.reference_number, codes.authorization_code, source=HERE)


def test_wrong_codes_lock_even_the_right_code_without_counting_down(store: CodeStore) -> None:
    codes = _issue(store, max_attempts=3)
    first = _refused(store, codes.reference_number, "nope")
    assert first.failure is CodeFailure.WRONG and "left" not in first.message
    assert "nope" not in first.message
    assert _refused(store, codes.reference_number, "nope").failure is CodeFailure.WRONG
    assert _refused(store, codes.reference_number, "nope").failure is CodeFailure.LOCKED
    locked = _refused(store, codes.reference_number, codes.authorization_code)
    assert locked.failure is CodeFailure.LOCKED and "new codes" in locked.message


def test_an_unknown_reference_is_answered_exactly_as_a_wrong_code(store: CodeStore) -> None:
    """Before: a known reference said "N attempt(s) left", an unknown one did not."""
    codes = _issue(store)
    for _ in range(DEFAULT_MAX_ATTEMPTS):
        wrong = _refused(store, codes.reference_number, "nope")
        unknown = _refused(store, "9999999999", codes.authorization_code)
        assert (wrong.failure, wrong.message) == (unknown.failure, unknown.message)


def test_wrong_tries_lock_a_reference_only_for_the_address_that_made_them(
    store: CodeStore,
) -> None:
    """Before: five wrong codes from anywhere locked the applicant out."""
    codes = _issue(store)
    for _ in range(DEFAULT_MAX_ATTEMPTS):
        _refused(store, codes.reference_number, "nope", source="198.51.100.7")
    locked = _refused(store, codes.reference_number, codes.authorization_code, "198.51.100.7")
    assert locked.failure is CodeFailure.LOCKED
    store.check(codes.reference_number, codes.authorization_code, source=HERE)


def test_an_address_guessing_across_references_is_locked_out(store: CodeStore) -> None:
    codes = _issue(store)
    guesser = "198.51.100.9"
    for n in range(SOURCE_MAX_FAILURES):
        _refused(store, f"{n:010d}", "nope", source=guesser)
    locked = _refused(store, codes.reference_number, codes.authorization_code, guesser)
    assert locked.failure is CodeFailure.LOCKED
    store.check(codes.reference_number, codes.authorization_code, source=HERE)


def test_codes_expire(store: CodeStore, clock: Clock) -> None:
    codes = _issue(store, valid_days=30)
    clock.now = NOW + timedelta(days=29, hours=23)
    store.check(codes.reference_number, codes.authorization_code, source=HERE)
    clock.now = NOW + timedelta(days=30)
    err = _refused(store, codes.reference_number, codes.authorization_code)
    assert err.failure is CodeFailure.EXPIRED and "2026-04-01" in err.message


def test_typing_is_forgiving_case_spaces_and_dashes(store: CodeStore) -> None:
    codes = _issue(store)
    typed = codes.authorization_code.lower().replace("-", " ")
    store.check(f"  {codes.reference_number} ", typed, source=HERE)


def test_issue_refuses_bad_applicant_data(store: CodeStore) -> None:
    with pytest.raises(InputError, match="check digit"):
        store.issue(name="X", dea_number="AB1234564", schedules=SCHEDULES)
    with pytest.raises(InputError, match="name"):
        store.issue(name=" ", dea_number="AB1234563", schedules=SCHEDULES)
    with pytest.raises(InputError, match="schedule"):
        store.issue(name="X", dea_number="AB1234563", schedules=frozenset())


def test_each_issue_gets_a_fresh_reference_and_code(store: CodeStore) -> None:
    a, b = _issue(store), _issue(store)
    assert a.reference_number != b.reference_number
    assert a.authorization_code != b.authorization_code
    assert len(a.authorization_code.replace("-", "")) == 24
