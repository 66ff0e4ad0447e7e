"""The distributor API client (httpx): typed calls, typed errors, retries with back-off.

One method per API call; ``sync.transport`` does TLS, retries and error mapping, and
``sync.records`` reads each reply into frozen records. Blocking by design: the outbox
worker runs it off the UI thread.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.sync.errors import ProtocolError
from csos_desktop.sync.records import (
    Body,
    CancellationRecord,
    Change,
    ChangesPage,
    HistoryPage,
    HistoryRow,
    LineRecord,
    LostStatementRecord,
    OrderRecord,
    PrescriptionRecord,
    Reason,
    ReceiptRecord,
    SignedStatement,
    order_record,
    prescription_record,
)
from csos_desktop.sync.script_records import (
    Delivered,
    InboxMessage,
    delivered,
    directory_entry,
    inbox_message,
)
from csos_desktop.sync.transport import RetryPolicy, Transport, TransportOptions

# The records and the retry policy are part of this module's API (callers import them here).
__all__ = [
    "CancellationRecord",
    "Change",
    "ChangesPage",
    "DistributorClient",
    "HistoryPage",
    "HistoryRow",
    "LineRecord",
    "OrderRecord",
    "PrescriptionRecord",
    "Reason",
    "ReceiptRecord",
    "RetryPolicy",
    "SignedStatement",
]


class DistributorClient:
    """Calls to one distributor with one customer's bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        ca_bundle: Path | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._transport = Transport(base_url, token, TransportOptions(ca_bundle, timeout, retry))
        self._host = self._transport.host

    def __repr__(self) -> str:  # never the token
        return f"DistributorClient({self._host!r})"

    def __enter__(self) -> DistributorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def _get(self, path: str, what: str, **params: object) -> Body:
        """One GET (retried); its JSON object, read as *what*."""
        body, _ = self._transport.call("GET", path, **({"params": params} if params else {}))
        return Body(body, what)

    # -- calls ------------------------------------------------------------------------

    def health(self) -> datetime:
        """The distributor's clock (for the five-minute rule of 1311.55)."""
        return self._get("/v1/health", "health reply").when("time")

    def submit_order(self, order_id: str, document: bytes, signature: bytes) -> OrderRecord:
        """Send a signed order (idempotent on its id); checks the server kept our bytes."""
        body, replayed = self._transport.post_signed("/v1/orders", order_id, document, signature)
        record = order_record(Body(body, "order record"), replayed)
        if record.document_sha256 != hashlib.sha256(document).hexdigest():
            raise ProtocolError(
                f"the distributor's record of order {order_id} is not the "
                "document sent (digest differs); report this to the distributor"
            )
        return record

    def order(self, order_id: str) -> OrderRecord:
        return order_record(self._get(f"/v1/orders/{order_id}", "order record"), False)

    def changes(self, cursor: str = "0", limit: int = 100) -> ChangesPage:
        b = self._get("/v1/changes", "change feed", cursor=cursor, limit=limit)
        return ChangesPage(
            tuple(
                Change(
                    c.get("cursor", str),
                    c.get("order_id", str),
                    c.get("event", str),
                    c.get("status", str),
                    c.when("at"),
                )
                for c in b.items("changes", "change")
            ),
            b.get("next_cursor", str),
            b.get("has_more", bool),
        )

    def iter_changes(self, cursor: str = "0") -> Iterator[Change]:
        """Every change after ``cursor``; persist each ``change.cursor`` once applied."""
        while True:
            page = self.changes(cursor)
            yield from page.changes
            cursor = page.next_cursor
            if not page.has_more:
                return

    def submit_receipt(self, receipt_id: str, document: bytes, signature: bytes) -> ReceiptRecord:
        body, replayed = self._transport.post_signed(
            "/v1/receipts", receipt_id, document, signature
        )
        b = Body(body, "receipt record")
        return ReceiptRecord(
            b.get("receipt_id", str),
            b.get("order_id", str),
            b.when("accepted_at"),
            b.get("document_sha256", str),
            tuple(x.data for x in b.items("lines", "receipt line")),
            replayed,
        )

    def cancel_order(
        self, order_id: str, cancellation_id: str, document: bytes, signature: bytes
    ) -> CancellationRecord:
        """Send a signed cancellation (idempotent on its id).

        A 409 ``already-shipped`` (DistributorRefused) is the distributor's final answer.
        """
        body, replayed = self._transport.post_signed(
            f"/v1/orders/{_segment(order_id)}/cancellations", cancellation_id, document, signature
        )
        b = Body(body, "cancellation record")
        record = CancellationRecord(
            b.get("cancellation_id", str),
            b.get("order_id", str),
            b.when("accepted_at"),
            b.get("document_sha256", str),
            b.get("order_status", str),
            replayed,
        )
        if record.document_sha256 != hashlib.sha256(document).hexdigest():
            raise ProtocolError(
                f"the distributor's record of cancellation {cancellation_id} is not the "
                "document sent (digest differs); report this to the distributor"
            )
        return record

    def declare_lost(
        self, order_id: str, statement_id: str, document: bytes, signature: bytes
    ) -> LostStatementRecord:
        """Send a signed lost-order statement (1305.26; idempotent on its id)."""
        body, replayed = self._transport.post_signed(
            f"/v1/orders/{_segment(order_id)}/lost-order-statements",
            statement_id,
            document,
            signature,
        )
        b = Body(body, "lost-order statement record")
        record = LostStatementRecord(
            b.get("statement_id", str),
            b.get("order_id", str),
            b.when("received_at"),
            b.get("document_sha256", str),
            b.get("original_status", str, optional=True),
            replayed,
        )
        if record.document_sha256 != hashlib.sha256(document).hexdigest():
            raise ProtocolError(
                f"the distributor's record of lost-order statement {statement_id} is not the "
                "document sent (digest differs); report this to the distributor"
            )
        return record

    def submit_prescription(
        self, pharmacy_id: str, rx_id: str, document: bytes, signature: bytes
    ) -> PrescriptionRecord:
        """Transmit a signed prescription to a pharmacy (idempotent on the rx id).

        A record with ``status`` "rejected" is the pharmacy's final verdict, not an
        error; checks the pharmacy kept the exact bytes sent.
        """
        body, replayed = self._transport.post_signed(
            f"/v1/pharmacies/{_segment(pharmacy_id)}/prescriptions", rx_id, document, signature
        )
        record = prescription_record(Body(body, "prescription record"), replayed)
        if (record.document_sha256, record.signature_sha256) != (
            hashlib.sha256(document).hexdigest(),
            hashlib.sha256(signature).hexdigest(),
        ):
            raise ProtocolError(
                f"the pharmacy's record of prescription {rx_id} is not the "
                "prescription sent (digest differs); report this to the "
                "operator of the pharmacy endpoint"
            )
        return record

    def prescription(self, pharmacy_id: str, rx_id: str) -> PrescriptionRecord:
        path = f"/v1/pharmacies/{_segment(pharmacy_id)}/prescriptions/{_segment(rx_id)}"
        return prescription_record(self._get(path, "prescription record"), False)

    # -- NCPDP SCRIPT: the network's directory and the pharmacies' mailboxes ---------------

    def pharmacy_directory(self) -> list[Pharmacy]:
        """The pharmacies a prescription may be sent to, as the network lists them."""
        b = self._get("/v1/pharmacy-directory", "pharmacy directory")
        return [directory_entry(p) for p in b.items("pharmacies", "pharmacy")]

    def send_newrx(self, ncpdp_id: str, rx_id: str, message: bytes) -> Delivered:
        """Put a signed NewRx in the pharmacy's mailbox (idempotent on the rx id)."""
        body, replayed = self._transport.call(
            "POST",
            f"/v1/script/{_segment(ncpdp_id)}/inbox",
            json={"message": base64.b64encode(message).decode("ascii")},
            headers={"Idempotency-Key": rx_id},
        )
        record = delivered(Body(body, "delivery"), replayed)
        if record.message_sha256 != hashlib.sha256(message).hexdigest():
            raise ProtocolError(
                f"the network's record of prescription {rx_id} is not the message sent "
                "(digest differs); report this to the network operator"
            )
        return record

    def newrx_inbox(self, ncpdp_id: str, after: int = 0) -> list[InboxMessage]:
        """This pharmacy's messages after *after*, oldest first."""
        b = self._get(f"/v1/script/{_segment(ncpdp_id)}/inbox", "mailbox", after=after)
        return [inbox_message(x) for x in b.items("messages", "mailbox message")]

    def answer_newrx(self, ncpdp_id: str, message_id: int, answer: bytes) -> None:
        """Send the pharmacy's SCRIPT Status or Error for one delivered message."""
        self._transport.call(
            "POST",
            f"/v1/script/{_segment(ncpdp_id)}/inbox/{message_id}/answer",
            json={"message": base64.b64encode(answer).decode("ascii")},
        )

    def history(self, cursor: str = "0", limit: int = 1000) -> HistoryPage:
        b = self._get("/v1/history", "history", cursor=cursor, limit=limit)
        rows = tuple(
            HistoryRow(
                r.get("order_id", str),
                r.required_day("order_date"),
                r.get("purchaser_dea", str),
                r.get("ndc", str),
                r.get("drug_code", int),
                r.get("dosage_units", int),
            )
            for r in b.items("rows", "history row")
        )
        return HistoryPage(rows, b.get("next_cursor", str), b.get("has_more", bool))

    def som_policy(self) -> dict[str, Any]:
        """The SOM policy document as published (read it with ``som.policy.Policy``)."""
        return self._transport.call("GET", "/v1/som/policy")[0]

    def catalogue(self) -> dict[str, Any]:
        """The catalogue document (read it with ``domain.catalogue.Catalogue``)."""
        return self._transport.call("GET", "/v1/catalogue")[0]


def _segment(value: str) -> str:
    """One URL path segment, percent-encoded (an id never changes the path)."""
    return quote(value, safe="")
