"""A token as the app shows it, the user PIN's state and the one set of words for it.

Pure values read by the CLI, the GUI and doctor; the token layer fills them in.

PKCS#11 reports flags, not a count of tries left: the state is the most severe
flag, and the same type says what the token reported after a wrong PIN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum


class PinState(Enum):
    """The user PIN's state as the token's flags report it (checked before asking)."""

    OK = "ok"
    COUNT_LOW = "count-low"
    FINAL_TRY = "final-try"
    LOCKED = "locked"
    TO_BE_CHANGED = "to-be-changed"
    NOT_INITIALIZED = "not-initialized"


class PinSeverity(Enum):
    """How a screen colours the state; ``BLOCKED`` means the token cannot sign at all."""

    OK = "ok"
    WARN = "warn"
    BAD = "bad"
    BLOCKED = "blocked"


LOCKED_ADVICE = (
    "Do not try again: your token administrator (security officer) must unblock it, or ask "
    "your certificate authority for a replacement token."
)


@dataclass(frozen=True)
class PinWording:
    """``short`` for a status line or card; ``advice`` shown before the PIN is asked."""

    severity: PinSeverity
    short: str
    advice: str | None


PIN_WORDING: dict[PinState, PinWording] = {
    PinState.OK: PinWording(PinSeverity.OK, "PIN ready", None),
    PinState.COUNT_LOW: PinWording(
        PinSeverity.WARN,
        # CKF_USER_PIN_COUNT_LOW: at least one wrong PIN since the last good login.
        "PIN: a wrong PIN was entered, few left",
        "A wrong PIN was entered since the last successful login: few tries are left "
        "before the token locks.",
    ),
    PinState.FINAL_TRY: PinWording(
        PinSeverity.BAD,
        "PIN: final try before the token locks",
        "FINAL TRY: one more wrong PIN locks this token. If you are not sure of the PIN, "
        "stop and contact your token administrator.",
    ),
    PinState.LOCKED: PinWording(
        PinSeverity.BLOCKED,
        "PIN locked: contact your token administrator",
        "The PIN of this token is locked after too many wrong tries. " + LOCKED_ADVICE,
    ),
    PinState.TO_BE_CHANGED: PinWording(
        PinSeverity.WARN,
        "PIN must be changed",
        "The token asks for its PIN to be changed; change it with the token vendor's tool.",
    ),
    PinState.NOT_INITIALIZED: PinWording(
        PinSeverity.BLOCKED,
        "Token not initialised",
        "This token has no user PIN yet; it cannot sign.",
    ),
}


def pin_wording(state: PinState) -> PinWording:
    return PIN_WORDING[state]


#: How a software module is labelled wherever a token is shown (21 CFR 1311.115).
SOFTWARE_TOKEN_LABEL = "software token — for testing"


@dataclass(frozen=True)
class TokenInfo:
    """One token in one slot, with the flags the app shows before asking for a PIN."""

    slot_id: int
    slot_description: str
    label: str
    manufacturer: str
    model: str
    serial: str
    login_required: bool
    protected_auth_path: bool
    pin_state: PinState
    #: A software module (SoftHSM2, ...), not a hard token (21 CFR 1311.115).
    software: bool = False

    @property
    def kind_text(self) -> str:
        """How the token is labelled wherever it is shown."""
        return SOFTWARE_TOKEN_LABEL if self.software else "hardware token"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["pin_state"] = self.pin_state.value
        return data
