"""Finding the PKCS#11 driver (module) for the user's token.

Order: explicit flag, ``CSOS_PKCS11_MODULE``, configuration/policy, then the
known install paths of common vendors on this OS.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from csos_desktop.domain.token_errors import NoModule

ENV_VAR = "CSOS_PKCS11_MODULE"

# Vendor -> install paths, most common first. Sources: each vendor's install
# documentation and Debian/Ubuntu package file lists.
_KNOWN_LINUX: tuple[tuple[str, str], ...] = (
    ("OpenSC", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"),
    ("OpenSC", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"),
    ("OpenSC", "/usr/lib/opensc-pkcs11.so"),
    ("SafeNet eToken", "/usr/lib/libeToken.so"),
    ("SafeNet eToken", "/usr/lib/libeTPkcs11.so"),
    ("Thales IDPrime", "/usr/lib/libIDPrimePKCS11.so"),
    ("YubiKey (ykcs11)", "/usr/lib/x86_64-linux-gnu/libykcs11.so"),
    ("YubiKey (ykcs11)", "/usr/lib/libykcs11.so"),
    ("SoftHSM2", "/usr/lib/softhsm/libsofthsm2.so"),
    ("SoftHSM2", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
)
_KNOWN_WINDOWS: tuple[tuple[str, str], ...] = (
    ("OpenSC", r"C:\Windows\System32\opensc-pkcs11.dll"),
    ("SafeNet eToken", r"C:\Windows\System32\eTPKCS11.dll"),
    ("Thales IDPrime", r"C:\Windows\System32\IDPrimePKCS1164.dll"),
    ("YubiKey (ykcs11)", r"C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll"),
    ("SoftHSM2", r"C:\SoftHSM2\lib\softhsm2-x64.dll"),
)
_KNOWN_MACOS: tuple[tuple[str, str], ...] = (
    ("OpenSC", "/Library/OpenSC/lib/opensc-pkcs11.so"),
    ("SafeNet eToken", "/usr/local/lib/libeTPkcs11.dylib"),
    (
        "Thales IDPrime",
        "/Library/Frameworks/eToken.framework/Versions/Current/libIDPrimePKCS11.dylib",
    ),
    ("YubiKey (ykcs11)", "/usr/local/lib/libykcs11.dylib"),
    ("SoftHSM2", "/usr/local/lib/softhsm/libsofthsm2.so"),
)


@dataclass(frozen=True)
class ModuleChoice:
    """The module picked and where the choice came from (shown by doctor and settings)."""

    path: str
    source: str
    vendor: str = ""


def known_modules(platform: str = sys.platform) -> tuple[tuple[str, str], ...]:
    """(vendor, path) pairs we look for on this platform."""
    if platform.startswith("win"):
        return _KNOWN_WINDOWS
    if platform == "darwin":
        return _KNOWN_MACOS
    return _KNOWN_LINUX


def installed_modules(
    *, exists: Callable[[str], bool] = os.path.exists, platform: str = sys.platform
) -> list[ModuleChoice]:
    """Known modules present on this machine, for a settings list."""
    return [
        ModuleChoice(path, f"known path ({vendor})", vendor)
        for vendor, path in known_modules(platform)
        if exists(path)
    ]


def discover_module(
    explicit: str | None = None,
    *,
    configured: str | None = None,
    env: Mapping[str, str] | None = None,
    exists: Callable[[str], bool] = os.path.exists,
    platform: str = sys.platform,
) -> ModuleChoice:
    """Pick the PKCS#11 module; raise NoModule with what was tried."""
    env = os.environ if env is None else env
    for value, source in (
        (explicit, "--module"),
        (env.get(ENV_VAR), ENV_VAR),
        (configured, "configuration"),
    ):
        if value:
            if not exists(value):
                raise NoModule(
                    f"The PKCS#11 driver given by {source} does not exist: {value}. "
                    "Check the path, or install your token's driver."
                )
            return ModuleChoice(value, source)
    found = installed_modules(exists=exists, platform=platform)
    if found:
        return found[0]
    raise NoModule(
        "No PKCS#11 driver for a token was found. Install your token's driver "
        "(for most smart cards: OpenSC), or give its path with --module or the "
        f"{ENV_VAR} environment variable."
    )
