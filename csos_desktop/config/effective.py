"""The configuration in force: defaults, machine policy, user file, locks; with sources.

Precedence, lowest first: built-in default, policy value (machine default),
user file, locked policy value. A user value for a locked key is kept in the
file but ignored, and reported as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from csos_desktop import paths
from csos_desktop.config.policy import Policy, load_policy
from csos_desktop.config.registry_policy import Registry
from csos_desktop.config.settings import (
    BY_KEY,
    SETTINGS,
    SettingInvalid,
    Value,
    check_value,
    parse_text,
    setting,
)
from csos_desktop.config.toml_file import dumps, read_toml, write_text_atomically
from csos_desktop.domain.errors import CsosError

USER_FILE_NAME = "config.toml"


class SettingLocked(CsosError):
    """The user tried to change a setting the machine policy locks."""

    exit_code = 3


class Source(Enum):
    DEFAULT = "default"
    POLICY = "policy"
    USER = "user"
    POLICY_LOCKED = "policy (locked)"


@dataclass(frozen=True)
class ConfigValue:
    key: str
    value: Value | None
    source: Source
    locked: bool
    #: A user value that the policy lock overrides, so `config show` can say so.
    ignored_user_value: Value | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.source.value,
            "locked": self.locked,
            "ignored_user_value": self.ignored_user_value,
        }


@dataclass(frozen=True)
class EffectiveConfig:
    values: Mapping[str, ConfigValue]
    user_file: Path
    policy: Policy
    problems: tuple[str, ...]

    def get(self, key: str) -> Value | None:
        return self.values[setting(key).key].value

    def text(self, key: str) -> str | None:
        value = self.get(key)
        return None if value is None else str(value)

    def to_json(self) -> dict[str, object]:
        return {
            "user_file": str(self.user_file),
            "policy_file": str(self.policy.path),
            "policy_registry_key": self.policy.registry_key,
            "policy_present": self.policy.exists,
            "settings": [v.to_json() for v in self.values.values()],
            "problems": list(self.problems),
        }


def user_file() -> Path:
    # Reading settings must not create CSOS_HOME: `csos demo` claims only an empty home.
    return paths.config_dir(create=False) / USER_FILE_NAME


def _user_values(path: Path) -> tuple[dict[str, Value], list[str]]:
    problems: list[str] = []
    try:
        data = read_toml(path, "user configuration")
    except CsosError as exc:
        return {}, [exc.message]
    values: dict[str, Value] = {}
    for key, raw in (data or {}).items():
        if key not in BY_KEY:
            problems.append(f"{path}: unknown setting {key!r} ignored.")
            continue
        try:
            values[key] = check_value(BY_KEY[key], raw)
        except SettingInvalid as exc:
            problems.append(f"{path}: {exc.message} The default is used.")
    return values, problems


def load_config(
    *,
    user_path: Path | None = None,
    policy_path: Path | None = None,
    registry: Registry | None = None,
    admin_only: bool | None = None,
) -> EffectiveConfig:
    """Merge defaults, policy and user file; never raises for a bad file (see ``problems``).

    *registry* stands for the machine's (Windows: read by default; see ``load_policy``).
    """
    upath = user_file() if user_path is None else user_path
    policy = load_policy(policy_path, registry, admin_only=admin_only)
    user, problems = _user_values(upath)
    merged: dict[str, ConfigValue] = {}
    for s in SETTINGS:
        locked = s.key in policy.locked
        if locked:
            value = policy.values.get(s.key, s.default)
            src = Source.POLICY_LOCKED
            ignored = user.get(s.key) if user.get(s.key) != value else None
            merged[s.key] = ConfigValue(s.key, value, src, True, ignored)
        elif s.key in user:
            merged[s.key] = ConfigValue(s.key, user[s.key], Source.USER, False)
        elif s.key in policy.values:
            merged[s.key] = ConfigValue(s.key, policy.values[s.key], Source.POLICY, False)
        else:
            merged[s.key] = ConfigValue(s.key, s.default, Source.DEFAULT, False)
    return EffectiveConfig(merged, upath, policy, (*policy.problems, *problems))


def _raw_user_file(path: Path) -> dict[str, Any]:
    # Raises ConfigFileInvalid: rewriting a file we cannot parse would destroy it.
    return read_toml(path, "user configuration") or {}


def set_value(
    key: str,
    text: str,
    *,
    user_path: Path | None = None,
    policy_path: Path | None = None,
    registry: Registry | None = None,
) -> ConfigValue:
    """Store *text* for *key* in the user file; refuse locked keys. Returns the new value."""
    s = setting(key)
    config = load_config(user_path=user_path, policy_path=policy_path, registry=registry)
    if config.values[s.key].locked:
        where = f"machine policy {config.policy.path}"
        if config.policy.registry_key:
            where += f" or Group Policy {config.policy.registry_key}"
        raise SettingLocked(
            f"{s.key}: Set by your IT administrator ({where}); it cannot be changed here."
        )
    value = parse_text(s, text)
    data = _raw_user_file(config.user_file)
    data[s.key] = value
    _write_user(config.user_file, data)
    return load_config(
        user_path=config.user_file, policy_path=policy_path, registry=registry
    ).values[s.key]


def unset_value(
    key: str, *, user_path: Path | None = None, policy_path: Path | None = None
) -> ConfigValue:
    """Remove *key* from the user file, so the policy or default applies again."""
    s = setting(key)
    upath = user_file() if user_path is None else user_path
    data = _raw_user_file(upath)
    if data.pop(s.key, None) is not None:
        _write_user(upath, data)
    return load_config(user_path=upath, policy_path=policy_path).values[s.key]


def _write_user(path: Path, data: Mapping[str, object]) -> None:
    header = (
        "CSOS Desktop user settings (`csos config set KEY VALUE`).\n"
        "Settings locked by the machine policy are ignored here."
    )
    write_text_atomically(path, dumps(data, header))
