"""`csos catalogue ...`: the product catalogue (FDA NDC Directory import)."""

from __future__ import annotations

from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.services.orders.catalogue import (
    IMPORT_HINT,
    active_catalogue,
    import_directory,
    latest_import,
)
from csos_desktop.services.pharmacy_store import open_store

_SHOWN = 15
_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group()
def catalogue() -> None:
    """The product catalogue the order editor and SOM use."""


@catalogue.command("import")
@click.argument(
    "product_path", metavar="PRODUCT.txt", type=click.Path(path_type=Path, dir_okay=False)
)
@click.argument(
    "package_path", metavar="PACKAGE.txt", type=click.Path(path_type=Path, dir_okay=False)
)
@run_cli
def import_command(product_path: Path, package_path: Path) -> None:
    """Import the FDA NDC Directory's product.txt and package.txt (controlled products only)."""
    with open_store() as store:
        outcome = import_directory(store, product_path, package_path)
    d, r = outcome.directory, outcome.record
    families = len({p.drug_code for p in d.products})
    click.echo(
        f"Imported {r.products} controlled packages in {families} drug families"
        f" ({d.not_controlled} products without a DEA schedule left out)."
    )
    for s in d.skipped[:_SHOWN]:
        click.echo(f"  skipped {s.ndc} {s.name}: {s.reason}")
    if len(d.skipped) > _SHOWN:
        click.echo(f"  ... and {len(d.skipped) - _SHOWN} more packages skipped")
    if d.unknown_ingredients:
        click.echo(
            "Controlled products whose ingredients have no DEA drug code in the table"
            " (not imported):"
        )
        for name, n in sorted(d.unknown_ingredients.items(), key=lambda kv: -kv[1])[:_SHOWN]:
            click.echo(f"  {name} ({n} product{'s' if n != 1 else ''})")


@catalogue.command("show")
@run_cli
def show() -> None:
    """Say which catalogue is in use and how many products and families it has."""
    with open_store() as store:
        last = latest_import(store)
        cat = active_catalogue(store)
    if last is None:
        click.echo(IMPORT_HINT)
        return
    click.echo(
        f"{last.source}, imported {last.imported_at}: {len(cat.products)} products in"
        f" {len(cat.families)} drug families."
    )
