"""Order commands on the local store's records (attached to the `order` group).

The store is ``$CSOS_HOME/data/csos.db`` (platform data dir without CSOS_HOME).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.order import order, print_unsigned, som_justification_option
from csos_desktop.cli.signing import TokenChoice, open_choice, token_options
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order_state import OrderState
from csos_desktop.fileio import read_json, read_json_object
from csos_desktop.services.pharmacy_store import open_store

if TYPE_CHECKING:  # each command loads what it uses: `order list` reads the store only
    from csos_desktop.domain.receipt import ReceiptLine
    from csos_desktop.services.pharmacy_store import OpenStore, OrderRecord

_LINE_SPEC = re.compile(r"\s*([0-9]+)\s*=\s*([0-9]+)\s*(?:@\s*([0-9]{4}-[0-9]{2}-[0-9]{2}))?\s*")


def _store() -> OpenStore:
    return open_store()


def _summary(rec: OrderRecord) -> str:
    return (
        f"{rec.order_id}  {rec.order_number}  {rec.state.value:<16} "
        f"{rec.supplier_name} ({rec.lines} line{'s' if rec.lines != 1 else ''})"
    )


@order.command("import")
@click.argument(
    "order_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def import_(order_files: tuple[Path, ...], as_json: bool) -> None:
    """Create drafts from ORDER_FILE...: JSON (an order or a list) or CSV (a row per line).

    Each file is all or nothing. A refused file does not stop the others; the refused
    ones are listed at the end (exit 2). CSV columns are listed in `docs/store.md`.
    """
    records: list[OrderRecord] = []
    refused: list[str] = []
    with _store() as store:
        for order_file in dict.fromkeys(order_files):  # a file named twice is imported once
            try:
                created = _import_file(store, order_file)
            except InputError as exc:
                if len(order_files) == 1:
                    raise
                named = str(order_file) in exc.message  # most messages name the file
                refused.append(f"- {exc.message if named else f'{order_file}: {exc.message}'}")
                continue
            records += created
            if not as_json:
                for rec in created:
                    click.echo(f"Draft {rec.order_number} created: {rec.order_id}")
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
    if refused:
        total = len(set(order_files))
        head = (
            f"None of the {total} files was imported"
            if len(refused) == total
            else f"{len(refused)} of {total} files were not imported; the others were"
        )
        raise InputError(f"{head}. Fix these and import only them again:\n" + "\n".join(refused))


def _import_file(store: OpenStore, path: Path) -> list[OrderRecord]:
    """One file's orders as drafts, all or none (one transaction)."""
    from csos_desktop.domain.order_csv import orders_from_csv
    from csos_desktop.services.orders.drafts import import_orders

    if path.suffix.lower() == ".csv":
        from csos_desktop.domain.untrusted_input import decode_text

        try:
            # UTF-8, or Windows-1252 as Excel saves "CSV (Comma delimited)" on Windows.
            text = decode_text(path.read_bytes())
        except OSError as exc:
            raise InputError(f"Cannot read {path} ({exc.strerror}).") from exc
        data: object = orders_from_csv(text, now=datetime.now(UTC))
    else:
        data = read_json(path)
    return import_orders(store, data, source=f"file:{path.name}")


@order.command("edit")
@click.argument("ref")
@click.argument("order_file", type=click.Path(dir_okay=False, path_type=Path))
@run_cli
def edit(ref: str, order_file: Path) -> None:
    """Replace a draft's supplier and lines from ORDER_FILE (it keeps its id and number)."""
    from csos_desktop.services.orders.drafts import update_draft

    data = read_json_object(order_file, "one order")
    with _store() as store:
        rec = update_draft(store, ref, data)
    click.echo(
        f"Draft {rec.order_number} updated ({rec.lines} lines); the change is in the audit log."
    )


