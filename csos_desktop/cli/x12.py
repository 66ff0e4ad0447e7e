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


@x12.command("receive")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@run_cli
def receive(files: tuple[Path, ...]) -> None:
    """Keep 855, 856 and 997 files from a distributor and link them to their orders.

    Every file is kept byte for byte, even one that cannot be read (exit 1 then, with the
    reason). `csos receive ORDER --from-856` then pre-fills the receipt from the 856s.
    """
    from csos_desktop.services.orders.x12_intake import receive_x12
    from csos_desktop.services.pharmacy_store import open_store

    failed = 0
    with open_store() as store:
        for f in files:
            got = receive_x12(store, f.read_bytes())
            if got.problem is not None:
                failed += 1
                click.echo(f"{f}: kept but not linked: {got.problem}", err=True)
            else:
                linked = f" for order {got.order_id}" if got.order_id else ""
                click.echo(f"{f}: {got.transaction_set} received{linked}")
    if failed:
        raise SystemExit(1)
