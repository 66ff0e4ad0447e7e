"""The machine policy IT writes: values for every user of the workstation, and locks.

Format (``/etc/csos-desktop/policy.toml``, ``%ProgramData%\\CSOS Desktop\\policy.toml``)::

    locked = ["distributor_url", "pkcs11_module"]

    [settings]
    distributor_url = "https://csos.distributor.example/api"
    pkcs11_module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

A value that is not locked is a machine default a user may override; a locked
key keeps the policy's value (or the built-in default) whatever the user sets.
On Windows, values under ``HKLM\\Software\\Policies\\CSOS Desktop`` (Group Policy) are
locked too and win over the file (:mod:`csos_desktop.config.registry_policy`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from csos_desktop import paths
from csos_desktop.config.registry_policy import (
    POLICY_KEY_LABEL,
    Registry,
    machine_registry,
    read_registry_policy,
)
from csos_desktop.config.settings import BY_KEY, SettingInvalid, Value, check_value
from csos_desktop.config.toml_file import ConfigFileInvalid, dumps, read_toml, write_text_atomically


@dataclass(frozen=True)
class Policy:
    """What the policy file says, and what in it could not be used."""

    path: Path
    exists: bool
    values: Mapping[str, Value] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()
    #: The registry key the policy also came from (Windows Group Policy), if any.
    registry_key: str | None = None


def load_policy(path: Path | None = None, registry: Registry | None = None) -> Policy:
    """The machine policy: the file, then the Group Policy registry key over it.

    The registry is read on Windows unless a file is named (*path* or CSOS_POLICY_FILE,
    which stand for the whole machine policy); *registry* gives it explicitly.
    """
    if registry is None and path is None and not os.environ.get(paths.POLICY_ENV):
        registry = machine_registry()
    policy = _load_file(paths.policy_file() if path is None else path)
    if registry is None:
        return policy
    found = read_registry_policy(registry)
    if not found.present:
        return policy
    return Policy(
        policy.path,
        True,
        {**policy.values, **found.values},
        policy.locked | frozenset(found.values),
        policy.problems + found.problems,
        registry_key=POLICY_KEY_LABEL,
    )


def _load_file(path: Path) -> Policy:
    """Read the policy file; an absent file is an empty policy, a broken one is reported."""
    try:
        data = read_toml(path, "machine policy")
    except ConfigFileInvalid as exc:
        # Keep going with no policy values; doctor and `config show` report the problem.
        return Policy(path, True, problems=(exc.message,))
    if data is None:
        return Policy(path, False)
    problems: list[str] = []
    values: dict[str, Value] = {}
    table = data.get("settings", {})
    if not isinstance(table, dict):
        problems.append(f"{path}: [settings] must be a table.")
        table = {}
    for key, raw in table.items():
        if key not in BY_KEY:
            problems.append(f"{path}: unknown setting {key!r} ignored.")
            continue
        try:
            values[key] = check_value(BY_KEY[key], raw)
        except SettingInvalid as exc:
            problems.append(f"{path}: {exc.message} The built-in default is used.")
    locked_raw = data.get("locked", [])
    if not isinstance(locked_raw, list) or not all(isinstance(k, str) for k in locked_raw):
        problems.append(f"{path}: locked must be a list of setting names.")
        locked_raw = []
    locked = set()
    for key in locked_raw:
        if key in BY_KEY:
            locked.add(key)
        else:
            problems.append(f"{path}: cannot lock unknown setting {key!r}.")
    for key in set(data) - {"settings", "locked"}:
        problems.append(f"{path}: unknown entry {key!r} ignored (settings go under [settings]).")
    return Policy(path, True, values, frozenset(locked), tuple(problems))


def policy_text(values: Mapping[str, Value], locked: Iterable[str]) -> str:
    """TOML for a policy file; used by installers (`csos config write-policy`)."""
    for key, value in values.items():
        if key not in BY_KEY:
            raise SettingInvalid(f"Unknown setting {key!r}.")
        check_value(BY_KEY[key], value)
    lock_list = sorted(set(locked))
    for key in lock_list:
        if key not in BY_KEY:
            raise SettingInvalid(f"Cannot lock unknown setting {key!r}.")
    header = (
        "CSOS Desktop machine policy, written by the installer or IT.\n"
        "Keys in `locked` cannot be changed by users; see docs/deployment.md."
    )
    return dumps({"locked": lock_list, "settings": dict(values)}, header)


def write_policy(path: Path, values: Mapping[str, Value], locked: Iterable[str]) -> None:
    write_text_atomically(path, policy_text(values, locked))