@order.command("list")
@click.option(
    "--status",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in OrderState]),
    help="Only orders in this state.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_(states: tuple[str, ...], as_json: bool) -> None:
    """Orders in the local store, oldest first."""
    from csos_desktop.services.orders import queries

    with _store() as store:
        records = queries.orders(store, [OrderState(s) for s in states])
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
        return
    for rec in records:
        click.echo(_summary(rec))
    if not records:
        click.echo("No orders.")


@order.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def show(ref: str, as_json: bool) -> None:
    """One order: lines, signature, receipts, statements and its audit trail."""
    from csos_desktop.services.orders import queries

    with _store() as store:
        d = queries.order_details(store, ref)
    rec, current, blob, receipts, statements = d.record, d.order, d.signed, d.receipts, d.statements
    voided, notices, balances, trail = d.voided, d.notices, d.balances, d.trail
    if as_json:
        click.echo(
            json.dumps(
                {
                    **rec.to_json(),
                    "document": current.to_document()
                    if blob is None
                    else json.loads(blob.document),
                    "signature_sha256": None if blob is None else blob.signature_sha256,
                    "receipts": [r.to_document() for r in receipts],
                    "statements": [
                        {
                            "kind": s.kind.value,
                            "reason": s.reason,
                            "received_at": s.received_at,
                            "signed": s.signature is not None,
                            "verification": s.verification.value,
                            "rejection": s.rejection,
                            "voided_lines": voided.get(s.statement_id, {}),
                        }
                        for s in statements
                    ],
                    "notices": list(notices),
                    "balances": [b.to_json() for b in balances],
                    "audit": [e.to_json() for e in trail],
                },
                indent=2,
            )
        )
        return
    click.echo(_summary(rec))
    for ln in current.lines:
        sched = "non-controlled" if ln.schedule is None else f"schedule {ln.schedule.value}"
        click.echo(
            f"  line {ln.line_no}: {ln.quantity} x {ln.package_size} {ln.item_name} "
            f"{ln.strength} {ln.dosage_form} (NDC {ln.ndc.digits}, {sched})"
        )
    if blob is not None:
        click.echo(
            f"Signed {blob.signed_at} by {blob.signer_subject} (DEA {blob.signer_dea}); "
            f"signature SHA-256 {blob.signature_sha256}"
        )
    for r in receipts:
        got = ", ".join(
            f"line {ln.line_no}: {ln.quantity_received} on {ln.date_received}" for ln in r.lines
        )
        click.echo(f"Receipt {r.receipt_id}: {got}")
    from csos_desktop.services.pharmacy_store import Verification

    for s in statements:
        verdict = {
            Verification.VERIFIED: " [signed, verified]",
            Verification.REJECTED: " [signed, REJECTED: not the supplier's word]",
        }.get(s.verification, "")
        click.echo(f"Distributor statement ({s.kind.value}, {s.received_at}){verdict}: {s.reason}")
        for n, q in voided[s.statement_id].items():
            click.echo(f"  line {n}: {q} package(s) voided")
    for notice in notices:
        click.echo(_notice_line(notice))
    for b in balances:
        if b.cancelled or b.supplier_voided or b.expired:
            click.echo(
                f"  line {b.line_no}: {b.cancelled} cancelled, {b.supplier_voided} voided by the"
                f" supplier, {b.expired} void after 60 days; {b.receivable} can still be received"
            )
    if rec.reissue_of:
        click.echo(f"Re-issue of order {rec.reissue_of}")
    for e in trail:
        click.echo(f"  [{e.entry_id}] {e.at} {e.event}")


def _notice_line(n: dict[str, object]) -> str:
    if n["kind"] == "cancellation":
        return (
            f"Cancellation {n['notice_id']} ({n['created_at']}): {n['lines']} — "
            f"distributor: {n['outcome']}"
            + (f" ({n['outcome_reason']})" if n["outcome_reason"] else "")
        )
    return (
        f"Lost-order statement {n['notice_id']} ({n['created_at']}): order "
        f"{n['original_order_number']} replaced by {n['replacement_order_number']}"
    )


