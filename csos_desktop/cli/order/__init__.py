"""`csos order ...`: sign and verify CSOS orders."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, open_choice, token_options
from csos_desktop.cli.verifying import report, verify_arguments, verify_bytes
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
    help="With ORDER_FILE: also write <order_id>.json (the signed bytes) and <order_id>.p7s "
    "here (the signed order is kept in the store either way).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (drafts).")
@click.option(
    "--x12",
    is_flag=True,
    help="Also sign each order as an X12 004010 850 in the same login (for a distributor "
    "that takes X12); with --out, <order_id>.850.p7m is written too.",
)
@som_justification_option
@run_cli
def sign(
    order_file: Path | None,
    drafts: tuple[str, ...],
    all_drafts: bool,
    token: TokenChoice,
    out_dir: Path | None,
    as_json: bool,
    x12: bool,
    som_justification: str | None,
) -> None:
    """Sign ORDER_FILE, or stored drafts (--draft ID... | --all-drafts).

    ORDER_FILE is imported into the store first (its order number checked against the
    orders there), then signed, recorded and queued like a draft; --out writes copies.
    A flagged order (Suspicious Order Monitoring) is signed only with
    --som-justification TEXT or a justification recorded in the editor; otherwise it is
    refused and its flags are printed.
    """
    if order_file is None:
        if not drafts and not all_drafts:
            raise InputError("Give ORDER_FILE, or --draft ID / --all-drafts.")
        from csos_desktop.cli.order.records import sign_stored  # it imports this module

        sign_stored(drafts, all_drafts, token, as_json, som_justification, x12=x12)
        return
    if drafts or all_drafts:
        raise InputError("Give ORDER_FILE or --draft / --all-drafts, not both.")
    sign_file(order_file, token, out_dir, som_justification, x12=x12)


def sign_file(
    order_file: Path,
    token: TokenChoice,
    out_dir: Path | None,
    som_justification: str | None = None,
    *,
    x12: bool = False,
) -> None:
    """Import ORDER_FILE, sign it on the token as a draft, and write copies to *out_dir*."""
    from csos_desktop.cli.files import write_signed_pair
    from csos_desktop.fileio import read_json_object
    from csos_desktop.services.orders import lifecycle as svc
    from csos_desktop.services.pharmacy_store import open_store
    from csos_desktop.services.signing import SigningPurpose

    data = read_json_object(order_file, "an order")
    with open_store() as store:
        # Into the record first: a bad file or a number already used is refused before the
        # token is even opened; an order refused later stays a draft (`--draft`).
        records = svc.import_orders(store, data, source=f"file:{order_file.name}")
        with open_choice(SigningPurpose.ORDER, token) as signing:
            result = svc.sign_orders_on_token(
                store,
                [r.order_id for r in records],
                signing,
                token.terminal(),
                som_justification=som_justification,
                x12=x12,
            )
        kept = [(r, store.signed.get(r.order_id)) for r in result.signed]
        signed_850 = {r.order_id: store.x12.signed_850(r.order_id) for r in result.signed}
    for rec, blob in kept:
        click.echo(
            f"Signed order {rec.order_number} ({rec.lines} lines) as {blob.signer_subject}, "
            f"DEA {blob.signer_dea} (matches the certificate); kept in the store as "
            f"{rec.order_id}."
        )
        if out_dir is not None:
            doc_path, sig_path = write_signed_pair(
                out_dir, rec.order_id, blob.document, blob.signature
            )
            click.echo(f"  document:  {doc_path}\n  signature: {sig_path}")
            x12_kept = signed_850.get(rec.order_id)
            if x12_kept is not None and x12_kept.signed is not None:
                from csos_desktop.fileio import write_atomically

                write_atomically(out_dir / f"{rec.order_id}.850.p7m", x12_kept.signed)
                click.echo(f"  signed 850: {out_dir / f'{rec.order_id}.850.p7m'}")
    for u in result.unsigned:  # the command's error: on stderr, as for a bad file
        click.echo(f"NOT signed {u.order_number or '?'}  {u.order_id}: {u.reason}", err=True)
    if result.stopped:
        click.echo(f"The batch stopped: {result.stopped}", err=True)
    if result.unsigned:
        click.echo(
            f"{len(result.unsigned)} of {len(records)} imported order(s) stay drafts "
            "(`csos order sign --draft ID` once fixed).",
            err=True,
        )
        raise SystemExit(1)


@order.command("verify")
@functools.partial(verify_arguments, one_file_ok=True)
@run_cli
def verify(
    document: Path,
    signature: Path | None,
    trust_file: Path | None,
    crl_files: tuple[Path, ...],
    offline: bool,
    as_json: bool,
) -> None:
    """Check a signed order as a supplier must (21 CFR 1305.22). Exit 0 accepted, 1 rejected.

    DOCUMENT SIGNATURE: the order (JSON, or an X12 850) and its detached signature; or one
    signed X12 order (.p7m, application/x-csos-signed-order) with the 850 inside.
    """
    from csos_desktop.pki.supplier_check import OrderVerification, verify_order
    from csos_desktop.pki.x12_check import split_signed_order, verify_x12_order

    doc = document.read_bytes()
    if signature is None:
        parts = split_signed_order(doc)
        if isinstance(parts, OrderVerification):
            report(parts, as_json, "")
        doc, sig = parts
    else:
        sig = signature.read_bytes()
    verifier = verify_x12_order if doc.startswith(b"ISA") else verify_order
    verified = verify_bytes(verifier, doc, sig, trust_file, crl_files, offline=offline)
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
