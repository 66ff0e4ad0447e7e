"""Nothing PIN-, code- or credential-like reaches a log file."""

from __future__ import annotations

import logging

import pytest

from csos_desktop.logs import log_file, redact, setup_logging
from tests.conftest import TEST_PIN, Provisioned


@pytest.mark.parametrize(
    "line, secret",
    [
        ("login with pin=482913", "482913"),
        ("user_pin: 770011 accepted", "770011"),
        ("PIN 555123 entered", "555123"),
        ("Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.payload.sig", "eyJhbGciOiJFUzI1NiJ9"),
        ('{"authorization_code": "QWER-7788", "reference_number": "40019"}', "QWER-7788"),
        ('{"authorization_code": "QWER-7788", "reference_number": "40019"}', "40019"),
        ("reference number 31415926", "31415926"),
        ("authorization code is ZXCV-4455", "ZXCV-4455"),
        ("GET https://pharm:hunter2@dist.example/orders", "hunter2"),
        ("url=https://dist.example/cb?code=abc123def&state=x", "abc123def"),
        ("password='correct horse'", "correct horse"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
            "MIIEvQIBADANBg",
        ),
    ],
)
def test_secrets_are_redacted(line: str, secret: str) -> None:
    assert secret not in redact(line)
    assert "[REDACTED]" in redact(line)


@pytest.mark.parametrize(
    "line",
    [
        "token 'csos-rsa' inserted in slot 0 (PIN state: ok)",
        "order AB1234563-X01 signed by DEA AB1234563",
        "exit code 2",
        "Enter the PIN for token Main Street",
    ],
)
def test_ordinary_lines_are_kept(line: str) -> None:
    assert redact(line) == line


def test_log_file_holds_no_pin_even_in_arguments_and_tracebacks() -> None:
    path = setup_logging("DEBUG")
    log = logging.getLogger("csos_desktop.token.session")
    log.info("C_Login with pin=%s", "918273")
    try:
        raise ValueError("login failed: user_pin=918273, Authorization: Bearer sekr1tsekr1t")
    except ValueError:
        log.exception("while signing")
    for handler in logging.getLogger("csos_desktop").handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert path == log_file() and "while signing" in text and "ValueError" in text
    assert "918273" not in text and "sekr1tsekr1t" not in text


def test_redacted_json_is_still_json() -> None:
    import json

    text = json.dumps(
        {
            "exit_code": 2,
            "pin_state": "ok",
            "authorization_code": 'AB"12',
            "nested": {"password": "pw"},
        }
    )
    data = json.loads(redact(text))
    assert data["exit_code"] == 2 and data["pin_state"] == "ok"
    assert data["authorization_code"] == data["nested"]["password"] == "[REDACTED]"


# Secrets in free text, in no shape a pattern could know: only the values themselves
# identify them. The token session and the enrolment codes register what they handle.


@pytest.mark.parametrize(
    "line",
    [
        "the user typed 482913 and pressed Enter",
        "C_Login failed for '482913' (CKR_PIN_INCORRECT)",
        "retrying with 482913482913? no: 482913",
    ],
)
def test_a_bare_pin_the_process_used_is_redacted(line: str) -> None:
    from csos_desktop.known_secrets import remember_secret

    remember_secret("482913")
    out = redact(line)
    assert "482913" not in out and "[REDACTED]" in out


@pytest.mark.parametrize(
    "line",
    [
        "the CA rejected ZXCV-8812-QWER for reference 40019",
        "scanned code zxcv8812qwer from the letter",
        "typed ZXCV 8812 QWER into the form",
    ],
)
def test_a_one_time_code_in_free_text_is_redacted_in_any_form(line: str) -> None:
    from csos_desktop.enrol.est_client import OneTimeCodes

    OneTimeCodes("40019", "ZXCV-8812-QWER")  # what enrolment builds from the user's input
    out = redact(line)
    for form in ("ZXCV-8812-QWER", "zxcv8812qwer", "ZXCV 8812 QWER", "8812"):
        assert form.lower() not in out.lower()


def test_a_bare_pin_never_reaches_the_log_file_after_a_login(rsa_token: Provisioned) -> None:
    """Through the real token login, then a log line with the PIN and no keyword."""
    path = setup_logging("DEBUG")
    with rsa_token.session():
        pass  # logs in with TEST_PIN
    logging.getLogger("csos_desktop.test").warning("odd reply after %s was sent", TEST_PIN)
    for handler in logging.getLogger("csos_desktop").handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "odd reply after [REDACTED] was sent" in text and TEST_PIN not in text


def test_short_numbers_are_not_remembered() -> None:
    from csos_desktop.known_secrets import remember_secret

    remember_secret("12")
    assert redact("line 12 of 120") == "line 12 of 120"
