"""An ASGI wrapper that makes the real server misbehave on cue (for reliability tests)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Fault:
    """``kind``: status-NNN (before the app), lost-NNN (after it: the reply is lost),
    slow (``delay`` s, then the app), garbage (200 with broken JSON), html (200 text/html)."""

    kind: str
    path: str = "/v1/"
    delay: float = 0.0


class Faults:
    """Faults consumed one per matching request, in order."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()
        self.requests = 0

    def add(self, kind: str, times: int = 1, *, path: str = "/v1/", delay: float = 0.0) -> None:
        with self._lock:
            self._queue.extend(Fault(kind, path, delay) for _ in range(times))

    def take(self, path: str) -> Fault | None:
        with self._lock:
            self.requests += 1
            for i, fault in enumerate(self._queue):
                if path.startswith(fault.path):
                    return self._queue.pop(i)
        return None

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def faulty(scope: Scope, receive: Receive, send: Send) -> None:
            fault = self.take(scope["path"]) if scope["type"] == "http" else None
            if fault is None:
                await app(scope, receive, send)
            elif fault.kind.startswith("status-"):
                await _reply(
                    send,
                    int(fault.kind[7:]),
                    "application/problem+json",
                    b'{"status": 503, "title": "injected"}',
                )
            elif fault.kind.startswith("lost-"):

                async def swallow(_message: Message) -> None:
                    return None

                await app(scope, receive, swallow)
                await _reply(send, int(fault.kind[5:]), "text/plain", b"injected")
            elif fault.kind == "slow":
                await asyncio.sleep(fault.delay)
                await app(scope, receive, send)
            elif fault.kind == "garbage":
                await _reply(send, 200, "application/json", b'{"order_id": "x", ')
            elif fault.kind == "html":
                await _reply(send, 200, "text/html", b"<html>Sign in to the Wi-Fi</html>")
            else:
                raise AssertionError(f"unknown fault {fault.kind}")

        return faulty


async def _reply(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
