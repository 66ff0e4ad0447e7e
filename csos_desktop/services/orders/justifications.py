"""Which SOM justification belongs to which order of a batch, from command-line values.

Each flagged order needs its own justification (21 CFR 1301.74(b)): one sentence must
never clear another order's flags. A value is ``ORDER=TEXT`` (ORDER: the draft's id, id
prefix or order number) or, when exactly one order is signed, plain ``TEXT``.
"""

from __future__ import annotations

from collections.abc import Sequence

from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.store.local_store import Store

OPTION = "--som-justification"


def _names_an_order(ref: str) -> bool:
    # An order number (26X000123) or an id prefix: one token of 8+ characters with digits.
    return len(ref) >= 8 and not any(c.isspace() for c in ref) and any(c.isdigit() for c in ref)


def justifications_by_order(
    store: Store, ids: Sequence[str], given: Sequence[str]
) -> dict[str, str]:
    """Order id → justification text for the batch *ids* (checked later, per order)."""
    out: dict[str, str] = {}
    plain: list[str] = []
    for value in given:
        ref, sep, text = value.partition("=")
        if not sep or not _names_an_order(ref.strip()):
            plain.append(value)
            continue
        try:
            order_id = store.orders.resolve(ref.strip()).order_id
        except CsosError as exc:
            raise InputError(f"{OPTION} {ref.strip()}=…: {exc.message}") from exc
        if order_id not in ids:
            raise InputError(
                f"{OPTION} {ref.strip()}=…: that order is not among the drafts being signed."
            )
        if order_id in out:
            raise InputError(f"{OPTION} is given twice for {ref.strip()}; give it once.")
        out[order_id] = text
    if plain:
        if len(plain) > 1 or len(ids) != 1 or out:
            raise InputError(
                f"Several orders are signed: give {OPTION} ORDER=TEXT once for each flagged "
                "order (ORDER is its number or id), so each justification stays with its "
                "own order."
            )
        out[ids[0]] = plain[0]
    return out
