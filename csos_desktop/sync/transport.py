"""The distributor's HTTPS transport: TLS always verified, retries with back-off.

Every call is idempotent (GETs, and POSTs keyed by ``Idempotency-Key``), so every call
is retried on network errors, timeouts, 5xx and garbled replies, with exponential
back-off and full jitter. TLS is always verified, against the system store or the CA
bundle given; there is no way to turn that off. The bearer token goes only into the
Authorization header, never into a message or a log.
"""

from __future__ import annotations

import base64
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from csos_desktop.domain.errors import InputError
from csos_desktop.sync.errors import (
    DistributorRefused,
    DistributorUnavailable,
    DistributorUntrusted,
    Problem,
    ProtocolError,
)
from csos_desktop.trust.tls import tls_context

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
class TransportOptions:
    """The CA bundle to trust (default: the system store), per-request timeout, retries."""

    ca_bundle: Path | None = None
    timeout: float = 15.0
    retry: RetryPolicy | None = None


class Transport:
    """JSON calls to one distributor with one customer's bearer token."""

    def __init__(self, base_url: str, token: str, options: TransportOptions) -> None:
        ca_bundle, timeout = options.ca_bundle, options.timeout
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise InputError(
                f"the distributor URL must be https://HOST[:PORT] (got "
                f"{base_url!r}); orders are never sent without TLS"
            )
        if not token:
            raise InputError("no bearer token is set for this distributor")
        context = tls_context(ca_bundle)
        self._host = parts.netloc
        self._retry = options.retry or RetryPolicy()
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
        return f"Transport({self._host!r})"

    @property
    def host(self) -> str:
        return self._host

    def close(self) -> None:
        self._http.close()

    def post_signed(
        self, path: str, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        payload = {
            "document": base64.b64encode(document).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
        return self.call("POST", path, json=payload, headers={"Idempotency-Key": key})

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[dict[str, Any], bool]:
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
