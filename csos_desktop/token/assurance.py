"""Is this a hardware token, or a software module that only imitates one?

21 CFR 1311.115 asks EPCS signing keys to be on a hard token separate from the
computer. Software modules (SoftHSM2, NSS softokn, a simulated TPM, ...) are
fine for testing and demos but must be labelled, and EPCS refuses them unless
the machine policy allows it (see services/tokens/assurance.py).
"""

from __future__ import annotations

from pkcs11.constants import SlotFlag

from csos_desktop.domain.errors import SessionRefused
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.domain.token_state import SOFTWARE_TOKEN_LABEL

# Words software modules use for themselves in manufacturer, model or slot text.
# Not "emulated": OpenSC calls real PIV cards "PKCS#15 emulated".
_SOFTWARE_MARKERS = ("softhsm", "software", "soft token", "softokn", "nss ")


def is_software_token(
    *, manufacturer: str, model: str, slot_description: str, slot_flags: int
) -> bool:
    """True for a module that says it is software, or a token not in a hardware slot."""
    if not slot_flags & SlotFlag.HW_SLOT:
        return True
    text = " ".join((manufacturer, model, slot_description)).lower() + " "
    if any(marker in text for marker in _SOFTWARE_MARKERS):
        return True
    # swtpm and IBM's software TPM call their model "SW   TPM".
    return model.upper().startswith("SW ")


class SoftwareTokenRefused(TokenError, SessionRefused):
    """EPCS signing was asked of a software token on a machine that does not allow it."""


def require_hard_token(token_label: str, software: bool, *, allowed: bool) -> None:
    """Refuse, before any PIN, EPCS signing on a software token unless policy allows it."""
    if software and not allowed:
        raise SoftwareTokenRefused(
            f"Token '{token_label}' is a {SOFTWARE_TOKEN_LABEL}: prescriptions for controlled "
            "substances must be signed with a hardware token (21 CFR 1311.115). Insert your "
            "hardware token; IT may allow software tokens on test machines only "
            "(allow_software_tokens = true in the machine policy)."
        )
