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

The file is read only from the machine's fixed location (``paths.policy_file``). On Linux
and macOS it must be owned by root and writable by nobody else, nor may its folder be:
a policy a user could have written unlocks nothing and is refused, with the reason
(``csos doctor``, ``csos config show``). No environment variable names another file;
tests give theirs through :func:`use_policy_file`, which only their fixtures call.
"""

from __future__ import annotations

import os
import stat
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
class PolicyLocation:
    """Where the machine policy is read, and whether it must be an administrator's file."""

    path: Path
    #: Read the Group Policy registry key too (Windows).
    registry: bool = True
    #: Refuse a file (or folder) a non-administrator owns or can write.
    admin_only: bool = True


#: Set only by the test fixtures (:func:`use_policy_file`); None: the machine's location.
_test_location: PolicyLocation | None = None


def use_policy_file(path: Path | None) -> None:
    """For test fixtures: read the machine policy from *path* (no owner check, no registry),
    or from the machine's location again with None. Product code never calls this."""
    global _test_location
    _test_location = None if path is None else PolicyLocation(path, False, False)


def policy_location() -> PolicyLocation:
    """Where :func:`load_policy` reads the machine policy (and ``config write-policy`` writes)."""
    return _test_location or PolicyLocation(paths.policy_file())


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


def load_policy(
    path: Path | None = None, registry: Registry | None = None, *, admin_only: bool | None = None
) -> Policy:
    """The machine policy: the file, then the Group Policy registry key over it.

    Without *path*, from :func:`policy_location` (the registry read on Windows). A *path*
    given by the caller (tests) stands for the whole machine policy and is read as it is,
    unless *admin_only*; *registry* gives the registry explicitly.
    """
    where = policy_location() if path is None else PolicyLocation(path, False, False)
    if registry is None and where.registry:
        registry = machine_registry()
    check = where.admin_only if admin_only is None else admin_only
    policy = _load_file(where.path, admin_only=check)
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


def not_an_administrators(path: Path) -> str | None:
    """Why *path* may not be the machine policy (POSIX): someone other than root owns or can
    write it or its folder. None when only root can have written it, or it does not exist."""
    if os.name != "posix":
        return None
    for item in (path, path.parent):
        try:
            st = item.stat()
        except FileNotFoundError:
            return None  # no policy file: nothing to refuse
        except OSError as exc:
            return f"{item} cannot be checked ({exc.strerror}); IT should make it readable."
        if st.st_uid != 0:
            return (
                f"{item} is owned by user id {st.st_uid}, not root: only a policy an "
                "administrator wrote is applied. Have IT write it as root "
                "(`sudo csos config write-policy ...`)."
            )
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return (
                f"{item} can be changed by users other than root (mode "
                f"{stat.S_IMODE(st.st_mode):o}): only a policy an administrator alone can "
                f"write is applied. Have IT run `sudo chmod go-w {item}`."
            )
    return None


def _load_file(path: Path, *, admin_only: bool = False) -> Policy:
    """Read the policy file; an absent file is an empty policy, a broken one is reported."""
    refused = not_an_administrators(path) if admin_only else None
    if refused is not None:
        # Nothing in it is applied: every setting keeps the user's value or the default.
        return Policy(path, True, problems=(f"Machine policy refused: {refused}",))
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
    """Write the file readable by every user (each reads the policy) and writable by its
    owner alone, which the reader requires of the machine's policy."""
    made = not path.parent.exists()
    write_text_atomically(path, policy_text(values, locked))
    path.chmod(0o644)
    if made:  # created under the program's private umask: every user must reach the file
        path.parent.chmod(0o755)
