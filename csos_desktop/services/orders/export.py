"""An order's signed records for an inspector: the order, receipts, statements and notices.

Byte for byte as signed or received, with ``<id>.record.json`` linking them
(21 CFR 1305.27). ``csos order export`` and the archive bundle both use it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order
from csos_desktop.fileio import write_atomically
from csos_desktop.store import legal, lifecycle
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord
from csos_desktop.store.sent_order import sent_order
from csos_desktop.store.statements import Statement, Verification


class NotSigned(InputError):
    """The order has no signed document to receive against or export."""


def statement_files(order_id: str, st: Statement) -> tuple[str, str | None]:
    """(body, signature) file names of a statement in an export.

    A rejected statement is evidence of what the distributor sent, not its signed word:
    its files are named so that no verifier takes the pair for a signature to check.
    """
    stem = f"{order_id}.statement-{st.statement_id}"
    if st.signature is None:
        return f"{stem}{st.file_suffix}", None
    if st.verification is Verification.REJECTED:
        return f"{stem}.rejected.bin", f"{stem}.rejected.cms"
    return f"{stem}{st.file_suffix}", f"{stem}.p7s"


def order_record_files(store: Store, rec: OrderRecord) -> dict[str, bytes]:
    """An order's signed records, byte for byte, with ``<id>.record.json`` linking them.

    ``<id>.json`` + ``<id>.p7s`` for the order and each receipt, ``<id>.850.p7m`` (the
    signed 850) for an order sent over AS2, and each distributor statement as received.
    """
    blob = store.signed.find(rec.order_id)
    if blob is None:
        raise NotSigned(
            f"Order {rec.label} is {rec.state.value}: only signed orders have a "
            "signed record to export."
        )
    files: dict[str, bytes] = {
        f"{rec.order_id}.json": blob.document,
        f"{rec.order_id}.p7s": blob.signature,
    }
    sent_document, _ = sent_order(store, rec.order_id)
    signed_850 = store.x12.signed_850(rec.order_id)
    if sent_document != blob.document and signed_850 is not None and signed_850.signed:
        # Sent over AS2: the distributor holds the signed 850, which its statements name.
        files[f"{rec.order_id}.850.p7m"] = signed_850.signed
    receipts = store.receipts.for_order(rec.order_id)
    for r in receipts:
        files[f"{r.receipt.receipt_id}.json"] = r.document
        files[f"{r.receipt.receipt_id}.p7s"] = r.signature
    statements = store.statements.for_order(rec.order_id)
    for st in statements:
        body_name, signature_name = statement_files(rec.order_id, st)
        files[body_name] = st.body
        if st.signature is not None and signature_name is not None:
            files[signature_name] = st.signature  # the distributor's, over that statement
    notices = store.notices.for_order(rec.order_id)
    for n in notices:
        files[f"{n.notice_id}.json"] = n.document
        files[f"{n.notice_id}.p7s"] = n.signature
    record = {
        "order_id": rec.order_id,
        "order_number": rec.order_number,
        "state": rec.state.value,
        "signed_at": blob.signed_at,
        "signer_subject": blob.signer_subject,
        "signer_dea": blob.signer_dea,
        "signature_sha256": blob.signature_sha256,
        "reissue_of": rec.reissue_of,
        "receipts": [r.receipt.receipt_id for r in receipts],
        # The store's own time of each receipt's signature (archive verify checks its chain
        # at the later of this and the signature's claim).
        "receipt_signed_at": {r.receipt.receipt_id: r.signed_at for r in receipts if r.signed_at},
        "statements": [
            {
                "file": statement_files(rec.order_id, st)[0],
                "signature_file": statement_files(rec.order_id, st)[1],
                "kind": st.kind.value,
                "reason": st.reason,
                "received_at": st.received_at,
                "signed": st.signature is not None,
                "verification": st.verification.value,
                "rejection": st.rejection,
                "voided_lines": [
                    {"line_no": k, "quantity_voided": q}
                    for k, q in store.statements.void_lines(st.statement_id).items()
                ],
            }
            for st in statements
        ],
        # Cancellations (1305.28) and lost-order statements (1305.26), signed by the purchaser.
        "notices": legal.notice_summary(store, rec.order_id),
        "balances": [
            b.to_json()
            for b in legal.balances(
                store,
                Order.from_document(load_document(blob.document)),
                datetime.now(UTC).date(),
            )
        ],
    }
    files[f"{rec.order_id}.record.json"] = (json.dumps(record, indent=2) + "\n").encode()
    return files


def export_order(store: Store, ref: str, out_dir: Path, *, clock: Clock = utc_now) -> list[Path]:
    """Write an order's signed records (see ``order_record_files``) into *out_dir*."""
    rec = store.orders.resolve(ref)
    files = order_record_files(store, rec)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        write_atomically(out_dir / name, data)
        written.append(out_dir / name)
    lifecycle.record_event(
        store,
        AuditEvent.ORDER_EXPORTED,
        now=clock(),
        order_id=rec.order_id,
        details={"files": sorted(files), "directory": str(out_dir)},
    )
    return written
