"""The two-year archive (21 CFR 1305.27, 1311.60): export for an inspector.

A bundle is a zip: every signed order, receipt and statement byte for byte
(``orders/<order_id>/``), every signed prescription (``prescriptions/signed/``), the
certificates found in the signatures, the audit log slice for the period, an
``index.csv`` a spreadsheet opens, a ``manifest.json`` with the SHA-256 and size of
every other file, and ``manifest.p7s``: the exporting pharmacist's signature over the
manifest, made on their token, so nobody else can re-hash a changed bundle. Export
streams one order at a time and spools the zip directory, so memory stays flat however
many orders there are. Verification is in :mod:`.verify`, purging in :mod:`.purge`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import mmap
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, cast

from asn1crypto import cms, pem

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.services.archive.container import StreamingZipWriter
from csos_desktop.services.archive.prescriptions import FOLDER, signed_prescription_files
from csos_desktop.services.orders.export import order_record_files
from csos_desktop.services.rx.script_export import script_files
from csos_desktop.services.signing.documents import DocumentSigner
from csos_desktop.store import Store, lifecycle
from csos_desktop.store.audit import AuditEvent

FORMAT = "csos-archive/2"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.p7s"
INDEX_COLUMNS = (
    "order_id",
    "order_number",
    "state",
    "purchaser_dea",
    "supplier_name",
    "supplier_dea",
    "date_signed",
    "signed_at",
    "signer",
    "lines",
    "receipts",
    "statements",
    "signature_sha256",
)


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    orders: int
    files: int
    manifest_sha256: str


def _day_bounds(since: date, until: date) -> tuple[str, str]:
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_z(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class _Writer:
    """Adds files to the zip and remembers their hashes for the manifest."""

    def __init__(self, zf: StreamingZipWriter, listing: IO[bytes]) -> None:
        self.zf = zf
        self.listing = listing  # manifest entries, one JSON line each, kept off the heap
        self.count = 0

    def _list(self, name: str, sha256: str, size: int) -> None:
        entry = {"name": name, "sha256": sha256, "bytes": size}
        self.listing.write(json.dumps(entry).encode() + b"\n")
        self.count += 1

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self._list(name, hashlib.sha256(data).hexdigest(), len(data))

    def add_spooled(self, name: str, spool: IO[bytes], *, listed: bool = True) -> str:
        """Copy a temporary file in chunks, so its size never sits in memory at once."""
        digest, size = hashlib.sha256(), 0
        spool.seek(0)
        with self.zf.open(name, "w", force_zip64=True) as dst:
            while chunk := spool.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        if listed:
            self._list(name, digest.hexdigest(), size)
        return digest.hexdigest()

    def spool_manifest(self, header: dict[str, object], out: IO[bytes]) -> None:
        """manifest.json = *header* plus every listed file, written to *out*."""
        head = json.dumps(header, indent=2)[:-2] + ',\n  "files": [\n'
        self.listing.seek(0)
        for chunk in itertools.chain([head.encode()], self._entries(), [b"\n  ]\n}\n"]):
            out.write(chunk)
        out.flush()

    def _entries(self) -> Iterator[bytes]:
        first = True
        for line in self.listing:
            yield (b"    " if first else b",\n    ") + line.rstrip(b"\n")
            first = False


def _certificates_der(signature: bytes) -> list[bytes]:
    """The certificates' own bytes, without parsing them (they repeat in every signature)."""
    try:
        certs = cms.ContentInfo.load(signature)["content"]["certificates"]
        return [bytes(c.chosen.dump()) for c in certs if c.name == "certificate"]
    except (ValueError, TypeError, KeyError):
        return []  # verify reports an unreadable signature; export keeps the bytes as they are


def _sign_spooled(signer: DocumentSigner, spool: IO[bytes]) -> bytes:
    """Sign the spooled manifest through a memory map: millions of entries never hit the heap."""
    with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as view:
        # The signer only hashes its input; a read-only map is a bytes-like view of the file.
        return signer.sign(cast(bytes, view))


def poa_files(store: Store) -> dict[str, bytes]:
    """Each power of attorney, the attorney's acceptance and the notice of revocation
    (.json signed bytes + .p7s, exactly as signed)."""
    files: dict[str, bytes] = {}
    for g in store.poa.grants():
        files[f"{g.poa_id}.json"] = g.document
        files[f"{g.poa_id}.p7s"] = g.signature
        if g.acceptance_document is not None and g.acceptance_signature is not None:
            files[f"{g.poa_id}.acceptance.json"] = g.acceptance_document
            files[f"{g.poa_id}.acceptance.p7s"] = g.acceptance_signature
        if g.revocation_document is not None and g.revocation_signature is not None:
            files[f"{g.poa_id}.revocation.json"] = g.revocation_document
            files[f"{g.poa_id}.revocation.p7s"] = g.revocation_signature
    if files:
        files["registry.json"] = (
            json.dumps([g.to_json() for g in store.poa.grants()], indent=2) + "\n"
        ).encode()
    return files


