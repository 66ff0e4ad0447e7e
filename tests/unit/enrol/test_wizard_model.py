"""The enrolment wizard's steps without Qt: pages, checklist, and what a failure offers."""

from __future__ import annotations

from pathlib import Path

import pytest

from csos_desktop.domain.token_errors import PinLocked, TokenRemoved, WrongPin
from csos_desktop.domain.token_state import PinSeverity, PinState
from csos_desktop.enrol.errors import (
    CaCertificateUntrusted,
    CaRefused,
    CaReplyInvalid,
    CaUnavailable,
    CaUnreachable,
    EnrolmentCodesRefused,
    EnrolmentError,
)
from csos_desktop.enrol.est_client import _CODE_MESSAGES
from csos_desktop.enrol.flow import Enrolled, Step
from csos_desktop.enrol.records import CaRecord
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.enrol.wizard_steps import (
    KEY_STEPS,
    RETRY_HINT,
    EnrolmentWizardModel,
    Page,
    StepState,
    is_retryable,
)
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.slots import TokenInfo
from tests.unit.store.helpers import software_identity

URL = "https://ca.example:8443"


def _token(label: str = "csos-rsa", pin: PinState = PinState.OK) -> TokenInfo:
    return TokenInfo(0, "slot 0", label, "SoftHSM", "v2", "42", True, False, pin)


def _ready() -> EnrolmentWizardModel:
    model = EnrolmentWizardModel.from_record(CaRecord(URL, "/etc/ca.pem", None))
    model.tokens = [_token("other"), _token("csos-rsa", PinState.FINAL_TRY)]
    model.token_index = 1
    model.reference, model.code, model.dea = " REF-1 ", " abcd-efgh ", "AB1234563"
    model.algorithm = KeyAlgorithm.P256
    return model


@pytest.mark.parametrize("code", ["too-many-attempts", "code-expired", "code-used", "wrong-code"])
def test_codes_refused_are_never_retryable_whatever_the_words(code: str) -> None:
    error = EnrolmentCodesRefused(_CODE_MESSAGES[code], code)
    problem = EnrolmentWizardModel().failed(error)
    assert not problem.retryable and RETRY_HINT not in problem.text
    if code == "too-many-attempts":
        assert "try again" in str(error)  # "Do not try again": the words once offered Retry


def test_only_the_error_type_or_instance_makes_a_failure_retryable() -> None:
    retry = [
        CaUnreachable("The CA did not answer."),
        CaUnavailable("HTTP 503."),
        CaReplyInvalid("The connection broke off; try again.", retryable=True),
    ]
    no_retry = [
        EnrolmentError("Something else; try again."),
        CaReplyInvalid("The CA's reply is not valid JSON."),
        CaCertificateUntrusted("Not trusted."),
        CaRefused("Refused.", "bad-request"),
        TokenRemoved(),
        PinLocked("csos-rsa"),
        ValueError("a bug"),
    ]
    assert all(is_retryable(e) for e in retry)
    assert not any(is_retryable(e) for e in no_retry)
    problem = EnrolmentWizardModel().failed(retry[0])
    assert problem.retryable and problem.text.endswith(RETRY_HINT)


def test_pages_can_be_left_only_when_complete() -> None:
    model = EnrolmentWizardModel()
    assert not model.can_leave(Page.TOKEN) and model.token_note() == "No token found: insert it."
    model.tokens = [_token()]
    model.ca_url = "http://ca.example"
    assert not model.can_leave(Page.TOKEN)  # never without TLS
    model.ca_url = URL
    assert model.can_leave(Page.TOKEN) and not model.can_leave(Page.CODES)
    model.reference, model.code = "REF-1", "secret"
    assert model.can_leave(Page.CODES)
    assert not model.can_leave(Page.KEY) and not model.can_leave(Page.RETRIEVAL)


def test_the_request_holds_what_was_typed_and_start_forgets_the_code() -> None:
    model = _ready()
    assert (model.ca_url, model.ca_bundle) == (URL, "/etc/ca.pem")  # from the earlier enrolment
    request = model.request("/usr/lib/softhsm/libsofthsm2.so", None)
    assert request.target.label == "csos-rsa" and request.ca_bundle == Path("/etc/ca.pem")
    assert request.codes.reference_number == "REF-1"
    assert request.codes.authorization_code == "abcd-efgh"
    assert request.algorithm is KeyAlgorithm.P256 and request.expected_dea == "AB1234563"
    assert "abcd" not in repr(model) and "abcd" not in repr(request)
    model.start()
    assert model.code == "" and model.started


def test_the_pin_note_uses_the_one_pin_wording() -> None:
    model = _ready()
    severity, text = model.pin_note()
    assert severity is PinSeverity.BAD and "FINAL TRY" in text
    model.token_index = 0
    assert model.pin_note() == (PinSeverity.OK, "PIN of token 'other':")


def test_a_wrong_pin_asks_for_the_pin_again_without_retry() -> None:
    model = _ready()
    model.start()
    problem = model.login_failed(WrongPin(PinState.COUNT_LOW))
    assert problem.pin_again and not problem.retryable and not model.started


def test_steps_move_to_retrieval_and_finish(test_ca: TestCa) -> None:
    model = _ready()
    model.page = Page.KEY
    assert model.step(Step.APPLICATION) is False
    assert model.checklist(KEY_STEPS)[:2] == [
        (Step.APPLICATION, StepState.NOW),
        (Step.CA_CERTIFICATES, StepState.TO_DO),
    ]
    assert model.step(Step.SUBMIT) is True  # the key is made: on to the retrieval page
    assert model.page is Page.RETRIEVAL and model.can_leave(Page.KEY)
    assert all(state is StepState.DONE for _, state in model.checklist(KEY_STEPS))
    model.failed(CaUnreachable("The CA did not answer."))
    model.retry_started()
    assert model.problem is None
    identity, _ = software_identity(test_ca)
    model.finished(
        Enrolled(b"\x01", "k", identity.certificate_der, (), identity.info, "AB1234563", True)
    )
    assert model.page is Page.DONE and model.can_leave(Page.RETRIEVAL)
    assert "Certificate installed" in model.summary() and "reused" in model.summary()
