"""Recognising software tokens from what a module says about itself."""

from __future__ import annotations

import pytest
from pkcs11.constants import SlotFlag

from csos_desktop.token.assurance import (
    SoftwareTokenRefused,
    is_software_token,
    require_hard_token,
)

HW = int(SlotFlag.TOKEN_PRESENT | SlotFlag.HW_SLOT | SlotFlag.REMOVABLE_DEVICE)


@pytest.mark.parametrize(
    ("manufacturer", "model", "slot", "flags"),
    [
        ("SoftHSM project", "SoftHSM v2", "SoftHSM slot ID 0x1", HW),
        ("Mozilla Foundation", "NSS 3", "NSS User Private Key and Certificate Services", HW),
        ("IBM", "SW   TPM", "tpmtok", HW),
        ("Acme", "Software token", "", HW),
        ("Acme", "Token 5", "Acme reader", int(SlotFlag.TOKEN_PRESENT)),  # no hardware slot
    ],
)
def test_software_modules_are_recognised(
    manufacturer: str, model: str, slot: str, flags: int
) -> None:
    assert is_software_token(
        manufacturer=manufacturer, model=model, slot_description=slot, slot_flags=flags
    )


@pytest.mark.parametrize(
    ("manufacturer", "model", "slot"),
    [
        ("SafeNet, Inc.", "eToken", "AKS ifdh 00 00"),
        ("piv_II", "PKCS#15 emulated", "Yubico YubiKey OTP+FIDO+CCID 00 00"),
        ("Gemalto", "ID Prime MD", "Alcor Micro AU9540 00 00"),
    ],
)
def test_hardware_tokens_in_hardware_slots_are_not(
    manufacturer: str, model: str, slot: str
) -> None:
    # "PKCS#15 emulated" is OpenSC's wording for a real PIV card such as a YubiKey.
    assert not is_software_token(
        manufacturer=manufacturer, model=model, slot_description=slot, slot_flags=HW
    )


def test_epcs_refuses_a_software_token_unless_allowed() -> None:
    with pytest.raises(SoftwareTokenRefused, match=r"software token — for testing.*1311\.115"):
        require_hard_token("csos-rsa", True, allowed=False)
    require_hard_token("csos-rsa", True, allowed=True)
    require_hard_token("etoken", False, allowed=False)
