"""Opening the user's token: which driver, which token."""

from __future__ import annotations

import pkcs11
from pkcs11._pkcs11 import lib as Pkcs11Lib

from csos_desktop.domain.token_errors import NoModule, NoToken
from csos_desktop.token.library import load_library
from csos_desktop.token.modules import (
    DriverSetting,
    ModuleChoice,
    discover_module,
    installed_modules,
)
from csos_desktop.token.slots import find_token, present_tokens


def open_library(
    module: str | None = None, configured: DriverSetting | None = None
) -> tuple[ModuleChoice, Pkcs11Lib]:
    """Load the chosen driver; with no explicit choice, the first installed one holding a token."""
    choice = discover_module(module, configured=configured)
    if choice.source.startswith("known path"):
        for candidate in installed_modules():
            try:
                lib = load_library(candidate.path)
                if present_tokens(lib):
                    return candidate, lib
            except (NoModule, NoToken):
                continue
    return choice, load_library(choice.path)


def open_token(
    module: str | None = None,
    label: str | None = None,
    configured: DriverSetting | None = None,
) -> tuple[ModuleChoice, pkcs11.Token]:
    """The token to use, with the driver it was found through."""
    choice, lib = open_library(module, configured)
    return choice, find_token(lib, label)
