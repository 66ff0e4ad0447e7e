"""The sandbox's pharmacy inbox: signed prescriptions checked as a pharmacy must, kept byte-exact.

A prescriber's system sends each signed ``csos-rx/1`` prescription to
``POST /v1/pharmacies/{pharmacy_id}/prescriptions``. The inbox runs the
pharmacy's check (:func:`csos_desktop.pki.rx_check.verify_prescription`:
signature, certificate chain with the CA's CRLs, the practitioner's DEA number
on the certificate, the 1306.05 content) and keeps every prescription it
receives, accepted or rejected, with its exact bytes, the verdict and the
reason codes, for two years (21 CFR 1311.305). A rejected prescription is not
an HTTP error: it is received (201) and its record says why it may not be
dispensed.

Pharmacy ids: ``sandbox-pharmacy`` always exists; any registered customer is
also a pharmacy under its numeric customer id. Any customer may send to any
pharmacy; a record is shown to the customer that sent it and to the pharmacy
that received it, and to nobody else.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from csos_desktop.pki.rx_check import PrescriptionVerification
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.db import customers, pharmacy_prescriptions
from csos_desktop.sandbox.distributor.models import PrescriptionStatusCode as RxS
from csos_desktop.sandbox.distributor.problems import ApiProblem, not_found

#: The pharmacy every sandbox has; what the sync worker sends to by default.
SANDBOX_PHARMACY = "sandbox-pharmacy"
#: How long the inbox keeps a prescription (21 CFR 1311.305: two years).
RETENTION_YEARS = 2


def check_pharmacy(conn: Connection, pharmacy_id: str) -> None:
    """``sandbox-pharmacy`` or a registered customer's id; anything else is a 404."""
    if pharmacy_id == SANDBOX_PHARMACY:
        return
    if (
        pharmacy_id.isdigit()
        and conn.execute(select(customers.c.id).where(customers.c.id == int(pharmacy_id))).first()
    ):
        return
    raise ApiProblem(
        404,
        "pharmacy-not-found",
        f"pharmacy {pharmacy_id} is not known to this sandbox: use "
        f"{SANDBOX_PHARMACY!r} or the id of a registered customer",
    )


def retain_until(received: datetime) -> date:
    day = received.date()
    try:
        return day.replace(year=day.year + RETENTION_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year + RETENTION_YEARS, day=28)


def row_values(
    *,
    key: str,
    pharmacy_id: str,
    sender: Customer,
    document: bytes,
    signature: bytes,
    verdict: PrescriptionVerification,
    now: datetime,
) -> dict[str, Any]:
    """The row to insert: exact bytes, digests and the verdict (no patient data duplicated)."""
    rx = verdict.prescription
    record = {
        "reasons": [{"code": f.reason.value, "message": f.message} for f in verdict.findings],
        "warnings": list(verdict.warnings),
        "signing_time": verdict.signing_time.isoformat() if verdict.signing_time else None,
        "revocation_checked": verdict.revocation_checked,
        "dea_number_checked_by": verdict.dea_binding.value if verdict.dea_binding else None,
    }
    return {
        "rx_id": key,
        "pharmacy_id": pharmacy_id,
        "sender_id": sender.id,
        "status": (RxS.ACCEPTED if verdict.accepted else RxS.REJECTED).value,
        "document": document,
        "signature": signature,
        "document_sha256": hashlib.sha256(document).hexdigest(),
        "signature_sha256": hashlib.sha256(signature).hexdigest(),
        "verification": json.dumps(record),
        "practitioner_dea": rx.practitioner.dea_number.value if rx else None,
        "received_at": now,
        "retain_until": retain_until(now),
    }


def insert_row(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(pharmacy_prescriptions).values(**values))


def get_row(conn: Connection, rx_id: str) -> Row[Any] | None:
    return conn.execute(
        select(pharmacy_prescriptions).where(pharmacy_prescriptions.c.rx_id == rx_id)
    ).first()


def check_replay(
    row: Row[Any], customer: Customer, pharmacy_id: str, document: bytes, signature: bytes
) -> None:
    """The same key is a replay only for the same sender, pharmacy and bytes."""
    if (row.sender_id, row.pharmacy_id, row.document_sha256, row.signature_sha256) != (
        customer.id,
        pharmacy_id,
        hashlib.sha256(document).hexdigest(),
        hashlib.sha256(signature).hexdigest(),
    ):
        raise ApiProblem(
            409,
            "idempotency-conflict",
            "this Idempotency-Key was already used for a different prescription "
            "or pharmacy; an rx id names one signed prescription",
        )


def visible(row: Row[Any], customer: Customer, pharmacy_id: str) -> bool:
    return bool(
        row.pharmacy_id == pharmacy_id
        and (row.sender_id == customer.id or row.pharmacy_id == str(customer.id))
    )


def _utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def record(row: Row[Any]) -> dict[str, Any]:
    v = json.loads(row.verification)
    return {
        "rx_id": row.rx_id,
        "pharmacy_id": row.pharmacy_id,
        "status": row.status,
        "received_at": _utc(row.received_at),
        "retain_until": row.retain_until,
        "document_sha256": row.document_sha256,
        "signature_sha256": row.signature_sha256,
        "practitioner_dea_number": row.practitioner_dea,
        "signing_time": v["signing_time"],
        "revocation_checked": v["revocation_checked"],
        "reasons": v["reasons"],
        "warnings": v["warnings"],
    }


def not_visible(pharmacy_id: str, rx_id: str) -> ApiProblem:
    return not_found(f"prescription {rx_id} at pharmacy {pharmacy_id}")
