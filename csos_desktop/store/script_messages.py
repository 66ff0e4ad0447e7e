"""NCPDP SCRIPT messages sent and received, byte-exact, with the pharmacy's verdict."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.timestamps import format_timestamp


class Direction(StrEnum):
    SENT = "sent"
    RECEIVED = "received"


class ScriptMessageNotFound(InputError):
    """No such message in the store."""


@dataclass(frozen=True)
class ScriptMessage:
    message_id: int
    direction: Direction
    rx_id: str | None
    ncpdp_id: str | None
    message: bytes
    message_sha256: str
    at: datetime
    source: str
    verdict: str | None
    verification: dict[str, object] | None
    pharmacy_signature: bytes | None
    pharmacy_signed_at: datetime | None
    answer: bytes | None

    @property
    def intact(self) -> bool:
        return hashlib.sha256(self.message).hexdigest() == self.message_sha256


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


_COLUMNS = (
    "message_id, direction, rx_id, ncpdp_id, message, message_sha256, at, source, verdict, "
    "verification, pharmacy_signature, pharmacy_signed_at, answer"
)


def _message(row: tuple[Any, ...]) -> ScriptMessage:
    (mid, direction, rx_id, ncpdp, message, sha, at, source, verdict, ver, psig, pat, ans) = row
    return ScriptMessage(
        int(mid),
        Direction(str(direction)),
        None if rx_id is None else str(rx_id),
        None if ncpdp is None else str(ncpdp),
        bytes(message),
        str(sha),
        _when(str(at)),
        str(source),
        None if verdict is None else str(verdict),
        None if ver is None else json.loads(str(ver)),
        None if psig is None else bytes(psig),
        None if pat is None else _when(str(pat)),
        None if ans is None else bytes(ans),
    )


class ScriptMessages:
    """The ``script_messages`` table; writes run inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _insert(self, values: dict[str, object]) -> int:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cur = self.conn.execute(
            f"INSERT INTO script_messages ({names}) VALUES ({marks})", tuple(values.values())
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def add_sent(self, rx_id: str, ncpdp_id: str, message: bytes, *, now: datetime) -> int:
        """The NewRx signed for *rx_id*, to the pharmacy *ncpdp_id*."""
        return self._insert(
            {
                "direction": Direction.SENT.value,
                "rx_id": rx_id,
                "ncpdp_id": ncpdp_id,
                "message": message,
                "message_sha256": hashlib.sha256(message).hexdigest(),
                "at": format_timestamp(now),
                "source": "signing",
            }
        )

    def add_received(
        self,
        message: bytes,
        *,
        rx_id: str | None,
        ncpdp_id: str | None,
        source: str,
        verdict: str,
        verification: dict[str, object],
        now: datetime,
    ) -> int:
        """A received message as it came, with the verdict reached on receipt."""
        return self._insert(
            {
                "direction": Direction.RECEIVED.value,
                "rx_id": rx_id,
                "ncpdp_id": ncpdp_id,
                "message": message,
                "message_sha256": hashlib.sha256(message).hexdigest(),
                "at": format_timestamp(now),
                "source": source,
                "verdict": verdict,
                "verification": json.dumps(verification, sort_keys=True),
            }
        )

    def add_pharmacy_signature(self, message_id: int, signature: bytes, *, now: datetime) -> None:
        self.conn.execute(
            "UPDATE script_messages SET pharmacy_signature = ?, pharmacy_signed_at = ? "
            "WHERE message_id = ?",
            (signature, format_timestamp(now), message_id),
        )

    def set_answer(self, message_id: int, answer: bytes) -> None:
        self.conn.execute(
            "UPDATE script_messages SET answer = ? WHERE message_id = ?", (answer, message_id)
        )

    def get(self, message_id: int) -> ScriptMessage:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM script_messages WHERE message_id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise ScriptMessageNotFound(f"No SCRIPT message {message_id} in this store.")
        return _message(row)

    def sent_for(self, rx_id: str) -> ScriptMessage | None:
        """The NewRx signed for a prescription, if one was."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM script_messages WHERE direction = 'sent' AND rx_id = ? "
            "ORDER BY message_id DESC LIMIT 1",
            (rx_id,),
        ).fetchone()
        return None if row is None else _message(row)

    def all(self, direction: Direction | None = None) -> list[ScriptMessage]:
        where, args = ("WHERE direction = ?", (direction.value,)) if direction else ("", ())
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM script_messages {where} ORDER BY message_id", args
        ).fetchall()
        return [_message(r) for r in rows]

    def received_sha256(self, sha256: str) -> ScriptMessage | None:
        """A message received already (the same bytes fetched twice from the server)."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM script_messages WHERE direction = 'received' "
            "AND message_sha256 = ? ORDER BY message_id LIMIT 1",
            (sha256,),
        ).fetchone()
        return None if row is None else _message(row)
