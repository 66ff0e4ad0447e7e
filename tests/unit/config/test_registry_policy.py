"""Group Policy on Windows: HKLM\\Software\\Policies\\CSOS Desktop, read through our policy code.

The OS registry is the only stand-in: a dict of keys and values with the data types
`winreg` returns (REG_SZ as str, REG_DWORD as int). Files, merging and locks are real.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from csos_desktop.config import Source, load_config, set_value
from csos_desktop.config.effective import SettingLocked
from csos_desktop.config.policy import load_policy
from csos_desktop.config.registry_policy import (
    POLICY_KEY,
    WindowsRegistry,
    machine_registry,
    read_registry_policy,
)

URL = "https://csos.distributor.example/api"
GPO_URL = "https://gpo.distributor.example/api"
MODULE = r"C:\Windows\System32\eTPKCS11.dll"


class OsRegistry:
    """HKEY_LOCAL_MACHINE as a dict: key path -> {value name: data}."""

    def __init__(self, keys: Mapping[str, Mapping[str, object]], unreadable: bool = False):
        self._keys = keys
        self._unreadable = unreadable

    def read_values(self, key: str) -> Mapping[str, object] | None:
        if self._unreadable:
            raise PermissionError(13, "Access is denied")
        return self._keys.get(key)


def gpo(**values: object) -> OsRegistry:
    return OsRegistry({POLICY_KEY: values})


def test_group_policy_values_are_locked_and_win_over_the_file_and_the_user(
    policy_path: Path,
) -> None:
    policy_path.write_text(
        f'[settings]\ndistributor_url = "{URL}"\nlog_level = "WARNING"\n', encoding="utf-8"
    )
    registry = gpo(distributor_url=GPO_URL, pkcs11_module=MODULE)
    set_value("pkcs11_module", "/elsewhere.so")  # the user's own choice, before GPO applied

    cfg = load_config(registry=registry)

    url, module, level = (cfg.values[k] for k in ("distributor_url", "pkcs11_module", "log_level"))
    assert (url.value, url.source) == (GPO_URL, Source.POLICY_LOCKED)
    assert (module.value, module.ignored_user_value) == (MODULE, "/elsewhere.so")
    assert (level.value, level.source) == ("WARNING", Source.POLICY)  # the file still applies
    assert cfg.policy.registry_key == r"HKLM\Software\Policies\CSOS Desktop"
    assert cfg.to_json()["policy_registry_key"] == cfg.policy.registry_key


def test_a_user_cannot_change_a_group_policy_setting(policy_path: Path) -> None:
    registry = gpo(distributor_url=GPO_URL)
    with pytest.raises(SettingLocked, match=r"Group Policy HKLM\\Software\\Policies\\CSOS"):
        set_value("distributor_url", "https://elsewhere.example", registry=registry)
    # Nothing was written to the user's file.
    assert load_config(registry=registry).values["distributor_url"].ignored_user_value is None


def test_dword_values_are_numbers_and_true_false(policy_path: Path) -> None:
    found = read_registry_policy(gpo(sync_interval_minutes=30, som_warnings=0))
    assert dict(found.values) == {"sync_interval_minutes": 30, "som_warnings": False}
    assert read_registry_policy(gpo(SOM_WARNINGS=1)).values == {"som_warnings": True}
    assert read_registry_policy(gpo(sync_interval_minutes="45")).values == {
        "sync_interval_minutes": 45
    }


def test_unusable_values_are_reported_and_the_rest_applies(policy_path: Path) -> None:
    found = read_registry_policy(
        gpo(
            distributor_url="http://plain.example",
            sync_interval_minutes=0,
            som_warnings=7,
            colour="blue",
            pkcs11_module=MODULE,
        )
    )
    assert found.values == {"pkcs11_module": MODULE}
    text = "\n".join(found.problems)
    assert "distributor_url must be an https:// address" in text
    assert "sync_interval_minutes must be between 1 and 1440" in text
    assert "som_warnings must be true or false" in text
    assert "unknown value 'colour' ignored" in text
    assert all(p.startswith(r"HKLM\Software\Policies\CSOS Desktop") for p in found.problems)


def test_an_unreadable_key_is_reported_not_raised(policy_path: Path) -> None:
    cfg = load_config(registry=OsRegistry({}, unreadable=True))
    assert cfg.get("distributor_url") is None
    assert any("cannot be read (Access is denied)" in p for p in cfg.problems)


def test_no_key_means_the_file_alone(policy_path: Path) -> None:
    policy_path.write_text(f'locked = ["distributor_url"]\n[settings]\ndistributor_url = "{URL}"\n')
    policy = load_policy(policy_path, OsRegistry({r"Software\Other": {"x": 1}}))
    assert (dict(policy.values), policy.locked, policy.registry_key) == (
        {"distributor_url": URL},
        frozenset({"distributor_url"}),
        None,
    )


def test_the_registry_is_the_machines_only_on_windows() -> None:
    assert machine_registry("linux") is None
    assert isinstance(machine_registry("win32"), WindowsRegistry)


@pytest.mark.skipif(sys.platform == "win32", reason="reads the real registry on Windows")
def test_elsewhere_the_windows_registry_says_it_is_not_there() -> None:
    with pytest.raises(OSError, match="no Windows registry"):
        WindowsRegistry().read_values(POLICY_KEY)
