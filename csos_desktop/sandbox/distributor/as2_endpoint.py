"""The reference distributor's AS2 endpoint, beside its REST API.

A partner (a pharmacy, by its AS2 identifier and AS2 certificate) posts a signed order
(``application/x-csos-signed-order``: the 850 inside the pharmacist's CMS signature). The
message must be signed by the partner's AS2 certificate; the order goes through the same
intake as ``POST /v1/orders`` (the order ID is the key, so a message sent again is a
replay, never a second order) and the answer is a signed MDN carrying the MIC. An order
the distributor rejects is still "processed": its 855 says why. A partner with an AS2 URL
gets the 997, 855 and 856 back as AS2 messages too (``as2_push``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.domain.x12.syntax import X12Error
from csos_desktop.pki.as2_message import (
    As2Error,
    As2Party,
    build_mdn,
    chosen_micalg,
    open_message,
)
from csos_desktop.pki.cms_attached import detach
from csos_desktop.pki.cms_parse import MalformedSignature
from csos_desktop.sandbox.distributor.as2_push import Pusher
from csos_desktop.sandbox.distributor.customers import Customer

if TYPE_CHECKING:
    from csos_desktop.sandbox.distributor.service import Distributor


@dataclass(frozen=True)
class As2Partner:
    customer: Customer
    certificate: x509.Certificate
    #: The partner's AS2 identifier (the key it is found by in ``As2Endpoint.partners``).
    as2_id: str = ""
    #: The pharmacy's AS2 endpoint for 997, 855 and 856; None: they go by the REST feed.
    url: str | None = None
    #: CA certificates for an https *url* (None: the system's).
    ca_bundle: Path | None = None


@dataclass
class As2Endpoint:
    ours: As2Party
    as2_id: str
    partners: dict[str, As2Partner] = field(default_factory=dict)
    pusher: Pusher = field(default_factory=Pusher)

    def handle(
        self, distributor: Distributor, headers: Mapping[str, str], body: bytes
    ) -> tuple[str, bytes]:
        """The signed MDN (content type, body) answering one AS2 message."""
        h = {k.lower(): v for k, v in headers.items()}
        message_id = h.get("message-id", "")
        now = datetime.now(UTC)
        partner = self.partners.get(h.get("as2-from", ""))
        if partner is None or h.get("as2-to") != self.as2_id:
            return build_mdn(message_id, "", self.ours, now, error="as2-unknown-partner")
        try:
            opened = open_message(
                h.get("content-type", ""),
                body,
                self.ours,
                partner.certificate,
                micalg=chosen_micalg(h.get("disposition-notification-options", "")),
            )
        except As2Error as exc:
            return build_mdn(message_id, "", self.ours, now, error=exc.problem.value)
        try:
            interchange, signature = detach(opened.payload)
            order_id = read_850(interchange).order_id
        except (MalformedSignature, X12Error) as exc:
            code = exc.reason.value if isinstance(exc, X12Error) else "malformed-signature"
            return build_mdn(message_id, opened.mic, self.ours, now, error=code)
        distributor.submit_order(partner.customer, order_id, interchange, signature)
        self.pusher.after_order(self, distributor, partner, order_id, interchange)
        return build_mdn(message_id, opened.mic, self.ours, now)
