"""One type and one set of words for the PIN state, wherever it is shown."""

from __future__ import annotations

from csos_desktop.doctor.result import Status
from csos_desktop.doctor.token_checks import _pin_note
from csos_desktop.domain.token_errors import PinLocked, WrongPin
from csos_desktop.domain.token_state import (
    LOCKED_ADVICE,
    PIN_WORDING,
    PinSeverity,
    PinState,
    pin_wording,
)
from csos_desktop.token.slots import TokenInfo


def _info(state: PinState) -> TokenInfo:
    return TokenInfo(0, "slot", "csos-rsa", "SoftHSM", "v2", "1", True, False, state)


def test_every_state_has_words_and_only_locked_or_blank_tokens_block_signing() -> None:
    assert set(PIN_WORDING) == set(PinState)
    blocked = {s for s in PinState if pin_wording(s).severity is PinSeverity.BLOCKED}
    assert blocked == {PinState.LOCKED, PinState.NOT_INITIALIZED}
    assert all(pin_wording(s).advice for s in PinState if s is not PinState.OK)


def test_the_token_errors_and_the_doctor_use_the_same_state_and_words() -> None:
    assert "FINAL TRY" not in WrongPin(PinState.OK).message
    assert WrongPin(PinState.OK).message.endswith("Check the PIN and try again.")
    assert "One try is left" in WrongPin(PinState.FINAL_TRY).message
    assert LOCKED_ADVICE in PinLocked("csos-rsa").message
    assert LOCKED_ADVICE in pin_wording(PinState.LOCKED).advice  # type: ignore[operator]
    assert _pin_note(_info(PinState.OK)) == (Status.OK, "")
    status, text = _pin_note(_info(PinState.LOCKED))
    assert status is Status.ERROR and pin_wording(PinState.LOCKED).short in text
    status, text = _pin_note(_info(PinState.COUNT_LOW))
    assert status is Status.WARNING and "few left" in text
