"""Finding the PKCS#11 driver (module) for the user's token.

Order: explicit flag, ``CSOS_PKCS11_MODULE``, configuration/policy, then the
known install paths of common vendors on this OS. A driver the machine policy locked
comes before all of them: a flag or variable naming another driver is refused, not
quietly preferred. The variable is read by the run-time context at start-up and arrives
here inside :class:`DriverSetting`, with the configured value and its lock.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from csos_desktop.domain.token_errors import NoModule


class ModuleLocked(NoModule):
    """--module or the environment names a driver other than the one IT locked."""


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


@dataclass(frozen=True)
class DriverSetting:
    """What this run asks for besides --module, decided once by the run-time context."""

    #: The driver named by the machine policy or the user's settings.
    configured: str | None = None
    #: Where the machine policy that locked *configured* lives; None when it is not locked.
    locked_by: str | None = None
    #: The value of ``CSOS_PKCS11_MODULE`` at start-up (a candidate like --module).
    from_env: str | None = None


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
    configured: DriverSetting | None = None,
    exists: Callable[[str], bool] = os.path.exists,
    platform: str = sys.platform,
) -> ModuleChoice:
    """Pick the PKCS#11 module; raise NoModule with what was tried (ModuleLocked: refused)."""
    setting = configured or DriverSetting()
    candidates: tuple[tuple[str | None, str], ...]
    if setting.locked_by and setting.configured:
        _refuse_another(explicit, setting)
        candidates = ((setting.configured, f"machine policy (locked, {setting.locked_by})"),)
    else:
        candidates = (
            (explicit, "--module"),
            (setting.from_env, ENV_VAR),
            (setting.configured, "configuration"),
        )
    for value, source in candidates:
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


def _refuse_another(explicit: str | None, setting: DriverSetting) -> None:
    locked = str(setting.configured)
    for value, source in ((explicit, "--module"), (setting.from_env, ENV_VAR)):
        # The same file by another spelling (a symlink, a relative path) is no change.
        if value and os.path.realpath(value) != os.path.realpath(locked):
            raise ModuleLocked(
                f"Your IT administrator set the PKCS#11 driver to {locked} in the machine "
                f"policy ({setting.locked_by}); --module/{ENV_VAR} cannot change it "
                f"({source} names {value}). Remove {source}, or ask IT to change the policy."
            )