@order.command("sign-drafts")
@click.argument("ids", nargs=-1)
@click.option("--all", "all_drafts", is_flag=True, help="Sign every draft in the store.")
@token_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@som_justification_option
@run_cli
def sign_drafts(
    ids: tuple[str, ...],
    all_drafts: bool,
    token: TokenChoice,
    as_json: bool,
    som_justification: tuple[str, ...],
) -> None:
    """Sign drafts IDS (or --all) with one token login; each is kept as soon as it is signed.

    Exit 0 if every order was signed, 1 if some were left unsigned (listed with the reason).
    """
    sign_stored(ids, all_drafts, token, as_json, som_justification)


def sign_stored(
    ids: tuple[str, ...],
    all_drafts: bool,
    token: TokenChoice,
    as_json: bool,
    som_justification: Sequence[str] = (),
    x12: bool = False,
) -> None:
    """Sign stored drafts in one login (shared by `order sign-drafts` and `order sign --draft`)."""
    from csos_desktop.services.orders import queries
    from csos_desktop.services.orders.justifications import justifications_by_order
    from csos_desktop.services.orders.lifecycle import sign_orders_on_token
    from csos_desktop.services.signing import SigningPurpose
    from csos_desktop.services.sync.as2_settings import signs_as_x12

    x12 = x12 or signs_as_x12()  # an AS2 connection carries the signed 850
    if bool(ids) == all_drafts:
        raise InputError("Give the ids of the drafts to sign, or --all (not both).")
    with _store() as store:
        wanted = queries.draft_ids(store, ids, every_draft=all_drafts)
        if not wanted:
            click.echo("No drafts to sign.")
            return
        reasons = justifications_by_order(store, wanted, som_justification)
        with open_choice(SigningPurpose.ORDER, token) as session:
            result = sign_orders_on_token(
                store, wanted, session, token.terminal(), som_justifications=reasons, x12=x12
            )
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        for rec in result.signed:
            click.echo(f"signed    {rec.order_number}  {rec.order_id}")
        print_unsigned(result.unsigned, err=False)
        if result.stopped:
            click.echo(f"The batch stopped: {result.stopped}", err=True)
    raise SystemExit(1 if result.unsigned else 0)


@order.command("void")
@click.argument("ref")
@click.option("--reason", required=True, help="Why the order is voided (kept on record).")
@run_cli
def void(ref: str, reason: str) -> None:
    """Void a draft, or a signed order not yet sent to the distributor."""
    from csos_desktop.services.orders.drafts import void_order

    with _store() as store:
        rec = void_order(store, ref, reason)
    click.echo(f"Order {rec.order_number} is void.")


@order.command("reissue")
@click.argument("ref")
@run_cli
def reissue(ref: str) -> None:
    """Copy a rejected, void or cancelled order into a new draft with a new number."""
    from csos_desktop.services.orders.drafts import reissue_order

    with _store() as store:
        rec = reissue_order(store, ref)
    click.echo(f"Draft {rec.order_number} created: {rec.order_id} (re-issue of {ref})")


def parse_lines(specs: tuple[str, ...], default_date: date) -> list[ReceiptLine]:
    """``N=QTY`` or ``N=QTY@YYYY-MM-DD`` per received line."""
    from csos_desktop.domain.receipt import ReceiptLine

    out = []
    for spec in specs:
        m = _LINE_SPEC.fullmatch(spec)
        if m is None:
            raise InputError(
                f"--line {spec!r}: write LINE=PACKAGES or LINE=PACKAGES@YYYY-MM-DD,"
                " e.g. --line 1=2 or --line 1=2@2026-11-27"
            )
        try:
            day = date.fromisoformat(m.group(3)) if m.group(3) else default_date
        except ValueError as exc:
            raise InputError(f"--line {spec!r}: {m.group(3)} is not a date") from exc
        qty = int(m.group(2))
        if qty < 1:
            raise InputError(f"--line {spec!r}: the number of packages received must be 1 or more")
        out.append(ReceiptLine(int(m.group(1)), qty, day))
    if not out:
        raise InputError("Give at least one --line LINE=PACKAGES.")
    return out


