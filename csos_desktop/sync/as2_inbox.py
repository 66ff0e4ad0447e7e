"""The pharmacy's AS2 endpoint (`csos as2 serve`): 855, 856 and 997 in, an MDN out.

A message must come from the distributor (AS2-From and AS2-To as configured) and be
signed by its AS2 certificate; its payload then goes through the same intake as
`csos x12 receive` (kept byte for byte, linked to the order it names, logged). A message
that cannot be opened is kept too, with the reason, and answered with an MDN saying
``processed/error`` so the distributor knows it did not arrive.

The receipt is the one the sender asked for (RFC 4130 7.3): none without
``Disposition-Notification-To``; signed when ``signed-receipt-protocol`` asks it, with the
MIC by the first ``signed-receipt-micalg`` we support; and asynchronous, POSTed to the
``Receipt-Delivery-Option`` address after the HTTP answer, when the message was the
partner's (a message that fails its checks is answered on the spot: an address from an
unauthenticated sender is never called).
"""

from __future__ import annotations

import http.server
import logging
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.pki.as2_message import (
    As2Error,
    As2Party,
    build_mdn,
    chosen_micalg,
    open_message,
    wants_signed_mdn,
)
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.sync.as2 import post_as2
from csos_desktop.sync.x12_intake import ReceivedX12, receive_x12

log = logging.getLogger(__name__)

#: An AS2 message larger than this is refused before it is read (855/856/997 are small).
MAX_BODY = 10 * 1024 * 1024


@dataclass(frozen=True)
class Inbound:
    """What one message came to: the MDN to answer with (empty: none was asked), where to
    POST it instead of answering with it (asynchronous), and what was kept."""

    mdn_type: str
    mdn: bytes
    received: ReceivedX12 | None
    problem: str | None
    async_url: str | None = None


@dataclass(frozen=True)
class As2Inbox:
    """Our AS2 identity and the one partner (the distributor) we take messages from."""

    ours: As2Party
    as2_id: str
    partner: x509.Certificate
    partner_id: str
    clock: Clock = utc_now
    #: CA certificates for an https asynchronous-receipt address (None: the system's).
    ca_bundle: Path | None = None

    def handle(self, store: Store, headers: Mapping[str, str], body: bytes) -> Inbound:
        h = {k.lower(): v.strip() for k, v in headers.items()}
        message_id = h.get("message-id", "")
        options = h.get("disposition-notification-options", "")
        now = self.clock()
        if h.get("as2-from") != self.partner_id or h.get("as2-to") != self.as2_id:
            problem = (
                f"as2-unknown-partner: from {h.get('as2-from')!r} to {h.get('as2-to')!r}, "
                f"expected from {self.partner_id!r} to {self.as2_id!r}"
            )
            return self._refused(store, message_id, body, problem)
        try:
            opened = open_message(
                h.get("content-type", ""),
                body,
                self.ours,
                self.partner,
                micalg=chosen_micalg(options),
            )
        except As2Error as exc:
            return self._refused(store, message_id, body, f"{exc.problem.value}: {exc}")
        got = receive_x12(store, opened.payload, clock=self.clock)
        if "disposition-notification-to" not in h:
            return Inbound("", b"", got, got.problem)
        signed = wants_signed_mdn(options)
        mdn_type, mdn = build_mdn(message_id, opened.mic, self.ours, now, signed=signed)
        return Inbound(mdn_type, mdn, got, got.problem, h.get("receipt-delivery-option") or None)

    def send_receipt(self, got: Inbound, *, timeout: float = 30) -> str:
        """POST an asynchronous MDN to the address the partner gave; what happened, in words
        (a partner that does not take it can ask again by resending: the intake keeps one)."""
        url = got.async_url or ""
        if not url.lower().startswith(("https://", "http://")):
            return f"asynchronous receipt not sent: {url!r} is not an http(s) address"
        try:
            status, _, _ = post_as2(
                url,
                got.mdn,
                content_type=got.mdn_type,
                as2_from=self.as2_id,
                as2_to=self.partner_id,
                message_id=f"<mdn-{uuid.uuid4().hex}@csos-desktop>",
                ca_bundle=self.ca_bundle,
                timeout=timeout,
            )
        except (OSError, ValueError) as exc:
            return f"asynchronous receipt to {url} failed: {exc}"
        return f"asynchronous receipt delivered to {url} (HTTP {status})"

    def _refused(self, store: Store, message_id: str, body: bytes, problem: str) -> Inbound:
        """Keep what came (nothing is lost) and answer with an error MDN."""
        now = self.clock()
        code = problem.split(":", 1)[0]
        with store.transaction():
            kept = store.x12.received(None, "AS2", body, problem, now)
            store.audit.append(
                AuditEvent.X12_RECEIVED,
                at=now,
                order_id=None,
                details={
                    "transaction_set": "AS2",
                    "control_number": kept.control_number,
                    "problem": problem,
                },
            )
        mdn_type, mdn = build_mdn(message_id, "", self.ours, now, error=code)
        return Inbound(mdn_type, mdn, None, problem)


def serve(
    inbox: As2Inbox,
    open_store: Callable[[], AbstractContextManager[Store]],
    host: str,
    port: int,
    *,
    tls: tuple[Path, Path] | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> http.server.ThreadingHTTPServer:
    """An HTTP(S) server answering AS2 POSTs (call ``serve_forever``); *tls*: certificate
    and key files for HTTPS. Each message is handled with its own store connection."""

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "csos-as2"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self.send_error(413 if length > MAX_BODY else 411)
                return
            body = self.rfile.read(length)
            with open_store() as store:
                got = inbox.handle(store, dict(self.headers.items()), body)
            what = got.received.transaction_set if got.received else "AS2"
            order = (
                f" for order {got.received.order_id}"
                if got.received and got.received.order_id
                else ""
            )
            report(
                f"{what} received{order}"
                + (f": kept, not linked: {got.problem}" if got.problem else "")
            )
            answer = b"" if got.async_url else got.mdn
            self.send_response(200)
            if answer:
                self.send_header("Content-Type", got.mdn_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            self.wfile.flush()
            if got.async_url and got.mdn:
                report(inbox.send_receipt(got))

        def log_message(self, format: str, *args: object) -> None:
            log.info("as2 %s", format % args)

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def serve_in_thread(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="csos-as2", daemon=True)
    thread.start()
    return thread
