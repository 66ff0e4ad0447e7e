"""A signed X12 850 checked as a supplier must: the same rules as a signed JSON order.

The 850 is read into the one ``Order`` value and judged by ``supplier_check.verify_order``
given this module's reader: the same digest, signature, certificate, chain, revocation,
DEA number, schedule and date checks, with the same reason codes. An 850 that cannot be
read is ``malformed-document``, its message led by the X12 reason (``x12-separators``...).
"""

from __future__ import annotations

from typing import Any

from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.domain.x12.syntax import X12Error
from csos_desktop.pki.cms_attached import detach
from csos_desktop.pki.cms_parse import MalformedSignature
from csos_desktop.pki.signed_check import Collector, SignerCheck
from csos_desktop.pki.supplier_check import (
    OrderVerification,
    Reason,
    require_date_signed,
    verify_order,
)


def read_x12_order(document: bytes, out: Collector) -> Order | None:
    """The order an 850 states, or None with the X12 reason as a malformed-document finding."""
    try:
        order = read_850(document)
    except X12Error as exc:
        out.add(Reason.MALFORMED_DOCUMENT, f"{exc.reason.value}: {exc}")
        return None
    return require_date_signed(order, out)


def verify_x12_order(document: bytes, signature: bytes, **trust: Any) -> OrderVerification:
    """``verify_order`` for an 850 interchange and its detached signature (same keywords)."""
    return verify_order(document, signature, reader=read_x12_order, **trust)


def split_signed_order(blob: bytes) -> tuple[bytes, bytes] | OrderVerification:
    """(850, detached signature) of an ``application/x-csos-signed-order`` file, or the
    malformed-signature verdict when it is not one."""
    try:
        return detach(blob)
    except MalformedSignature as exc:
        out = Collector()
        out.add(Reason.MALFORMED_SIGNATURE, str(exc))
        return OrderVerification.of(out, SignerCheck(None, None))
