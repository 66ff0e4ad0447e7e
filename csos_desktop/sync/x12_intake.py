"""855, 856 and 997 from a distributor: kept byte for byte, linked to the order they name.

Whatever arrives is kept, readable or not, with the reason it could not be read; a
readable 855 or 856 is linked to the order whose ID and number it carries, and its
reception is logged in the same transaction. A signed 855 (the interchange inside the
distributor's CMS signature) must verify and be signed by the certificate of the DEA
number that sent it; otherwise it is kept with the reason and not linked. An
interchange already kept for the order (the feed is polled again) is not kept twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.x12.replies import OrderAck, Reply, ShipNotice, read_reply
from csos_desktop.domain.x12.syntax import X12Error, read_interchange
from csos_desktop.pki.cms_attached import detach, is_attached
from csos_desktop.pki.signed_check import Collector, check_signed
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderNotFound
from csos_desktop.sync.statement_intake import StatementTrust
from csos_desktop.trust.revocation import RevocationData, RevocationSource

#: Kept with an 855/856 that names no order of this store.
UNKNOWN_ORDER = "x12-unknown-order"


@dataclass(frozen=True)
class ReceivedX12:
    control_number: int  # our row (the sender's control number is inside the bytes)
    transaction_set: str
    order_id: str | None
    problem: str | None
    document: Reply | None


def receive_x12(
    store: Store,
    data: bytes,
    *,
    clock: Clock = utc_now,
    roots: Sequence[asn1_x509.Certificate] | None = None,
    revocation: RevocationSource | None = None,
) -> ReceivedX12:
    """Keep *data* and link it to its order; never loses the bytes.

    *roots*: the trust anchors a signed 855 must chain to (None: its signature and
    signer's DEA number are checked, not who vouches for the certificate). With
    *revocation* too, its signer's revocation must be established, as for statements.
    """
    now = clock()
    problem: str | None = None
    doc: Reply | None = None
    kind = "?"
    order_id: str | None = None
    content = data
    try:
        if is_attached(data):
            content, signature = detach(data)
            problem = _signature_problem(content, signature, roots, revocation, now)
        _, doc = read_reply(content)
    except X12Error as exc:
        problem = problem or f"{exc.reason.value}: {exc}"
    if isinstance(doc, OrderAck | ShipNotice):
        kind = "855" if isinstance(doc, OrderAck) else "856"
        linked, not_linked = _linked(store, doc.order_id, doc.order_number)
        problem = problem or not_linked
        order_id = linked if problem is None else None
        if order_id is not None:
            seen = _already_kept(store, order_id, content)
            if seen is not None:
                return ReceivedX12(seen, kind, order_id, None, doc)
    elif doc is not None:
        kind = "997"
    with store.transaction():
        kept = store.x12.received(order_id, kind, data, problem, now)
        store.audit.append(
            AuditEvent.X12_RECEIVED,
            at=now,
            order_id=order_id,
            details={
                "transaction_set": kind,
                "control_number": kept.control_number,
                "problem": problem,
            },
        )
    return ReceivedX12(kept.control_number, kind, order_id, problem, doc)


def _linked(store: Store, order_id: str, order_number: str) -> tuple[str | None, str | None]:
    if not order_id:  # another supplier's software names the order by its number only
        found = store.orders.with_number(order_number) if order_number else []
        if len(found) == 1:
            return found[0].order_id, None
        if not found:
            return None, f"{UNKNOWN_ORDER}: no order numbered {order_number!r} in this store"
        return None, (
            f"{UNKNOWN_ORDER}: {len(found)} orders are numbered {order_number} "
            "(one per DEA number) and the document does not say which"
        )
    try:
        rec = store.orders.get(order_id)
    except OrderNotFound:
        return None, f"{UNKNOWN_ORDER}: no order {order_id} ({order_number}) in this store"
    if rec.order_number != order_number:
        return None, (
            f"{UNKNOWN_ORDER}: order {order_id} is number {rec.order_number}, not {order_number}"
        )
    return order_id, None


def _content(data: bytes) -> bytes:
    return detach(data)[0] if is_attached(data) else data


def _already_kept(store: Store, order_id: str, content: bytes) -> int | None:
    for kept in store.x12.for_order(order_id):
        if kept.direction == "received" and _content(kept.document) == content:
            return kept.control_number
    return None


def _signature_problem(
    content: bytes,
    signature: bytes,
    roots: Sequence[asn1_x509.Certificate] | None,
    revocation: RevocationSource | None,
    now: datetime,
) -> str | None:
    out = Collector()
    required = bool(roots) and revocation is not None
    data = (
        StatementTrust(roots or (), revocation).data_for(signature, now)
        if required and revocation is not None
        else RevocationData()
    )
    signer = check_signed(
        content,
        signature,
        trust_roots=roots or (),
        crls=data.crls,
        ocsps=data.ocsps,
        now=now,
        out=out,
        no_crl_warning="",
        require_revocation=required,
    )
    findings = [f for f in out.findings if roots is not None or f.reason.value != "untrusted-chain"]
    if findings:
        return "x12-signature: " + "; ".join(f"{f.reason.value}: {f.message}" for f in findings)
    sender = read_interchange(content).envelope.sender
    if signer.info is None or not signer.info.matches_dea(sender):
        return (
            f"x12-signature: the 855 is not signed by the certificate of DEA {sender}, its sender"
        )
    return None
