"""The distributor API client (httpx): typed calls, typed errors, retries with back-off.

Every call is idempotent (GETs, and POSTs keyed by ``Idempotency-Key``), so
every call is retried on network errors, timeouts, 5xx and garbled replies,
with exponential back-off and full jitter. TLS is always verified, against the
system store or the CA bundle given; there is no way to turn that off.
The bearer token goes only into the Authorization header, never into a
message or a log. Blocking by design: the outbox worker runs it off the UI thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from csos_desktop.errors import InputError
from csos_desktop.sync.errors import (
    DistributorRefused,
    DistributorUnavailable,
    DistributorUntrusted,
    Problem,
    ProtocolError,
)

log = logging.getLogger(__name__)
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th wait is uniform in [0, min(max, base·2ⁿ⁻¹)]."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        cap = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        # Full jitter spreads clients that all lost the network at the same moment.
        wait = cap * self.rand()
        return float(min(self.max_delay, max(wait, retry_after or 0.0)))


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class LineRecord:
    line_no: int
    ndc: str
    item_name: str
    quantity_ordered: int
    quantity_shipped: int
    quantity_voided: int
    shipments: tuple[tuple[int, date], ...]  # (containers, ship date), 1305.22(d)
    #: The purchaser's cancellations within ``quantity_voided`` (0 from older servers).
    quantity_cancelled: int = 0

    @property
    def voided_by_supplier(self) -> int:
        return max(0, self.quantity_voided - self.quantity_cancelled)


@dataclass(frozen=True)
class SignedStatement:
    """A statement the distributor signed (``csos-statement/1``), as received."""

    kind: str
    document: bytes
    signature: bytes


@dataclass(frozen=True)
class OrderRecord:
    """The distributor's record of one order."""

    order_id: str
    order_number: str | None
    status: str
    received_at: datetime
    date_signed: date | None
    balance_due_by: date | None
    document_sha256: str
    signature_sha256: str
    reasons: tuple[Reason, ...]
    statement: str | None
    warnings: tuple[str, ...]
    som: Mapping[str, Any] | None
    lines: tuple[LineRecord, ...]
    receipts: tuple[str, ...]
    replayed: bool = False
    signed_statements: tuple[SignedStatement, ...] = ()


@dataclass(frozen=True)
class Change:
    cursor: str
    order_id: str
    event: str
    status: str
    at: datetime


@dataclass(frozen=True)
class ChangesPage:
    changes: tuple[Change, ...]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True)
class ReceiptRecord:
    receipt_id: str
    order_id: str
    accepted_at: datetime
    document_sha256: str
    lines: tuple[Mapping[str, Any], ...]
    replayed: bool = False


@dataclass(frozen=True)
class CancellationRecord:
    """A cancellation the distributor accepted (1305.28) and the order's status after it."""

    cancellation_id: str
    order_id: str
    accepted_at: datetime
    document_sha256: str
    order_status: str
    replayed: bool = False


@dataclass(frozen=True)
class PrescriptionRecord:
    """The pharmacy's record of one transmitted prescription (``status``: accepted|rejected)."""

    rx_id: str
    pharmacy_id: str
    status: str
    received_at: datetime
    retain_until: date
    document_sha256: str
    signature_sha256: str
    practitioner_dea_number: str | None
    reasons: tuple[Reason, ...]
    warnings: tuple[str, ...]
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


@dataclass(frozen=True)
class HistoryRow:
    """One order line for the SOM cache (the columns of the history CSV)."""

    order_id: str
    order_date: date
    purchaser_dea: str
    ndc: str
    drug_code: int
    dosage_units: int


@dataclass(frozen=True)
class HistoryPage:
    rows: tuple[HistoryRow, ...]
    next_cursor: str
    has_more: bool


