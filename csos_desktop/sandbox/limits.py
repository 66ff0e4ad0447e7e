"""Bounds on what a sandbox server reads from a client: body size, and how long it waits.

Both servers (distributor, CA) are reachable before anyone authenticates, so the
limits apply before any route, parser or credential check runs:

- :class:`BodyLimit` (ASGI) reads the whole body itself, refusing it with 413 as soon
  as ``Content-Length`` or the bytes received pass ``max_body`` (nothing is buffered
  beyond that), and with 408 when the whole body has not arrived within
  ``body_timeout`` of the headers: a deadline for the body, not for each piece, so a
  byte every few seconds cannot hold a connection for days. The app then gets the
  body from memory.
- :func:`h11_protocol` gives uvicorn an HTTP protocol class that closes a connection
  whose request line and headers are not complete within ``header_timeout``
  (uvicorn has no such setting; a client trickling header bytes would otherwise hold
  a connection open for ever), and answers 503 and closes any connection beyond
  ``max_connections`` open at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class RequestLimits:
    """What one server accepts from a client; the defaults suit the sandbox's APIs."""

    #: Largest request body in bytes (an order with its CMS is a few KiB).
    max_body: int = 1024 * 1024
    #: Seconds from the end of the headers to the end of the request body.
    body_timeout: float = 15.0
    #: Seconds from connection (or the end of the previous response) to complete headers.
    header_timeout: float = 15.0
    #: Largest request line plus headers, in bytes (h11's incomplete-event limit).
    max_header: int = 16 * 1024
    #: Connections served at once; one more is answered 503 and closed.
    max_connections: int = 64


DEFAULT_LIMITS = RequestLimits()

#: Builds the refusal in the app's own format: (status, code, sentence) -> ASGI app.
Refusal = Callable[[int, str, str], Callable[[Scope, Receive, Send], Awaitable[None]]]


class BodyLimit:
    """ASGI middleware: read and bound the request body before the app sees the request."""

    def __init__(self, app: ASGIApp, limits: RequestLimits, refuse: Refusal) -> None:
        self._app, self._limits, self._refuse = app, limits, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._limits.max_body
        declared = _content_length(scope)
        if declared == -1:
            await self._refuse(400, "bad-request", "the Content-Length header is not a number")(
                scope, receive, send
            )
            return
        if declared is not None and declared > limit:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._limits.body_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                await self._refuse(
                    408,
                    "request-timeout",
                    f"the request body did not arrive within {self._limits.body_timeout:g} "
                    "seconds; check the network and send it again",
                )(scope, receive, send)
                return
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self._app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._refuse(
            413,
            "too-large",
            f"the request body is larger than this server accepts ({self._limits.max_body} bytes)",
        )(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; -1 when the header is there but not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else -1
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as Starlette expects

    return replay


_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: 44\r\n\r\ntoo many connections; try again in a moment\n"
)


def h11_protocol(limits: RequestLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    class HeaderDeadlineH11(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_timer: asyncio.TimerHandle | None = None
            self._armed_for: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                transport.write(_BUSY)
                transport.close()
                return
            self._arm()

        def on_response_complete(self) -> None:
            self._arm()  # the next request's headers are due from now
            super().on_response_complete()

        def handle_events(self) -> None:
            super().handle_events()
            if self._header_timer is not None and self.cycle is not self._armed_for:
                self._disarm()  # a new request's headers are complete

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._armed_for = self.cycle
            self._header_timer = self.loop.call_later(limits.header_timeout, self._expired)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expired(self) -> None:
            self._header_timer = None
            if self.cycle is self._armed_for and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineH11
