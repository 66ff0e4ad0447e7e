"""`csos config ...`: effective configuration and where each value comes from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.config.effective import ConfigValue, load_config, set_value, unset_value
from csos_desktop.config.policy import policy_location, write_policy
from csos_desktop.config.settings import BY_KEY, SettingInvalid, Value, parse_text, setting
from csos_desktop.domain.errors import CsosError
from csos_desktop.services.audit.events import record_setting_changed


@click.group()
def config() -> None:
    """Configuration (user settings and the machine policy set by IT)."""


def _shown(value: Value | None) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _audit(changed: ConfigValue, action: str) -> None:
    try:
        record_setting_changed(changed.key, action, _shown(changed.value), changed.source.value)
    except CsosError as exc:
        click.echo(
            f"warning: the setting changed, but the audit log could not record it: {exc.message}",
            err=True,
        )


def _line(v: ConfigValue) -> str:
    text = f"{v.key:<22} {_shown(v.value):<45} [{v.source.value}]"
    if v.ignored_user_value is not None:
        text += f"  (your value {_shown(v.ignored_user_value)!r} is overridden by IT)"
    return text


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def show(as_json: bool) -> None:
    """Show every setting in force and where its value comes from."""
    cfg = load_config()
    if as_json:
        click.echo(json.dumps(cfg.to_json(), indent=2))
        return
    click.echo(f"User settings:  {cfg.user_file}")
    state = "present" if cfg.policy.exists else "none"
    click.echo(f"Machine policy: {cfg.policy.path} ({state})")
    if cfg.policy.registry_key:
        click.echo(f"Group Policy:   {cfg.policy.registry_key} (its values are locked)")
    click.echo()
    for v in cfg.values.values():
        click.echo(_line(v))
    for problem in cfg.problems:
        click.echo(f"warning: {problem}", err=True)


@config.command("set")
@click.argument("key")
@click.argument("value")
@run_cli
def set_command(key: str, value: str) -> None:
    """Set KEY to VALUE in your user settings (refused for keys locked by IT)."""
    changed = set_value(key, value)
    _audit(changed, "set")
    click.echo(_line(changed))


@config.command("unset")
@click.argument("key")
@run_cli
def unset_command(key: str) -> None:
    """Remove KEY from your user settings (the policy or default applies again)."""
    changed = unset_value(key)
    _audit(changed, "unset")
    click.echo(_line(changed))


@config.command("keys")
def keys() -> None:
    """List the settings that exist, with their meaning."""
    for s in BY_KEY.values():
        extra = f" One of: {', '.join(s.choices)}." if s.choices else ""
        click.echo(f"{s.key} ({s.kind.value}, default {_shown(s.default)}): {s.help}{extra}")


def _pairs(items: tuple[str, ...]) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise SettingInvalid(f"--set takes KEY=VALUE (got {item!r}).")
        if text == "":
            continue  # an MSI property left empty means "not set by policy"
        values[key] = parse_text(setting(key), text)
    return values


@config.command("write-policy")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path),
    help="Policy file to write (default: this machine's policy path).",
)
@click.option(
    "--set",
    "items",
    multiple=True,
    metavar="KEY=VALUE",
    help="A policy value; repeat for several. An empty VALUE is skipped.",
)
@click.option(
    "--lock",
    "locks",
    multiple=True,
    metavar="KEY",
    help="Lock KEY so users cannot change it; repeat for several.",
)
@click.option("--lock-set", is_flag=True, help="Lock every key given with --set.")
@run_cli
def write_policy_command(
    path: Path | None, items: tuple[str, ...], locks: tuple[str, ...], lock_set: bool
) -> None:
    """Write the machine policy file (run by installers and IT, as administrator)."""
    values = _pairs(items)
    locked = set(locks) | (set(values) if lock_set else set())
    target = path or policy_location().path
    try:
        write_policy(target, values, locked)
    except PermissionError:
        raise SettingInvalid(f"Cannot write {target}: run this as administrator/root.") from None
    listed = ", ".join(sorted(locked)) or "-"
    click.echo(f"Wrote {target}: {len(values)} value(s), locked: {listed}")
