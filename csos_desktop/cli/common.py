"""What every `csos` command shares: turning a CsosError into `error: ...` and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import click

from csos_desktop.domain.errors import CsosError

P = ParamSpec("P")
R = TypeVar("R")


def fail(exc: CsosError) -> NoReturn:
    """Print `error: <message>` to stderr and exit with the error's exit code."""
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(exc.exit_code)


def run_cli(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a click command body so a CsosError ends it with `fail` instead of a traceback.

    Put it directly above the function, below the click decorators.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CsosError as exc:
            fail(exc)

    return wrapper