@dataclass
class _Body:
    """Typed access to a JSON object; anything missing or mistyped is a ProtocolError."""

    data: Mapping[str, Any]
    what: str
    _seen: set[str] = field(default_factory=set)

    def get(self, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProtocolError(
                f"the distributor's {self.what} has no valid `{key}`; the "
                "server does not speak this API version"
            )
        return value

    def when(self, key: str) -> datetime:
        value = _parse(self, key, datetime.fromisoformat, optional=False)
        assert isinstance(value, datetime)
        return value

    def day(self, key: str, *, optional: bool = False) -> date | None:
        value = _parse(self, key, date.fromisoformat, optional)
        assert value is None or isinstance(value, date)
        return value

    def required_day(self, key: str) -> date:
        value = self.day(key)
        assert value is not None
        return value

    def items(self, key: str, what: str) -> list[_Body]:
        return [
            _Body(x, what) if isinstance(x, Mapping) else _Body({}, what)
            for x in self.get(key, list)
        ]


def _parse(body: _Body, key: str, fn: Callable[[str], object], optional: bool) -> object:
    text = body.get(key, str, optional=optional)
    if text is None:
        return None
    try:
        return fn(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProtocolError(f"the distributor's {body.what} has a malformed `{key}`") from exc


def _order(b: _Body, replayed: bool) -> OrderRecord:
    return OrderRecord(
        order_id=b.get("order_id", str),
        order_number=b.get("order_number", str, optional=True),
        status=b.get("status", str),
        received_at=b.when("received_at"),
        date_signed=b.day("date_signed", optional=True),
        balance_due_by=b.day("balance_due_by", optional=True),
        document_sha256=b.get("document_sha256", str),
        signature_sha256=b.get("signature_sha256", str),
        reasons=tuple(
            Reason(r.get("code", str), r.get("message", str)) for r in b.items("reasons", "reason")
        ),
        statement=b.get("statement", str, optional=True),
        warnings=tuple(str(w) for w in b.get("warnings", list)),
        som=b.get("som", dict, optional=True),
        lines=tuple(
            LineRecord(
                x.get("line_no", int),
                x.get("ndc", str),
                x.get("item_name", str),
                x.get("quantity_ordered", int),
                x.get("quantity_shipped", int),
                x.get("quantity_voided", int),
                tuple(
                    (s.get("containers", int), s.required_day("ship_date"))
                    for s in x.items("shipments", "shipment")
                ),
                x.get("quantity_cancelled", int, optional=True) or 0,
            )
            for x in b.items("lines", "order line")
        ),
        receipts=tuple(str(r) for r in b.get("receipts", list)),
        replayed=replayed,
        signed_statements=tuple(
            SignedStatement(s.get("kind", str), _b64(s, "document"), _b64(s, "signature"))
            for s in (
                b.items("signed_statements", "signed statement")
                if b.data.get("signed_statements")
                else []
            )
        ),
    )


def _b64(body: _Body, key: str) -> bytes:
    try:
        return base64.b64decode(body.get(key, str), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ProtocolError(f"the distributor's {body.what} has a malformed `{key}`") from exc


def _prescription(b: _Body, replayed: bool) -> PrescriptionRecord:
    return PrescriptionRecord(
        rx_id=b.get("rx_id", str),
        pharmacy_id=b.get("pharmacy_id", str),
        status=b.get("status", str),
        received_at=b.when("received_at"),
        retain_until=b.required_day("retain_until"),
        document_sha256=b.get("document_sha256", str),
        signature_sha256=b.get("signature_sha256", str),
        practitioner_dea_number=b.get("practitioner_dea_number", str, optional=True),
        reasons=tuple(
            Reason(r.get("code", str), r.get("message", str)) for r in b.items("reasons", "reason")
        ),
        warnings=tuple(str(w) for w in b.get("warnings", list)),
        replayed=replayed,
    )


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
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise InputError(
                f"the distributor URL must be https://HOST[:PORT] (got "
                f"{base_url!r}); orders are never sent without TLS"
            )
        if not token:
            raise InputError("no bearer token is set for this distributor")
        try:
            context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"cannot read the CA bundle {ca_bundle}: {exc}") from exc
        self._host = parts.netloc
        self._retry = retry or RetryPolicy()
        # TCP_NODELAY: a request may go out as several TLS records; Nagle's algorithm
        # would hold the last one until the peer's delayed ACK (tens of ms per call).
        transport = httpx.HTTPTransport(
            verify=context, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def __repr__(self) -> str:  # never the token
        return f"DistributorClient({self._host!r})"

    def __enter__(self) -> DistributorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- calls ------------------------------------------------------------------------

    def health(self) -> datetime:
        """The distributor's clock (for the five-minute rule of 1311.55)."""
        return _Body(self._call("GET", "/v1/health")[0], "health reply").when("time")

    def submit_order(self, order_id: str, document: bytes, signature: bytes) -> OrderRecord:
        """Send a signed order (idempotent on its id); checks the server kept our bytes."""
        body, replayed = self._post_signed("/v1/orders", order_id, document, signature)
        record = _order(_Body(body, "order record"), replayed)
        if record.document_sha256 != hashlib.sha256(document).hexdigest():
            raise ProtocolError(
                f"the distributor's record of order {order_id} is not the "
                "document sent (digest differs); report this to the distributor"
            )
        return record

    def order(self, order_id: str) -> OrderRecord:
        return _order(_Body(self._call("GET", f"/v1/orders/{order_id}")[0], "order record"), False)

    def changes(self, cursor: str = "0", limit: int = 100) -> ChangesPage:
        b = _Body(
            self._call("GET", "/v1/changes", params={"cursor": cursor, "limit": limit})[0],
            "change feed",
        )
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
        body, replayed = self._post_signed("/v1/receipts", receipt_id, document, signature)
        b = _Body(body, "receipt record")
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
        body, replayed = self._post_signed(
            f"/v1/orders/{_segment(order_id)}/cancellations", cancellation_id, document, signature
        )
        b = _Body(body, "cancellation record")
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

    def submit_prescription(
        self, pharmacy_id: str, rx_id: str, document: bytes, signature: bytes
    ) -> PrescriptionRecord:
        """Transmit a signed prescription to a pharmacy (idempotent on the rx id).

        A record with ``status`` "rejected" is the pharmacy's final verdict, not an
        error; checks the pharmacy kept the exact bytes sent.
        """
        body, replayed = self._post_signed(
            f"/v1/pharmacies/{_segment(pharmacy_id)}/prescriptions", rx_id, document, signature
        )
        record = _prescription(_Body(body, "prescription record"), replayed)
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
        return _prescription(_Body(self._call("GET", path)[0], "prescription record"), False)

    def history(self, cursor: str = "0", limit: int = 1000) -> HistoryPage:
        b = _Body(
            self._call("GET", "/v1/history", params={"cursor": cursor, "limit": limit})[0],
            "history",
        )
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
        return self._call("GET", "/v1/som/policy")[0]

    def catalogue(self) -> dict[str, Any]:
        """The catalogue document (read it with ``domain.catalogue.Catalogue``)."""
        return self._call("GET", "/v1/catalogue")[0]

    # -- transport --------------------------------------------------------------------

    def _post_signed(
        self, path: str, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        payload = {
            "document": base64.b64encode(document).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
        return self._call("POST", path, json=payload, headers={"Idempotency-Key": key})

    def _call(self, method: str, path: str, **kwargs: Any) -> tuple[dict[str, Any], bool]:
        """One logical call with retries; returns (JSON object, replayed)."""
        attempts = self._retry.attempts
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.ConnectError as exc:
                if (why := _tls_failure(exc)) is not None:
                    raise DistributorUntrusted(
                        f"the distributor at {self._host} presented a TLS certificate that "
                        f"is not trusted ({why}); nothing was sent. If it uses "
                        "its own CA, configure that CA bundle.",
                        attempts=attempt,
                    ) from exc
                error: Exception = DistributorUnavailable(
                    f"cannot connect to the distributor at {self._host} ({exc}) after "
                    f"{attempt} attempt(s); queued work is kept and sent later. Check the "
                    "network and the distributor URL.",
                    attempts=attempt,
                )
            except httpx.TimeoutException:
                error = DistributorUnavailable(
                    f"the distributor at {self._host} did not answer {method} {path} in "
                    f"time ({attempt} attempt(s)); queued work is kept and retried later.",
                    attempts=attempt,
                )
            except httpx.TransportError as exc:
                error = DistributorUnavailable(
                    f"the connection to the distributor at {self._host} failed ({exc}; "
                    f"{attempt} attempt(s)); queued work is kept and retried later.",
                    attempts=attempt,
                )
            else:
                status = response.status_code
                if status in _RETRY_STATUS:
                    retry_after = _retry_after(response)
                    error = DistributorUnavailable(
                        f"the distributor at {self._host} answered {status} "
                        f"{_phrase(status)} to {method} {path} ({attempt} attempt(s)); it may "
                        "be down or busy. Queued work is kept and retried later.",
                        attempts=attempt,
                    )
                elif status >= 400:
                    raise self._refused(response)
                else:
                    try:
                        return self._json(response), response.headers.get(
                            "Idempotent-Replayed"
                        ) == "true"
                    except ProtocolError as exc:
                        error = exc
            if attempt == attempts:
                raise error
            wait = self._retry.delay(attempt, retry_after)
            log.info(
                "%s %s failed (%s); retry %d of %d in %.2f s",
                method,
                path,
                error,
                attempt,
                attempts - 1,
                wait,
            )
            self._retry.sleep(wait)
        raise AssertionError("unreachable")

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        where = f"{response.request.method} {response.request.url.path}"
        if kind != "application/json":
            raise ProtocolError(
                f"the distributor at {self._host} answered {where} with "
                f"{kind or 'no content type'} instead of JSON; check the distributor URL "
                "(a proxy or a sign-in page may be in between)"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise ProtocolError(
                f"the distributor at {self._host} sent malformed JSON for "
                f"{where}; report this to the distributor"
            ) from exc
        if not isinstance(body, dict):
            raise ProtocolError(
                f"the distributor at {self._host} sent a JSON "
                f"{type(body).__name__} for {where}, not an object"
            )
        return body

    def _refused(self, response: httpx.Response) -> DistributorRefused:
        status = response.status_code
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        body: Any = None
        if kind in ("application/problem+json", "application/json"):
            try:
                body = response.json()
            except ValueError:
                body = None
        if isinstance(body, dict):
            problem = Problem.from_json(status, body)
        else:
            problem = Problem(
                status,
                f"http-{status}",
                _phrase(status),
                f"{status} {_phrase(status)} without a problem document",
            )
        advice = {
            401: " Re-enter this distributor's bearer token.",
            404: " Check the distributor URL." if problem.code == "http-404" else "",
            409: "",
        }.get(status, "")
        return DistributorRefused(
            f"the distributor refused {response.request.method} "
            f"{response.request.url.path}: {problem.detail or problem.title}.{advice}",
            problem,
        )


def _segment(value: str) -> str:
    """One URL path segment, percent-encoded (an id never changes the path)."""
    return quote(value, safe="")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown Status"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _tls_failure(exc: BaseException) -> str | None:
    """Why certificate verification failed, or None when the error is something else."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason)
        seen = seen.__cause__ or seen.__context__
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else None
