"""Signed prescriptions in the inspector's bundle (21 CFR 1311.305): the records kept two
years, byte for byte, beside the orders.

Per prescription, under ``prescriptions/signed/``: ``<rx_id>.json`` (the exact bytes the
practitioner signed), ``<rx_id>.p7s`` (the detached CMS signature as made) and
``<rx_id>.record.json`` (when, by whom, with which certificate, and the hashes the store
keeps). ``csos archive verify`` checks each signature with the prescription rules of
``csos rx verify``, at the recorded signing time.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime

from csos_desktop.services.archive.container import MemberUnreadable, read_member
from csos_desktop.store.local_store import Store
from csos_desktop.store.prescriptions import SignedRx

FOLDER = "prescriptions/signed/"


def _record(s: SignedRx) -> bytes:
    doc = {
        "rx_id": s.rx_id,
        "signed_at": s.signed_at,
        "signed_by": s.signed_by,
        "signer_subject": s.signer_subject,
        "signer_dea": s.signer_dea,
        "certificate_sha256": s.certificate_sha256,
        "document_sha256": s.document_sha256,
        "signature_sha256": s.signature_sha256,
    }
    return json.dumps(doc, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def signed_prescription_files(store: Store, start: str, end: str) -> dict[str, bytes]:
    """Relative path → bytes of each prescription signed from *start* up to *end* (UTC
    timestamps as the store writes them, so they compare as text)."""
    files: dict[str, bytes] = {}
    for s in store.prescriptions.all_signed():
        if not start <= s.signed_at < end:
            continue
        files[f"{s.rx_id}.json"] = s.document
        files[f"{s.rx_id}.p7s"] = s.signature
        files[f"{s.rx_id}.record.json"] = _record(s)
    return files


def is_prescription_signature(name: str) -> bool:
    return name.startswith(FOLDER) and name.endswith(".p7s")


def recorded_signing_time(zf: zipfile.ZipFile, record_name: str) -> dict[str, datetime]:
    """The prescription's signature name -> when the store recorded its signing (the
    moment its chain is checked at, with the signer's own claim)."""
    try:
        record = json.loads(read_member(zf, record_name))
        at = datetime.strptime(record["signed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (MemberUnreadable, ValueError, RecursionError, KeyError, TypeError):
        return {}  # its hash check reports it if it was changed
    return {record_name[: -len(".record.json")] + ".p7s": at}
