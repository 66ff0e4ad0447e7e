"""The reference distributor's AS2 endpoint, beside its REST API.

A partner (a pharmacy, by its AS2 identifier and AS2 certificate) posts a signed order
(``application/x-csos-signed-order``: the 850 inside the pharmacist's CMS signature). The
message must be signed by the partner's AS2 certificate; the order goes through the same
intake as ``POST /v1/orders`` (the order ID is the key, so a message sent again is a
replay, never a second order) and the answer is a signed MDN carrying the MIC. An order
the distributor rejects is still "processed": its 855 says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509

from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.domain.x12.syntax import X12Error
from csos_desktop.pki.as2_message import As2Error, As2Party, build_mdn, open_message
from csos_desktop.pki.cms_attached import detach
from csos_desktop.pki.cms_parse import MalformedSignature
from csos_desktop.sandbox.distributor.customers import Customer

if TYPE_CHECKING:
    from csos_desktop.sandbox.distributor.service import Distributor


@dataclass(frozen=True)
class As2Partner:
    customer: Customer
    certificate: x509.Certificate


@dataclass
class As2Endpoint:
    ours: As2Party
    as2_id: str
    partners: dict[str, As2Partner] = field(default_factory=dict)

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
            opened = open_message(h.get("content-type", ""), body, self.ours, partner.certificate)
        except As2Error as exc:
            return build_mdn(message_id, "", self.ours, now, error=exc.problem.value)
        try:
            interchange, signature = detach(opened.payload)
            order_id = read_850(interchange).order_id
        except (MalformedSignature, X12Error) as exc:
            code = exc.reason.value if isinstance(exc, X12Error) else "malformed-signature"
            return build_mdn(message_id, opened.mic, self.ours, now, error=code)
        distributor.submit_order(partner.customer, order_id, interchange, signature)
        return build_mdn(message_id, opened.mic, self.ours, now)
