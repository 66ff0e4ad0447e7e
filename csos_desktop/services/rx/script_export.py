"""SCRIPT messages as files for an inspector: the archive bundle and `csos rx export`.

Per message, under ``sent/`` or ``received/``: ``<id>.xml`` (the exact bytes signed or
received), ``<id>.record.json`` (prescription id, pharmacy, time, source, the verdict on
receipt with its reasons), and where they exist ``<id>.answer.xml`` (the SCRIPT Status or
Error sent back) and ``<id>.pharmacy.p7s`` (the pharmacy's own signature, 1311.210(c)).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from csos_desktop.domain.timestamps import format_timestamp
from csos_desktop.store.local_store import Store
from csos_desktop.store.script_messages import ScriptMessage


def _record(m: ScriptMessage) -> bytes:
    doc = {
        "message_id": m.message_id,
        "direction": m.direction.value,
        "rx_id": m.rx_id,
        "pharmacy_ncpdp_id": m.ncpdp_id,
        "at": format_timestamp(m.at),
        "source": m.source,
        "message_sha256": m.message_sha256,
        "verdict": m.verdict,
        "verified_on_receipt": m.verdict == "verified" if m.verdict else None,
        "verification": m.verification,
        "pharmacy_signed_at": format_timestamp(m.pharmacy_signed_at)
        if m.pharmacy_signed_at
        else None,
    }
    return json.dumps(doc, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def script_files(
    store: Store, start: datetime | None = None, end: datetime | None = None
) -> dict[str, bytes]:
    """Relative path → bytes for each message kept from *start* up to *end*."""
    files: dict[str, bytes] = {}
    for m in store.script.all():
        if (start is not None and m.at < start) or (end is not None and m.at >= end):
            continue
        base = f"{m.direction.value}/{m.message_id}"
        files[f"{base}.xml"] = m.message
        files[f"{base}.record.json"] = _record(m)
        if m.answer is not None:
            files[f"{base}.answer.xml"] = m.answer
        if m.pharmacy_signature is not None:
            files[f"{base}.pharmacy.p7s"] = m.pharmacy_signature
    return files


def export_script_messages(
    store: Store, out_dir: Path, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Write the files under *out_dir*; returns how many messages were written."""
    files = script_files(store, start, end)
    for name, data in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sum(1 for name in files if name.endswith(".record.json"))