def export_archive(
    store: Store,
    since: date,
    until: date,
    out: Path,
    *,
    signer: DocumentSigner,
    clock: Clock = utc_now,
) -> ExportSummary:
    """Write the bundle of orders signed from *since* to *until* (inclusive) to *out*.

    *signer* (the exporting pharmacist's token) signs the manifest.
    """
    if until < since:
        raise InputError("--until is before --since.")
    start, end = _day_bounds(since, until)
    tmp = out.with_name(f".{out.name}.part")
    certs: dict[str, bytes] = {}
    count = 0
    with (
        tempfile.TemporaryFile() as index,
        tempfile.TemporaryFile() as audit,
        tempfile.TemporaryFile() as listing,
        tempfile.TemporaryFile() as manifest,
        StreamingZipWriter(tmp) as zf,
    ):
        text = io.TextIOWrapper(index, encoding="utf-8", newline="", write_through=True)
        rows = csv.writer(text)
        rows.writerow(INDEX_COLUMNS)
        w = _Writer(zf, listing)
        for order_id in store.signed.ids_signed_between(start, end):
            rec = store.orders.get(order_id)
            files = order_record_files(store, rec)
            for name, data in files.items():
                w.add(f"orders/{order_id}/{name}", data)
                if name.endswith(".p7s"):
                    for der in _certificates_der(data):
                        certs.setdefault(hashlib.sha256(der).hexdigest(), der)
            record = json.loads(files[f"{order_id}.record.json"])
            rows.writerow(
                (
                    rec.order_id,
                    rec.order_number,
                    rec.state.value,
                    rec.purchaser_dea,
                    rec.supplier_name,
                    rec.supplier_dea,
                    rec.date_signed or "",
                    record["signed_at"],
                    record["signer_subject"],
                    rec.lines,
                    len(record["receipts"]),
                    len(record["statements"]),
                    record["signature_sha256"],
                )
            )
            count += 1
        # Powers of attorney are kept with the order records (1305.05(a)): every one, current
        # or revoked, with its notice of revocation, signed bytes as signed.
        for name, data in poa_files(store).items():
            w.add(f"poa/{name}", data)
            if name.endswith(".p7s"):
                for der in _certificates_der(data):
                    certs.setdefault(hashlib.sha256(der).hexdigest(), der)
        # Prescriptions signed here, as signed (1311.305), verified like the orders.
        prescriptions = signed_prescription_files(store, start, end)
        for name, data in prescriptions.items():
            w.add(FOLDER + name, data)
            if name.endswith(".p7s"):
                for der in _certificates_der(data):
                    certs.setdefault(hashlib.sha256(der).hexdigest(), der)
        # E-prescriptions as NCPDP SCRIPT, sent and received, with the verdict on receipt
        # (1311.205(b)(6), 1311.305): exact bytes, the record beside them.
        for name, data in script_files(store, _parse_z(start), _parse_z(end)).items():
            w.add(f"prescriptions/{name}", data)
        for digest, der in sorted(certs.items()):
            w.add(f"certificates/{digest}.pem", bytes(pem.armor("CERTIFICATE", der)))
        for entry in store.audit.entries():
            if start <= entry.at < end:
                audit.write((json.dumps(entry.to_json(), sort_keys=True) + "\n").encode())
        w.add_spooled("audit.jsonl", audit)
        w.add_spooled("index.csv", index)
        text.detach()  # the TemporaryFile is closed by its own with
        w.spool_manifest(
            {
                "format": FORMAT,
                "created_at": clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "since": since.isoformat(),
                "until": until.isoformat(),
                "orders": count,
                "prescriptions": sum(1 for n in prescriptions if n.endswith(".p7s")),
                "exported_by": signer.identity.info.subject,
            },
            manifest,
        )
        signature = _sign_spooled(signer, manifest)
        digest = w.add_spooled(MANIFEST, manifest, listed=False)
        zf.writestr(MANIFEST_SIGNATURE, signature)
    tmp.replace(out)
    lifecycle.record_event(
        store,
        AuditEvent.ORDER_EXPORTED,
        now=clock(),
        order_id=None,
        details={
            "archive": str(out),
            "orders": count,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "manifest_sha256": digest,
            "signed_by": signer.identity.info.subject,
        },
    )
    return ExportSummary(out, count, w.count + 2, digest)
