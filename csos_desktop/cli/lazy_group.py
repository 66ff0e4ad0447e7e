"""A click group that imports a command's module only when that command runs.

`csos --version` and `csos order list` should not pay for FastAPI, SQLAlchemy, the
archive code or the token stack they never use. Each top-level command is
named here by the modules that define it; `--help` and shell completion still see
every command, at the price of importing them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

#: Exit code of a command whose optional dependencies are missing.
EXIT_NOT_INSTALLED = 3


@dataclass(frozen=True)
class LazyCommand:
    """Where a top-level command lives: `attribute` of `module`, after `extra` modules.

    `extra` are modules that add subcommands to that group from outside its own
    module (for example `cli.order.records` adds `csos order list` to `order`).
    `needs_extra` names the optional dependency set (`pip install 'csos-desktop[NAME]'`)
    the command needs; without it installed the command says so instead of failing.
    """

    module: str
    attribute: str
    extra: tuple[str, ...] = ()
    needs_extra: str | None = None


class LazyGroup(click.Group):
    """A `click.Group` whose commands are imported on first use."""

    def __init__(
        self,
        *args: Any,
        lazy: Mapping[str, LazyCommand],
        aliases: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(lazy)
        self._aliases = dict(aliases or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd_name = self._aliases.get(cmd_name, cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self._lazy:
            return command
        command = _load(self._lazy[cmd_name], cmd_name)
        self.add_command(command, cmd_name)
        return command


def _load(spec: LazyCommand, name: str) -> click.Command:
    try:
        module = importlib.import_module(spec.module)
        for extra in spec.extra:
            importlib.import_module(extra)
    except ModuleNotFoundError as exc:
        if spec.needs_extra is None:
            raise
        return _not_installed(name, spec.needs_extra, exc.name or "?")
    command = getattr(module, spec.attribute)
    if not isinstance(command, click.Command):
        # A wrong table entry is a programming error, not a user's problem.
        raise TypeError(f"{spec.module}.{spec.attribute} (csos {name}) is not a click command")
    return command


def _not_installed(name: str, extra: str, missing: str) -> click.Command:
    """A stand-in for a command whose optional dependencies are not installed."""
    message = (
        f"`csos {name}` needs the {extra} extra, which this installation does not include "
        f"(missing: {missing}). The packaged desktop program leaves the test servers out; "
        f"use a development install: pip install 'csos-desktop[{extra}]'."
    )

    def refuse() -> None:
        click.echo(f"error: {message}", err=True)
        raise SystemExit(EXIT_NOT_INSTALLED)

    return click.Command(
        name,
        callback=refuse,
        help=message,
        short_help=f"(needs the {extra} extra: not installed)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
