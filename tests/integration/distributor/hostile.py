"""A hostile distributor: the signed statements it serves are changed on the way out."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: (document, signature) as signed -> (document, signature) as served.
Mutate = Callable[[bytes, bytes], tuple[bytes, bytes]]


def hostile_statements(mutate: Mutate) -> Callable[[ASGIApp], ASGIApp]:
    """Wrap the distributor's app so every order record carries statements changed by
    *mutate* (the real server underneath signs them as usual)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def changed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            parts: list[Message] = []

            async def keep(message: Message) -> None:
                parts.append(message)

            await app(scope, receive, keep)
            body = b"".join(m.get("body", b"") for m in parts if m["type"] == "http.response.body")
            try:
                data = json.loads(body)
                for st in data.get("signed_statements", []):
                    doc, sig = mutate(
                        base64.b64decode(st["document"]), base64.b64decode(st["signature"])
                    )
                    st["document"] = base64.b64encode(doc).decode()
                    st["signature"] = base64.b64encode(sig).decode()
                body = json.dumps(data).encode()
            except (ValueError, AttributeError, TypeError):
                pass  # not an order record: served as it is
            start = next(m for m in parts if m["type"] == "http.response.start")
            headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return changed

    return wrap
