"""The `csos` executable: the click group, run so that no input ends in a traceback.

A :class:`~csos_desktop.domain.errors.CsosError` that escapes a command prints its
`error: ...` sentence. Anything else is a bug: the user gets one short sentence
that says where the details are and how to get them to support (`csos
support-bundle`); the traceback goes to the log file only, redacted like every
record there.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from csos_desktop.domain.errors import CsosError

#: Exit code of an unexpected failure (BSD sysexits' EX_SOFTWARE), distinct from 1 and 2.
EXIT_UNEXPECTED = 70

log = logging.getLogger("csos_desktop.cli")


def run(args: Sequence[str] | None = None) -> NoReturn:
    """Run `csos` with *args* (default: the command line) and exit."""
    from csos_desktop.cli import main
    from csos_desktop.cli.common import fail

    try:
        main.main(args=list(args) if args is not None else None, prog_name="csos")
    except CsosError as exc:  # a command without @run_cli
        fail(exc)
    except Exception as exc:
        unexpected(exc)
    sys.exit(0)  # click's standalone mode exits itself; this is for the type checker


def unexpected(exc: BaseException) -> NoReturn:
    """Report a bug in one sentence; the traceback goes to the log file."""
    from csos_desktop.logs import MASK, log_file, logging_to_file, redact

    where = "no log file (logging to a file is off)"
    if logging_to_file():
        # A log file that cannot be written must not print its own traceback to stderr.
        logging.raiseExceptions = False
        log.critical("unexpected error, the command stopped", exc_info=exc)
        if log_file().is_file():
            where = str(log_file())
    detail = redact(str(exc).splitlines()[0] if str(exc) else "")[:160] or MASK
    click.echo(
        f"error: the command stopped on an unexpected problem ({type(exc).__name__}: {detail}). "
        f"Details: {where}. Run `csos support-bundle` and send the bundle to your support "
        "contact; it carries the log without PINs or codes.",
        err=True,
    )
    sys.exit(EXIT_UNEXPECTED)
