"""Module discovery order and PIN-state flags (no token needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pkcs11.constants import TokenFlag

from csos_desktop.domain.token_errors import NoModule
from csos_desktop.token.modules import (
    ENV_VAR,
    DriverSetting,
    ModuleLocked,
    discover_module,
    installed_modules,
)
from csos_desktop.token.slots import PinState, pin_state_from_flags

ALL = {"/flag.so", "/env.so", "/conf.so", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"}


def exists(path: str) -> bool:
    return path in ALL


def test_flag_beats_environment_beats_configuration_beats_known_paths() -> None:
    setting = DriverSetting("/conf.so", from_env="/env.so")
    assert discover_module("/flag.so", configured=setting, exists=exists).source == "--module"
    assert discover_module(None, configured=setting, exists=exists).path == "/env.so"
    assert (
        discover_module(None, configured=DriverSetting("/conf.so"), exists=exists).source
        == "configuration"
    )
    found = discover_module(None, exists=exists, platform="linux")
    assert found.vendor == "OpenSC"


def test_a_locked_driver_refuses_another_from_the_flag_or_the_variable() -> None:
    locked = DriverSetting("/conf.so", locked_by="/etc/csos-desktop/policy.toml")
    for flag, variable, named in (("/flag.so", None, "--module"), (None, "/env.so", ENV_VAR)):
        with pytest.raises(ModuleLocked) as refused:
            discover_module(flag, configured=replace(locked, from_env=variable), exists=exists)
        message = refused.value.message
        assert "Your IT administrator set the PKCS#11 driver to /conf.so" in message
        assert "/etc/csos-desktop/policy.toml" in message and f"{named} names" in message


def test_a_locked_driver_wins_and_the_same_driver_by_flag_is_no_change() -> None:
    locked = DriverSetting("/conf.so", locked_by="/etc/csos-desktop/policy.toml")
    for flag, variable in ((None, None), ("/conf.so", "/conf.so")):
        choice = discover_module(flag, configured=replace(locked, from_env=variable), exists=exists)
        assert choice.path == "/conf.so"
        assert choice.source == "machine policy (locked, /etc/csos-desktop/policy.toml)"


def test_missing_explicit_module_names_the_source_and_path() -> None:
    with pytest.raises(NoModule, match=r"--module does not exist: /nope.so"):
        discover_module("/nope.so", exists=exists)


def test_no_module_anywhere_tells_what_to_install() -> None:
    with pytest.raises(NoModule, match="OpenSC"):
        discover_module(None, exists=lambda p: False)


def test_known_paths_cover_each_platform() -> None:
    for platform in ("linux", "win32", "darwin"):
        vendors = {m.vendor for m in installed_modules(exists=lambda p: True, platform=platform)}
        assert {
            "OpenSC",
            "SafeNet eToken",
            "Thales IDPrime",
            "YubiKey (ykcs11)",
            "SoftHSM2",
        } <= vendors


BASE = TokenFlag.USER_PIN_INITIALIZED | TokenFlag.LOGIN_REQUIRED


@pytest.mark.parametrize(
    ("flags", "state"),
    [
        (BASE, PinState.OK),
        (BASE | TokenFlag.USER_PIN_COUNT_LOW, PinState.COUNT_LOW),
        (BASE | TokenFlag.USER_PIN_COUNT_LOW | TokenFlag.USER_PIN_FINAL_TRY, PinState.FINAL_TRY),
        (BASE | TokenFlag.USER_PIN_FINAL_TRY | TokenFlag.USER_PIN_LOCKED, PinState.LOCKED),
        (BASE | TokenFlag.USER_PIN_TO_BE_CHANGED, PinState.TO_BE_CHANGED),
        (TokenFlag.LOGIN_REQUIRED, PinState.NOT_INITIALIZED),
    ],
)
def test_most_severe_pin_state_wins(flags: TokenFlag, state: PinState) -> None:
    assert pin_state_from_flags(flags) is state
