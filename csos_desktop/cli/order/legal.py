"""`csos order cancel | lost | balance`: the purchaser's notices about a sent order.

Cancellation (21 CFR 1305.28) and the lost-order statement (1305.26) are signed
on the token like orders; every refusal comes before the PIN is asked.
"""

from __future__ import annotations

import json
import re

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.order import order
from csos_desktop.cli.signing import TokenChoice, logged_in_signer, store_and_session, token_options
from csos_desktop.domain.errors import InputError

_CANCEL_SPEC = re.compile(r"\s*([0-9]+)\s*=\s*([0-9]+)\s*")


def parse_cancel_lines(specs: tuple[str, ...]) -> dict[int, int] | None:
    """``N=QTY`` per line; none given means every open package of the order."""
    if not specs:
        return None
    out: dict[int, int] = {}
    for spec in specs:
        m = _CANCEL_SPEC.fullmatch(spec)
        if m is None or int(m.group(2)) < 1:
            raise InputError(f"--line {spec!r}: write LINE=PACKAGES, e.g. --line 2=1")
        out[int(m.group(1))] = out.get(int(m.group(1)), 0) + int(m.group(2))
    return out


@order.command("cancel")
@click.argument("ref")
@click.option(
    "--line",
    "line_specs",
    multiple=True,
    metavar="N=QTY",
    help="Cancel QTY packages of line N (repeat); without --line the whole open balance.",
)
@click.option("--reason", required=True, help="Why the order is cancelled (signed, kept).")
@token_options
@run_cli
def cancel(
    ref: str,
    line_specs: tuple[str, ...],
    reason: str,
    token: TokenChoice,
) -> None:
    """Cancel all or part of a sent order before it ships (21 CFR 1305.28).

    The signed cancellation goes to the distributor with the next `csos sync`; the
    distributor refuses packages already shipped, and the refusal is kept with the order.
    """
    quantities = parse_cancel_lines(line_specs)
    with store_and_session(token) as (store, session):
        from csos_desktop.services.orders import notices

        notices.check_cancel(store, ref, quantities, reason, session.identity)
        sign = logged_in_signer(session, token, "The cancellation")
        done = notices.cancel_order(store, ref, quantities, reason, sign, identity=session.identity)
    lines = ", ".join(f"line {ln.line_no}: {ln.quantity_cancelled}" for ln in done.lines)
    click.echo(
        f"Cancellation {done.cancellation_id} of order {done.order_number} signed ({lines}); "
        "it is sent with the next `csos sync`."
    )


@order.command("lost")
@click.argument("ref")
@click.option(
    "--explanation",
    required=True,
    help="How the order was lost or not received (signed, kept with both orders).",
)
@token_options
@run_cli
def lost(
    ref: str,
    explanation: str,
    token: TokenChoice,
) -> None:
    """Declare a sent order lost (21 CFR 1305.26): signed statement + replacement draft."""
    with store_and_session(token) as (store, session):
        from csos_desktop.services.orders import notices

        notices.check_lost(store, ref, explanation, session.identity)
        sign = logged_in_signer(session, token, "The lost-order statement")
        statement, replacement = notices.declare_lost(
            store, ref, explanation, sign, identity=session.identity
        )
    click.echo(
        f"Lost-order statement {statement.statement_id} signed for order "
        f"{statement.order_number} of {statement.order_date}.\n"
        f"Replacement draft {replacement.order_number} created: {replacement.order_id}; "
        "review and sign it (csos order sign --draft ...).\n"
        "The statement goes to the distributor with the next `csos sync`, so the original "
        "is not accepted if it turns up later."
    )


@order.command("balance")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def balance(ref: str, as_json: bool) -> None:
    """Per line: ordered, shipped, cancelled, voided (60 days, supplier), received, open."""
    # The store and signing code load when the command runs, not for `csos order list`.
    from csos_desktop.services.orders import notices, queries
    from csos_desktop.services.pharmacy_store import open_store

    with open_store() as store:
        rec = queries.order_record(store, ref)
        rows = notices.order_balances(store, ref)
    if as_json:
        click.echo(json.dumps([b.to_json() for b in rows], indent=2))
        return
    if not rows:
        click.echo(f"Order {rec.label} is {rec.state.value}: it has no balance until it is signed.")
        return
    for b in rows:
        shipped = "not reported" if b.shipped is None else str(b.shipped)
        click.echo(
            f"line {b.line_no}: ordered {b.ordered}, shipped {shipped}, cancelled {b.cancelled},"
            f" voided by supplier {b.supplier_voided}, void after 60 days {b.expired},"
            f" received {b.received}; open {b.open_balance}, can receive {b.receivable}"
        )
