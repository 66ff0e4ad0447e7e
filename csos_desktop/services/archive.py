"""The two-year archive (21 CFR 1305.27, 1311.60): export for an inspector, verify offline.

A bundle is a zip: every signed order, receipt and statement byte for byte
(``orders/<order_id>/``), the certificates found in the signatures, the audit
log slice for the period, an ``index.csv`` a spreadsheet opens, and a
``manifest.json`` with the SHA-256 of every other file. Export streams one
order at a time, so memory stays flat however many orders there are.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from csos_desktop.errors import InputError
from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.services.orders import order_record_files
from csos_desktop.store import Store, lifecycle
from csos_desktop.store.audit import AuditEvent

FORMAT = "csos-archive/1"
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


class ArchiveUnusable(InputError):
    """The file is not an archive bundle this program can read."""


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    orders: int
    files: int
    manifest_sha256: str


@dataclass
class VerifyReport:
    """What `archive verify` found; ``problems`` empty means every check held."""

    files: int = 0
    signatures: int = 0
    chains_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "intact": self.intact,
            "files": self.files,
            "signatures": self.signatures,
            "chains_checked": self.chains_checked,
            "problems": self.problems,
        }


def _day_bounds(since: date, until: date) -> tuple[str, str]:
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Writer:
    """Adds files to the zip and remembers their hashes for the manifest."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.listed: list[dict[str, object]] = []

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self.listed.append(
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        )


def _certificates_in(signature: bytes) -> Iterator[asn1_x509.Certificate]:
    try:
        parsed = parse_signed_data(signature)
    except MalformedSignature:
        return
    yield parsed.signer
    yield from parsed.other_certificates


def export_archive(
    store: Store,
    since: date,
    until: date,
    out: Path,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ExportSummary:
    """Write the bundle of orders signed from *since* to *until* (inclusive) to *out*."""
    if until < since:
        raise InputError("--until is before --since.")
    start, end = _day_bounds(since, until)
    tmp = out.with_name(f".{out.name}.part")
    certs: dict[str, bytes] = {}
    index = io.StringIO()
    rows = csv.writer(index)
    rows.writerow(INDEX_COLUMNS)
    count = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        w = _Writer(zf)
        for order_id in store.signed.ids_signed_between(start, end):
            rec = store.orders.get(order_id)
            files = order_record_files(store, rec)
            for name, data in files.items():
                w.add(f"orders/{order_id}/{name}", data)
                if name.endswith(".p7s"):
                    for cert in _certificates_in(data):
                        der = bytes(cert.dump())
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
        for digest, der in sorted(certs.items()):
            w.add(f"certificates/{digest}.pem", bytes(pem.armor("CERTIFICATE", der)))
        audit = io.StringIO()
        for entry in store.audit.entries():
            if start <= entry.at < end:
                audit.write(json.dumps(entry.to_json(), sort_keys=True) + "\n")
        w.add("audit.jsonl", audit.getvalue().encode("utf-8"))
        w.add("index.csv", index.getvalue().encode("utf-8"))
        manifest = json.dumps(
            {
                "format": FORMAT,
                "created_at": clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "since": since.isoformat(),
                "until": until.isoformat(),
                "orders": count,
                "files": w.listed,
            },
            indent=2,
        ).encode("utf-8")
        zf.writestr("manifest.json", manifest)
    tmp.replace(out)
    digest = hashlib.sha256(manifest).hexdigest()
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
        },
    )
    return ExportSummary(out, count, len(w.listed) + 1, digest)


def _read_manifest(zf: zipfile.ZipFile) -> dict[str, object]:
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise ArchiveUnusable("The bundle has no readable manifest.json.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveUnusable(f"The bundle is not a {FORMAT} archive.")
    return manifest


def _check_signature(
    zf: zipfile.ZipFile,
    sig_name: str,
    roots: list[asn1_x509.Certificate],
    pool: list[asn1_x509.Certificate],
    report: VerifyReport,
) -> None:
    doc_name = sig_name[: -len(".p7s")] + ".json"
    try:
        document, signature = zf.read(doc_name), zf.read(sig_name)
        parsed = parse_signed_data(signature)
    except KeyError:
        report.problems.append(f"{sig_name}: its signed document {doc_name} is missing")
        return
    except MalformedSignature as exc:
        report.problems.append(f"{sig_name}: {exc}")
        return
    report.signatures += 1
    if not digest_matches(parsed, document):
        report.problems.append(f"{doc_name}: not the document that was signed (digest differs)")
    if not signature_valid(parsed):
        report.problems.append(f"{sig_name}: the signature does not verify")
    if roots and parsed.signing_time is not None:
        # At signing time, without revocation: whether it was valid when signed.
        chain = validate_chain(
            parsed.signer,
            trust_roots=roots,
            intermediates=[*parsed.other_certificates, *pool],
            moment=parsed.signing_time,
        )
        report.chains_checked += 1
        if chain.status is not ChainStatus.VALID:
            report.problems.append(f"{sig_name}: {chain.message}")


def verify_archive(
    path: Path, trust_roots: list[asn1_x509.Certificate] | None = None
) -> VerifyReport:
    """Re-check every hash in the manifest and every signature, offline."""
    report = VerifyReport()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveUnusable(f"{path} is not a readable zip archive ({exc}).") from exc
    with zf:
        manifest = _read_manifest(zf)
        listed = {
            str(f["name"]): str(f["sha256"])
            for f in manifest.get("files", [])  # type: ignore[attr-defined]
            if isinstance(f, dict)
        }
        present = set(zf.namelist()) - {"manifest.json"}
        for name in sorted(present - listed.keys()):
            report.problems.append(f"{name}: in the bundle but not in the manifest")
        for name, digest in sorted(listed.items()):
            if name not in present:
                report.problems.append(f"{name}: listed in the manifest but missing")
                continue
            report.files += 1
            if hashlib.sha256(zf.read(name)).hexdigest() != digest:
                report.problems.append(f"{name}: changed since export (SHA-256 differs)")
        pool = [
            asn1_x509.Certificate.load(pem.unarmor(zf.read(n))[2])
            for n in sorted(present)
            if n.startswith("certificates/")
        ]
        for name in sorted(present):
            if name.startswith("orders/") and name.endswith(".p7s"):
                _check_signature(zf, name, list(trust_roots or []), pool, report)
    return report
