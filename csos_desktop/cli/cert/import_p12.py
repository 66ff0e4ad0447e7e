"""`csos cert import-p12`: move a certificate file from a browser enrolment onto a token."""

from __future__ import annotations

from pathlib import Path

import click

from csos_desktop.cli.cert import cert
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.terminal import ask_secret
from csos_desktop.domain.errors import InputError
from csos_desktop.services.context import current
from csos_desktop.services.tokens.key_import import KEEP_COPY_WARNING, move_p12_to_token
from csos_desktop.services.tokens.pins import pin_state_notice, token_to_manage


@cert.command("import-p12")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--token", "label", required=True, help="Label of the token to move the key to.")
@click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
@click.option(
    "--pin-stdin",
    is_flag=True,
    help="Read the token PIN (first line) and the file's password (second line) from stdin.",
)
@click.option(
    "--delete-file", is_flag=True, help="Overwrite and delete FILE once the key is on the token."
)
@run_cli
def import_p12(
    file: Path, label: str, module: str | None, pin_stdin: bool, delete_file: bool
) -> None:
    """Move the key and certificate in FILE (.p12/.pfx) onto the token, then check a signature."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {file}: {exc.strerror}") from exc
    module_path, tok, info = token_to_manage(module, label, current().driver)
    click.echo(
        f"Token '{info.label}' ({info.kind_text}), PIN state {info.pin_state.value}.", err=True
    )
    notice = pin_state_notice(info)
    if notice:
        click.echo(f"warning: {notice}", err=True)
    pin = (
        None if info.protected_auth_path else ask_secret(f"PIN for token '{info.label}'", pin_stdin)
    )
    password = ask_secret(f"Password of {file.name}", pin_stdin)
    if pin is None:
        click.echo(f"Enter your PIN on the reader's keypad for token '{info.label}'.", err=True)
    outcome = move_p12_to_token(
        tok,
        pin,
        data,
        password,
        file,
        delete_file=delete_file,
        module=module_path,
        notify=lambda text: click.echo(text, err=True),
    )
    del pin, password, data
    if outcome.audit_problem:
        click.echo(f"warning: {outcome.audit_problem}", err=True)
    click.echo(outcome.summary(info.label))
    if outcome.file_deleted:
        click.echo(f"{file} was overwritten and deleted.")
    else:
        click.echo("warning: " + KEEP_COPY_WARNING.format(name=file), err=True)
