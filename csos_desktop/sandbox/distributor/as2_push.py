"""The reference distributor's answers over AS2: 997, 855 and 856 to a pharmacy's endpoint.

For a partner with an AS2 URL (a pharmacy running `csos as2 serve`): when its 850 is
taken in, the 997 of that interchange and the order's 855; after each fulfilment pass,
the 856s of what shipped. The documents are the ones the REST order record serves
(``x12_replies``); each goes once, in a signed (and encrypted) AS2 message whose signed
MDN must verify and carry our MIC. One that fails is tried again at the next push.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from csos_desktop.domain.x12.replies import acknowledge, build_reply
from csos_desktop.domain.x12.syntax import read_interchange
from csos_desktop.pki.as2_message import As2Error
from csos_desktop.pki.cms_attached import is_attached
from csos_desktop.sandbox.distributor.db import orders
from csos_desktop.sync.as2 import As2Connection, send_as2

if TYPE_CHECKING:
    from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint, As2Partner
    from csos_desktop.sandbox.distributor.service import Distributor

log = logging.getLogger(__name__)

EDI_MIME = "application/edi-x12"
SIGNED_MIME = "application/pkcs7-mime; smime-type=signed-data"


class Pusher:
    """What went to whom (by the SHA-256 of the document), so each goes once."""

    def __init__(self) -> None:
        self._sent: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def after_order(
        self, endpoint: As2Endpoint, distributor: Distributor, partner: As2Partner,
        order_id: str, interchange: bytes,
    ) -> None:  # fmt: skip
        """The 997 of the 850 just taken in, then the order's 855 (on a thread of its own,
        after the MDN has gone)."""
        if partner.url is None:
            return
        env = read_interchange(interchange).envelope
        ack = build_reply(
            acknowledge(env, "850", True),
            sender=env.receiver,
            receiver=env.sender,
            control_number=env.control_number,
            prepared_at=env.prepared_at,  # from the 850: a replay gives the same 997
        )
        documents = [ack, *self._replies(distributor, partner, order_id)]
        threading.Thread(
            target=self._send_all, args=(endpoint, partner, documents), daemon=True
        ).start()

    def after_fulfilment(self, endpoint: As2Endpoint, distributor: Distributor) -> None:
        """Every answer not yet sent to each partner with an URL (the 856s of a pass)."""
        for partner in endpoint.partners.values():
            if partner.url is None:
                continue
            with distributor.engine.connect() as conn:
                ids = conn.execute(
                    select(orders.c.order_id).where(orders.c.customer_id == partner.customer.id)
                ).scalars()
                order_ids = list(ids)
            documents = [d for oid in order_ids for d in self._replies(distributor, partner, oid)]
            self._send_all(endpoint, partner, documents)

    def _replies(self, distributor: Distributor, partner: As2Partner, order_id: str) -> list[bytes]:
        record = distributor.order_status(partner.customer, order_id)
        return [base64.b64decode(x) for x in record.get("x12", [])]

    def _send_all(
        self, endpoint: As2Endpoint, partner: As2Partner, documents: Iterable[bytes]
    ) -> None:
        for data in documents:
            key = (partner.as2_id, hashlib.sha256(data).hexdigest())
            with self._lock:
                if key in self._sent:
                    continue
            try:
                _send(endpoint, partner, data, message_id=f"<{key[1][:32]}@csos-sandbox>")
            except (As2Error, OSError) as exc:
                log.warning("AS2 to %s failed (sent again next time): %s", partner.as2_id, exc)
                continue
            with self._lock:
                self._sent.add(key)


def _send(endpoint: As2Endpoint, partner: As2Partner, data: bytes, *, message_id: str) -> None:
    """The pharmacy's client sender (sync.as2), with the distributor as the sending party."""
    assert partner.url is not None
    send_as2(
        As2Connection(
            url=partner.url,
            as2_from=endpoint.as2_id,
            as2_to=partner.as2_id,
            ours=endpoint.ours,
            partner=partner.certificate,
            ca_bundle=partner.ca_bundle,
        ),
        data,
        message_id=message_id,
        now=datetime.now(UTC),
        payload_type=SIGNED_MIME if is_attached(data) else EDI_MIME,
    )
