"""Orders and their lines in the store, and purchaser order numbers (21 CFR 1305.21(b)(1)).

A row holds the order's current state and the canonical bytes of its unsigned
form; once signed, its content columns are frozen by a trigger and the signed
bytes live in ``signed_orders`` (see ``signed.py``).
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.timestamps import format_timestamp

if TYPE_CHECKING:  # the order model loads when an order is read or written, not to list them
    from csos_desktop.domain.order import Order


class OrderNotFound(InputError):
    """No order in the store has this id or number."""


class OrderNumberTaken(InputError):
    """The purchaser already used this order number (1305.21(b)(1) numbers are unique)."""


class ConcurrentChange(CsosError):
    """Another window changed the order between reading and writing it; nothing was saved."""


@dataclass(frozen=True)
class OrderRecord:
    """One order row as stored."""

    order_id: str
    order_number: str
    purchaser_dea: str
    supplier_dea: str
    supplier_name: str
    state: OrderState
    created_at: str
    updated_at: str
    date_signed: str | None
    number_auto: bool
    reissue_of: str | None
    lines: int

    @property
    def label(self) -> str:
        """How messages name the order: its number and the start of its id."""
        return f"{self.order_number} ({self.order_id[:8]})"

    def to_json(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "order_number": self.order_number,
            "state": self.state.value,
            "purchaser_dea": self.purchaser_dea,
            "supplier_dea": self.supplier_dea,
            "supplier_name": self.supplier_name,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "date_signed": self.date_signed,
            "reissue_of": self.reissue_of,
            "lines": self.lines,
        }


_SELECT = (
    "SELECT o.order_id, o.order_number, o.purchaser_dea, o.supplier_dea, o.supplier_name, "
    "o.state, o.created_at, o.updated_at, o.date_signed, o.number_auto, o.reissue_of, "
    "(SELECT count(*) FROM order_lines l WHERE l.order_id = o.order_id) FROM orders o"
)


def _record(row: tuple[object, ...]) -> OrderRecord:
    return OrderRecord(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        OrderState(str(row[5])),
        str(row[6]),
        str(row[7]),
        None if row[8] is None else str(row[8]),
        bool(row[9]),
        None if row[10] is None else str(row[10]),
        int(str(row[11])),
    )


class OrderRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # -- reading --------------------------------------------------------------------

    def get(self, order_id: str) -> OrderRecord:
        row = self._conn.execute(_SELECT + " WHERE o.order_id = ?", (order_id,)).fetchone()
        if row is None:
            raise OrderNotFound(f"No order with id {order_id} is in the store.")
        return _record(row)

    def with_number(self, order_number: str) -> list[OrderRecord]:
        """The orders numbered *order_number* (one per purchaser DEA number at most)."""
        rows = self._conn.execute(
            _SELECT + " WHERE o.order_number = ?", (order_number.strip().upper(),)
        ).fetchall()
        return [_record(r) for r in rows]

    def resolve(self, ref: str) -> OrderRecord:
        """An order by full id, order number, or an unambiguous id prefix (8+ characters)."""
        ref = ref.strip()
        rows = self._conn.execute(
            _SELECT + " WHERE o.order_id = ? OR o.order_number = ? "
            "OR (length(?) >= 8 AND o.order_id LIKE ? || '%') LIMIT 3",
            (ref.lower(), ref.upper(), ref, ref.lower()),
        ).fetchall()
        if not rows:
            raise OrderNotFound(
                f"No order {ref!r} is in the store (give its id or number; "
                "'csos order list' shows them)."
            )
        if len(rows) > 1:
            raise InputError(f"{ref!r} matches several orders; give the full order id.")
        return _record(rows[0])

    def list(self, states: Collection[OrderState] = ()) -> list[OrderRecord]:
        sql, args = _SELECT, [s.value for s in states]
        if args:
            sql += f" WHERE o.state IN ({', '.join('?' * len(args))})"
        return [
            _record(r) for r in self._conn.execute(sql + " ORDER BY o.created_at, o.rowid", args)
        ]

    def _filter(
        self, states: Collection[OrderState], search: str | None
    ) -> tuple[str, builtins.list[str]]:
        clauses: builtins.list[str] = []
        args = [s.value for s in states]
        if args:
            clauses.append(f"o.state IN ({', '.join('?' * len(args))})")
        if search:
            # Order number, supplier name or id prefix, as a user types them.
            clauses.append("(o.order_number LIKE ? OR o.supplier_name LIKE ? OR o.order_id LIKE ?)")
            term = search.strip()
            args += [f"%{term.upper()}%", f"%{term}%", f"{term.lower()}%"]
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def count(self, states: Collection[OrderState] = (), search: str | None = None) -> int:
        """How many orders match (for a table that loads rows as they are scrolled to)."""
        where, args = self._filter(states, search)
        row = self._conn.execute("SELECT count(*) FROM orders o" + where, args).fetchone()
        return int(row[0])

    def page(
        self,
        offset: int,
        limit: int,
        states: Collection[OrderState] = (),
        search: str | None = None,
    ) -> builtins.list[OrderRecord]:
        """One page of matching orders, newest first."""
        where, args = self._filter(states, search)
        sql = _SELECT + where + " ORDER BY o.created_at DESC, o.rowid DESC LIMIT ? OFFSET ?"
        return [_record(r) for r in self._conn.execute(sql, [*args, limit, offset])]

    def order(self, order_id: str) -> Order:
        """The order as stored (unsigned form; the signed bytes are in ``signed_orders``)."""
        row = self._conn.execute(
            "SELECT draft_document FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            raise OrderNotFound(f"No order with id {order_id} is in the store.")
        from csos_desktop.domain.order import Order

        return Order.from_document(load_document(bytes(row[0])))

    def number_taken(self, purchaser_dea: str, order_number: str) -> bool:
        return (
            self._conn.execute(
                "SELECT 1 FROM orders WHERE purchaser_dea = ? AND order_number = ?",
                (purchaser_dea, order_number),
            ).fetchone()
            is not None
        )

    # -- writing (inside the caller's transaction) -----------------------------------

    def insert(
        self, order: Order, *, now: datetime, number_auto: bool, reissue_of: str | None = None
    ) -> None:
        """Store a new draft with its lines."""
        dea = order.purchaser.dea_number.value
        if self.number_taken(dea, order.order_number):
            raise OrderNumberTaken(
                f"Order number {order.order_number} is already used by purchaser {dea}; "
                "each order needs its own number. Leave order_number out to get the next one."
            )
        stamp = format_timestamp(now)
        self._conn.execute(
            "INSERT INTO orders (order_id, order_number, purchaser_dea, supplier_dea, "
            "supplier_name, state, created_at, updated_at, number_auto, draft_document, "
            "reissue_of) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)",
            (
                order.order_id,
                order.order_number,
                dea,
                order.supplier.dea_number.value,
                order.supplier.name,
                format_timestamp(order.created_at),
                stamp,
                int(number_auto),
                order.canonical_bytes(),
                reissue_of,
            ),
        )
        self._insert_lines(order)

    def _insert_lines(self, order: Order) -> None:
        self._conn.executemany(
            "INSERT INTO order_lines (order_id, line_no, ndc, item_name, strength, dosage_form,"
            " package_size, quantity, schedule) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    order.order_id,
                    ln.line_no,
                    ln.ndc.digits,
                    ln.item_name,
                    ln.strength,
                    ln.dosage_form,
                    ln.package_size,
                    ln.quantity,
                    None if ln.schedule is None else ln.schedule.value,
                )
                for ln in order.lines
            ],
        )

    def distributor_status(self, order_id: str) -> str | None:
        """The last status the distributor reported, kept beside the order's state (which
        may be ahead of it); None before the first report. Read apart from the order's row
        so code reading orders works on a schema older than 0010 too."""
        row = self._conn.execute(
            "SELECT distributor_status FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def note_distributor_status(self, order_id: str, status: str) -> None:
        """Keep what the distributor last reported beside the order's state."""
        self._conn.execute(
            "UPDATE orders SET distributor_status = ? WHERE order_id = ?", (status, order_id)
        )

    def replace_draft(self, order: Order, now: datetime) -> None:
        """New content for a draft (same id and number); refused once it is signed."""
        cur = self._conn.execute(
            "UPDATE orders SET supplier_dea = ?, supplier_name = ?, draft_document = ?, "
            "updated_at = ? WHERE order_id = ? AND state = 'draft'",
            (
                order.supplier.dea_number.value,
                order.supplier.name,
                order.canonical_bytes(),
                format_timestamp(now),
                order.order_id,
            ),
        )
        if cur.rowcount != 1:
            raise ConcurrentChange(
                f"Order {order.order_number} is no longer a draft; nothing was changed."
            )
        self._conn.execute("DELETE FROM order_lines WHERE order_id = ?", (order.order_id,))
        self._insert_lines(order)

    def set_state(
        self, order_id: str, expected: OrderState, new: OrderState, now: datetime
    ) -> None:
        """Move the order; fails if its state is no longer ``expected``."""
        cur = self._conn.execute(
            "UPDATE orders SET state = ?, updated_at = ? WHERE order_id = ? AND state = ?",
            (new.value, format_timestamp(now), order_id, expected.value),
        )
        if cur.rowcount != 1:
            raise ConcurrentChange(
                f"Order {order_id} changed while it was being updated; "
                "nothing was saved. Look at it again and repeat."
            )

    def mark_signed(self, signed: Order, now: datetime) -> None:
        """Draft → signed, with the date signed and (if renumbered) the new number."""
        from csos_desktop.domain.order import Order

        assert signed.date_signed is not None
        undated = Order(
            signed.order_id,
            signed.order_number,
            signed.created_at,
            signed.purchaser,
            signed.supplier,
            signed.lines,
        )
        cur = self._conn.execute(
            "UPDATE orders SET state = 'signed', updated_at = ?, date_signed = ?, "
            "order_number = ?, draft_document = ? WHERE order_id = ? AND state = 'draft'",
            (
                format_timestamp(now),
                signed.date_signed.isoformat(),
                signed.order_number,
                undated.canonical_bytes(),
                signed.order_id,
            ),
        )
        if cur.rowcount != 1:
            raise ConcurrentChange(
                f"Order {signed.order_id} was no longer a draft; the new signature was not kept."
            )

    def next_number(self, purchaser_dea: str, year: int) -> str:
        """The purchaser's next unused order number for ``year`` (``YYX`` + six digits)."""
        from csos_desktop.domain.order_rules import next_order_number

        row = self._conn.execute(
            "SELECT last_seq FROM order_number_counters WHERE purchaser_dea = ? AND year = ?",
            (purchaser_dea, year),
        ).fetchone()
        seq = 0 if row is None else int(row[0])
        while True:
            seq += 1
            number = next_order_number(year, seq)  # raises past 999,999 orders in a year
            if not self.number_taken(purchaser_dea, number):
                break  # numbers typed by hand are skipped, never reused
        self._conn.execute(
            "INSERT INTO order_number_counters (purchaser_dea, year, last_seq) VALUES (?, ?, ?)"
            " ON CONFLICT (purchaser_dea, year) DO UPDATE SET last_seq = excluded.last_seq",
            (purchaser_dea, year, seq),
        )
        return number
