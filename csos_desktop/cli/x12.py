"""`csos x12 ...`: X12 documents (850, 855, 856, 997) read by a person."""

from __future__ import annotations

from pathlib import Path

import click

from csos_desktop.cli.common import run_cli


@click.group()
def x12() -> None:
    """ASC X12 004010 documents exchanged with EDI distributors."""


@x12.command("show")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@run_cli
def show(file: Path) -> None:
    """Print an 850, 855, 856 or 997 (or a signed 850, .p7m) in plain words.

    Showing does not verify: `csos order verify FILE.p7m` checks a signed order.
    """
    from csos_desktop.domain.x12.words import in_words
    from csos_desktop.pki.cms_attached import detach, is_attached

    data = file.read_bytes()
    if is_attached(data):
        data, _ = detach(data)
        click.echo("Signed X12 order (CMS, the 850 inside); not verified here.")
    for line in in_words(data):
        click.echo(line)
