"""The signed order as the distributor holds it: the JSON order, or the 850 sent over AS2.

An order that went over AS2 reached the distributor as its signed 850 (the interchange and
the pharmacist's signature over it), so the distributor's statements name the hashes of
those bytes and a receipt must name that signature. A kept signed MDN for the order is the
proof it went that way; otherwise it went as the JSON order.
"""

from __future__ import annotations

from csos_desktop.pki.cms_attached import detach
from csos_desktop.store.local_store import Store

#: The transaction set under which a verified AS2 receipt is kept with its order.
AS2_MDN = "AS2-MDN"


def sent_order(store: Store, order_id: str) -> tuple[bytes, bytes]:
    """(document, detached signature) of the order as the distributor received it."""
    signed_850 = store.x12.signed_850(order_id)
    if signed_850 is not None and signed_850.signed is not None and _went_over_as2(store, order_id):
        return detach(signed_850.signed)
    blob = store.signed.get(order_id)
    return blob.document, blob.signature


def _went_over_as2(store: Store, order_id: str) -> bool:
    return any(
        k.transaction_set == AS2_MDN and k.direction == "received" and not k.problem
        for k in store.x12.for_order(order_id)
    )