@order.command("receive")
@click.argument("ref")
@click.option(
    "--line",
    "line_specs",
    multiple=True,
    metavar="N=QTY[@DATE]",
    help="Packages received on order line N (repeat per line).",
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date received for lines without @DATE (default: today).",
)
@click.option(
    "--from-856",
    "from_856",
    is_flag=True,
    help="Pre-fill the lines from the distributor's ship notices (856) not yet received; "
    "they are printed before the PIN is asked, and --line changes any of them.",
)
@token_options
@run_cli
def receive(
    ref: str,
    line_specs: tuple[str, ...],
    day: datetime | None,
    from_856: bool,
    token: TokenChoice,
) -> None:
    """Record and sign the electronic receipt of delivered goods (21 CFR 1305.22(g))."""
    from csos_desktop.config.local_time import local_date
    from csos_desktop.services.orders.receipts import sign_receipt
    from csos_desktop.services.signing import SigningPurpose

    today = day.date() if day else local_date(datetime.now(UTC))
    lines = _from_856(ref, today) if from_856 else []
    given = parse_lines(line_specs, today) if line_specs or not from_856 else []
    lines = [ln for ln in lines if ln.line_no not in {g.line_no for g in given}] + given
    if from_856:
        for ln in sorted(lines, key=lambda r: r.line_no):
            click.echo(
                f"  line {ln.line_no}: {ln.quantity_received} package(s) on {ln.date_received}"
            )
    # The purchaser signs its receipt: with several locations, that order's certificate.
    with _store() as store, open_choice(SigningPurpose.RECEIPT, token) as session:
        receipt, rec = sign_receipt(store, ref, lines, session, token.terminal())
    click.echo(
        f"Receipt {receipt.receipt_id} recorded for order {rec.order_number}; "
        f"the order is now {rec.state.value}."
    )


def _from_856(ref: str, day: date) -> list[ReceiptLine]:
    """The 856s' quantities not yet received, dated *day* (when the goods arrived)."""
    from dataclasses import replace

    from csos_desktop.services.orders import queries
    from csos_desktop.services.orders.x12_intake import prefill_from_856

    with _store() as store:
        lines = prefill_from_856(store, queries.order_record(store, ref).order_id)
    if not lines:
        raise InputError(
            "No ship notice (856) of this order holds packages not yet received; "
            "give --line N=QTY for what arrived."
        )
    return [replace(ln, date_received=day) for ln in lines]


@order.command("export")
@click.argument("ref")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write to (for x12: standard output without it).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["record", "x12"]),
    default="record",
    show_default=True,
    help="record: the signed files for an inspector; x12: the order as an X12 004010 850.",
)
@run_cli
def export(ref: str, out_dir: Path | None, fmt: str) -> None:
    """Write the signed order, its receipts and statements byte for byte, or the order as X12."""
    if fmt == "x12":
        _export_x12(ref, out_dir)
        return
    if out_dir is None:
        raise click.UsageError("--out DIRECTORY is required for --format record")
    from csos_desktop.services.orders.export import export_order

    with _store() as store:
        files = export_order(store, ref, out_dir)
    for f in files:
        click.echo(str(f))


def _export_x12(ref: str, out_dir: Path | None) -> None:
    from csos_desktop.fileio import write_atomically
    from csos_desktop.services.orders import queries
    from csos_desktop.services.orders.x12_export import export_850

    with _store() as store:
        rec = queries.order_record(store, ref)
        kept = export_850(store, ref)
    if out_dir is None:
        click.echo(kept.document, nl=False)  # bytes: written as they are
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {f"{rec.order_id}.850.x12": kept.document}
    if kept.signed is not None:  # the pharmacist's signature, the 850 inside
        files[f"{rec.order_id}.850.p7m"] = kept.signed
    for name, data in files.items():
        write_atomically(out_dir / name, data)
        click.echo(str(out_dir / name))
