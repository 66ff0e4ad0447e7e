"""Machine policy from the Windows registry: ``HKLM\\Software\\Policies\\CSOS Desktop``.

Group Policy (the ADMX templates in ``installers/windows/policy/``) and Intune write one
value per setting there, named as ``csos config keys`` names it. A value under
``Software\\Policies`` is enforced by definition, so every value found is locked, and it
wins over the policy file's value for the same setting.

Text, address and path settings are REG_SZ; whole numbers are REG_DWORD (or digits in a
REG_SZ); true/false settings are REG_DWORD 1/0. The OS registry sits behind the
:class:`Registry` protocol so that everything here runs, and is tested, on any platform.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from csos_desktop.config.settings import BY_KEY, Kind, Setting, SettingInvalid, Value, check_value

POLICY_KEY = r"Software\Policies\CSOS Desktop"
#: How the key is named in messages and in `csos config show`.
POLICY_KEY_LABEL = "HKLM\\" + POLICY_KEY


class Registry(Protocol):
    """Read access to HKEY_LOCAL_MACHINE."""

    def read_values(self, key: str) -> Mapping[str, object] | None:
        """The named values of HKLM\\*key* (REG_SZ as str, REG_DWORD as int), or None when
        the key does not exist. Raises OSError when it exists but cannot be read."""
        ...


class WindowsRegistry:
    """The machine's registry through `winreg` (64-bit view, read only)."""

    def read_values(self, key: str) -> Mapping[str, object] | None:
        if sys.platform != "win32":
            raise OSError("there is no Windows registry on this system")
        import winreg  # Windows only; imported when the registry is read

        access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
        try:
            handle = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0, access)
        except FileNotFoundError:
            return None
        values: dict[str, object] = {}
        with handle:
            count = winreg.QueryInfoKey(handle)[1]
            for index in range(count):
                name, data, _kind = winreg.EnumValue(handle, index)
                values[name] = data
        return values


def machine_registry(platform: str | None = None) -> Registry | None:
    """The OS registry on Windows; None elsewhere."""
    return WindowsRegistry() if (platform or sys.platform) == "win32" else None


@dataclass(frozen=True)
class RegistryPolicy:
    """What the policy key holds (every value locked) and what in it could not be used."""

    present: bool
    values: Mapping[str, Value] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def read_registry_policy(registry: Registry) -> RegistryPolicy:
    """The settings under the policy key; bad values are reported, never raised."""
    try:
        raw = registry.read_values(POLICY_KEY)
    except OSError as exc:
        return RegistryPolicy(
            True,
            problems=(
                f"{POLICY_KEY_LABEL} cannot be read ({exc.strerror or exc}); the Group Policy "
                "settings are not applied. Ask IT to check the key's permissions.",
            ),
        )
    if raw is None:
        return RegistryPolicy(False)
    values: dict[str, Value] = {}
    problems: list[str] = []
    for name, data in raw.items():
        s = BY_KEY.get(name.lower())  # registry value names are case-insensitive
        if s is None:
            problems.append(f"{POLICY_KEY_LABEL}: unknown value {name!r} ignored.")
            continue
        try:
            values[s.key] = check_value(s, _as_setting_value(s, data))
        except SettingInvalid as exc:
            problems.append(f"{POLICY_KEY_LABEL}: {exc.message} The built-in default is used.")
    return RegistryPolicy(True, values, tuple(problems))


def _as_setting_value(s: Setting, data: object) -> object:
    """Registry data as the TOML value `check_value` expects (DWORD 1/0 for true/false)."""
    if s.kind is Kind.BOOLEAN and isinstance(data, int) and data in (0, 1):
        return bool(data)
    if s.kind is Kind.INTEGER and isinstance(data, str) and data.strip().isdigit():
        return int(data.strip())
    return data
