"""`csos order ...`: sign and verify CSOS orders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, store_and_session, token_options
from csos_desktop.cli.verifying import report, verify_arguments, verify_files
from csos_desktop.domain.errors import InputError

if TYPE_CHECKING:  # signing and verifying code loads when those commands run
    from csos_desktop.domain.order import Order


@click.group()
def order() -> None:
    """CSOS orders (electronic DEA Form 222)."""


def read_order_input(path: Path, now: datetime) -> Order:
    """ORDER.json as the CLI accepts it; errors name the field and the rule."""
    from csos_desktop.domain.order import parse_order_input
    from csos_desktop.fileio import read_json_object

    return parse_order_input(read_json_object(path, "an order"), now=now)


def som_justification_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--som-justification",
        metavar="TEXT",
        help="Why a flagged order is legitimate (recorded in the audit log before signing).",
    )(fn)


@order.command("sign")
@click.argument("order_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--draft",
    "drafts",
    multiple=True,
    help="Sign this stored draft (id or order number); repeat for a batch.",
)
@click.option("--all-drafts", is_flag=True, help="Sign every stored draft (one login).")
@token_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With ORDER_FILE: directory for <order_id>.json (the signed bytes) and <order_id>.p7s.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (drafts).")
@som_justification_option
@run_cli
def sign(
    order_file: Path | None,
    drafts: tuple[str, ...],
    all_drafts: bool,
    token: TokenChoice,
    out_dir: Path | None,
    as_json: bool,
    som_justification: str | None,
) -> None:
    """Sign ORDER_FILE into --out, or stored drafts (--draft ID... | --all-drafts).

    A flagged order (Suspicious Order Monitoring) is signed only with
    --som-justification TEXT or a justification recorded in the editor; otherwise it is
    refused and its flags are printed.
    """
    if order_file is None:
        if not drafts and not all_drafts:
            raise InputError("Give ORDER_FILE with --out, or --draft ID / --all-drafts.")
        from csos_desktop.cli.order.store import sign_stored  # it imports this module

        sign_stored(drafts, all_drafts, token, as_json, som_justification)
        return
    if drafts or all_drafts or out_dir is None:
        raise InputError("With ORDER_FILE give --out DIR (and no --draft / --all-drafts).")
    sign_file(order_file, token, out_dir, som_justification)


def sign_file(
    order_file: Path,
    token: TokenChoice,
    out_dir: Path,
    som_justification: str | None = None,
) -> None:
    """Validate ORDER_FILE, sign it on the token and write the signed order."""
    from csos_desktop.cli.files import write_signed_pair
    from csos_desktop.services.orders import pre_sign
    from csos_desktop.services.orders.signing import OrderSigningSession
    from csos_desktop.services.signing import SigningPurpose

    now = datetime.now(UTC)
    parsed = read_order_input(order_file, now)
    with store_and_session(token, SigningPurpose.ORDER, by_purchaser=True) as (store, signing):
        # Before the PIN: the certificate for the purchaser, the session's checks, who may
        # sign, the SOM justification.
        pre_sign.check_order(
            store, parsed, signing, stored=False, som_justification=som_justification
        )
        session = signing.for_order(parsed)
        session.log_in(token.terminal())
        signed = OrderSigningSession(session).sign(parsed)
    doc_path, sig_path = write_signed_pair(
        out_dir, signed.order.order_id, signed.document, signed.signature
    )
    info = session.identity.info
    click.echo(
        f"Signed order {signed.order.order_number} ({len(signed.order.lines)} lines) "
        f"as {info.subject}, DEA {signed.order.purchaser.dea_number.value} "
        "(matches the certificate)."
    )
    click.echo(f"  document:  {doc_path}\n  signature: {sig_path}")
    if not session.chain:
        click.echo(
            "warning: no CA chain was included; the distributor needs the issuing CA "
            "(give --chain).",
            err=True,
        )


@order.command("verify")
@verify_arguments
@run_cli
def verify(
    document: Path,
    signature: Path,
    trust_file: Path | None,
    crl_files: tuple[Path, ...],
    offline: bool,
    as_json: bool,
) -> None:
    """Check a signed order as a supplier must (21 CFR 1305.22). Exit 0 accepted, 1 rejected."""
    from csos_desktop.pki.supplier_check import verify_order

    verified = verify_files(
        verify_order, document, signature, trust_file, crl_files, offline=offline
    )
    result = verified.result
    o, s = result.order, result.signer
    line = (
        f"order {o.order_number} signed by {s.subject} (DEA {o.purchaser.dea_number.value}, "
        f"matching the certificate's hash) on "
        f"{result.signing_time:%Y-%m-%d %H:%M} UTC."
        if o and s and result.signing_time
        else ""
    )
    report(result, as_json, line, verified.notes)
