"""The demo's AS2 leg: one of its orders, signed as an X12 850 too, goes over AS2; its 855
and 856 come back over AS2 to the pharmacy's own endpoint (what `csos as2 serve` runs).

Both AS2 parties get a fresh RSA key and self-signed certificate in the demo home
(``as2/``), as trading partners exchange them; the pharmacy's endpoint serves on
127.0.0.1 for the length of the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

from csos_desktop.domain.x12.replies import OrderAck, ShipNotice, read_reply
from csos_desktop.pki.cms_attached import detach, is_attached
from csos_desktop.sandbox.as2_parties import self_signed_party, write_party
from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint, As2Partner
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.service import Distributor
from csos_desktop.services.sync.as2_settings import As2Settings
from csos_desktop.store import Store, open_store
from csos_desktop.sync.as2_inbox import As2Inbox, serve, serve_in_thread

PHARMACY_AS2, DISTRIBUTOR_AS2 = "MAINSTREETRX", "SANDBOXDIST"


@dataclass
class DemoAs2:
    """The pharmacy's AS2 endpoint serving, the distributor answering to it, and the
    settings `sync_worker` sends with."""

    settings: As2Settings
    endpoint: str
    server: ThreadingHTTPServer

    def sent(self, store: Store, order_id: str, url: str, say: Callable[[str], None]) -> None:
        """Say how the order went and what came back (the 855 follows the MDN)."""
        number = store.orders.get(order_id).order_number
        mdn = _kept(store, order_id, "AS2-MDN")
        say(
            f"      AS2: order {number} went as a signed X12 850 (signed in the same login) to "
            f"{url}/as2 in a signed, encrypted AS2 message: "
            + ("signed MDN verified, MIC matched." if mdn else "no MDN kept (unexpected!).")
        )
        self._show(store, order_id, "855", say)

    def shipped(self, store: Store, order_id: str, say: Callable[[str], None]) -> None:
        self._show(store, order_id, "856", say)

    def _show(self, store: Store, order_id: str, kind: str, say: Callable[[str], None]) -> None:
        say(f"      Back over AS2 to {self.endpoint}: {_words(_wait(store, order_id, kind))}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_as2(
    home: Path, distributor: Distributor, distributor_url: str, customer: Customer
) -> DemoAs2:
    """Keys and certificates for both parties in ``home/as2``, the pharmacy's endpoint on
    127.0.0.1, the distributor's AS2 endpoint answering to it."""
    now = datetime.now(UTC)
    ours = self_signed_party("Main Street Pharmacy AS2", now)
    theirs = self_signed_party("Sandbox distributor AS2", now)
    key, cert = write_party(home / "as2", "pharmacy", ours)
    _, partner_cert = write_party(home / "as2", "distributor", theirs)
    inbox = As2Inbox(ours, PHARMACY_AS2, theirs.certificate, DISTRIBUTOR_AS2)
    server = serve(inbox, open_store, "127.0.0.1", 0)
    serve_in_thread(server)
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/as2"
    partner = As2Partner(customer, ours.certificate, PHARMACY_AS2, endpoint)
    distributor.as2 = As2Endpoint(theirs, DISTRIBUTOR_AS2, {PHARMACY_AS2: partner})
    settings = As2Settings(
        f"{distributor_url}/as2", PHARMACY_AS2, DISTRIBUTOR_AS2, partner_cert, key, cert
    )
    return DemoAs2(settings, endpoint, server)


def _kept(store: Store, order_id: str, kind: str) -> bytes | None:
    for k in store.x12.for_order(order_id):
        if k.transaction_set == kind and k.direction == "received" and not k.problem:
            return k.document
    return None


def _wait(store: Store, order_id: str, kind: str, seconds: float = 15) -> bytes | None:
    end = time.monotonic() + seconds
    while (found := _kept(store, order_id, kind)) is None and time.monotonic() < end:
        time.sleep(0.1)
    return found


def _words(data: bytes | None) -> str:
    if data is None:
        return "nothing arrived (unexpected!)"
    content = detach(data)[0] if is_attached(data) else data
    _, doc = read_reply(content)
    if isinstance(doc, OrderAck):
        signed = "signed " if is_attached(data) else ""
        return f"{signed}855 {doc.status.name.lower()}, {len(doc.lines)} line(s), linked."
    if isinstance(doc, ShipNotice):
        shipped = ", ".join(
            f"line {ln.line_no}: {ln.quantity_shipped} package(s) on {ln.shipped_on}"
            for ln in doc.lines
        )
        return f"856 shipment {doc.shipment_id}: {shipped} (`csos receive --from-856`)."
    return "an unexpected document."
