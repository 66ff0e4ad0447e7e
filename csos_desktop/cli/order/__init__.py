"""`csos order ...`: sign and verify CSOS orders."""

from __future__ import annotations

import functools
from collections.abc import Sequence
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
    from csos_desktop.services.orders.batch import Unsigned


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
        "som_justification",
        metavar="[ORDER=]TEXT",
        multiple=True,
        help="Why a flagged order is legitimate, recorded with its signature in the audit "
        "log. With several orders, give ORDER=TEXT once per flagged order (ORDER: its "
        "number or id).",
    )(fn)


def print_unsigned(unsigned: Sequence[Unsigned], *, err: bool) -> None:
    """One line per order left unsigned; how to justify the flagged ones."""
    for u in unsigned:
        click.echo(f"NOT signed {u.order_number or '?'}  {u.order_id}: {u.reason}", err=err)
    if any(u.code == "SomJustificationRequired" for u in unsigned):
        click.echo(
            "Give the reason with --som-justification TEXT (one order) or "
            "--som-justification ORDER=TEXT for each flagged order; it is kept in the "
            "audit log with the signature.",
            err=err,
        )


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
    "that takes X12; always when distributor_connection is AS2); with --out, "
    "<order_id>.850.p7m is written too.",
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
    som_justification: tuple[str, ...],
) -> None:
    """Sign ORDER_FILE, or stored drafts (--draft ID... | --all-drafts).

    ORDER_FILE is imported into the store first (its order number checked against the
    orders there), then signed, recorded and queued like a draft; --out writes copies.
    A flagged order (Suspicious Order Monitoring) is signed only with its own
    justification: --som-justification TEXT for one order, ORDER=TEXT per flagged order
    in a batch (or the one saved in the editor); otherwise it is refused with its flags.
    """
    from csos_desktop.services.sync.as2_settings import signs_as_x12

    x12 = x12 or signs_as_x12()  # an AS2 connection carries the signed 850
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
    som_justification: Sequence[str] = (),
    *,
    x12: bool = False,
) -> None:
    """Import ORDER_FILE, sign it on the token as a draft, and write copies to *out_dir*."""
    from csos_desktop.cli.files import write_signed_pair
    from csos_desktop.fileio import read_json_object
    from csos_desktop.services.orders import queries
    from csos_desktop.services.orders.drafts import import_orders
    from csos_desktop.services.orders.justifications import justifications_by_order
    from csos_desktop.services.orders.lifecycle import sign_orders_on_token
    from csos_desktop.services.pharmacy_store import open_store
    from csos_desktop.services.signing import SigningPurpose

    data = read_json_object(order_file, "an order")
    with open_store() as store:
        # Into the record first: a bad file or a number already used is refused before the
        # token is even opened; an order refused later stays a draft (`--draft`).
        records = import_orders(store, data, source=f"file:{order_file.name}")
        ids = [r.order_id for r in records]
        try:
            reasons = justifications_by_order(store, ids, som_justification)
        except InputError as exc:
            numbers = " ".join(r.order_number for r in records)
            raise InputError(
                f"{exc.message}\nNothing was signed; the file's orders are drafts now "
                f"({numbers}): sign them with `csos order sign --draft ID…`."
            ) from exc
        with open_choice(SigningPurpose.ORDER, token) as signing:
            result = sign_orders_on_token(
                store, ids, signing, token.terminal(), som_justifications=reasons, x12=x12
            )
        kept = [(r, queries.signed_copy(store, r.order_id)) for r in result.signed]
        signed_850 = {r.order_id: queries.signed_850(store, r.order_id) for r in result.signed}
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
    print_unsigned(result.unsigned, err=True)  # the command's error: on stderr
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
