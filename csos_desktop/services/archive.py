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
import itertools
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

from asn1crypto import cms, pem
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
from csos_desktop.store.purge import orders_before, purge_orders

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

    def __init__(self, zf: zipfile.ZipFile, listing: IO[bytes]) -> None:
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

    def write_manifest(self, header: dict[str, object]) -> str:
        """manifest.json = *header* plus every listed file, streamed; returns its SHA-256."""
        digest = hashlib.sha256()
        head = json.dumps(header, indent=2)[:-2] + ',\n  "files": [\n'
        self.listing.seek(0)
        with self.zf.open("manifest.json", "w", force_zip64=True) as dst:
            for chunk in itertools.chain([head.encode()], self._entries(), [b"\n  ]\n}\n"]):
                digest.update(chunk)
                dst.write(chunk)
        return digest.hexdigest()

    def _entries(self) -> Iterator[bytes]:
        first = True
        for line in self.listing:
            yield (b"    " if first else b",\n    ") + line.rstrip(b"\n")
            first = False

    def add_spooled(self, name: str, spool: IO[bytes]) -> None:
        """Copy a temporary file in chunks, so its size never sits in memory at once."""
        digest, size = hashlib.sha256(), 0
        spool.seek(0)
        with self.zf.open(name, "w", force_zip64=True) as dst:
            while chunk := spool.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        self._list(name, digest.hexdigest(), size)


def _certificates_der(signature: bytes) -> list[bytes]:
    """The certificates' own bytes, without parsing them (they repeat in every signature)."""
    try:
        certs = cms.ContentInfo.load(signature)["content"]["certificates"]
        return [bytes(c.chosen.dump()) for c in certs if c.name == "certificate"]
    except (ValueError, TypeError, KeyError):
        return []  # verify reports an unreadable signature; export keeps the bytes as they are


def poa_files(store: Store) -> dict[str, bytes]:
    """Each power of attorney and notice of revocation (.json signed bytes + .p7s)."""
    files: dict[str, bytes] = {}
    for g in store.poa.grants():
        files[f"{g.poa_id}.json"] = g.document
        files[f"{g.poa_id}.p7s"] = g.signature
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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ExportSummary:
    """Write the bundle of orders signed from *since* to *until* (inclusive) to *out*."""
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
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf,
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
        for digest, der in sorted(certs.items()):
            w.add(f"certificates/{digest}.pem", bytes(pem.armor("CERTIFICATE", der)))
        for entry in store.audit.entries():
            if start <= entry.at < end:
                audit.write((json.dumps(entry.to_json(), sort_keys=True) + "\n").encode())
        w.add_spooled("audit.jsonl", audit)
        w.add_spooled("index.csv", index)
        text.detach()  # the TemporaryFile is closed by its own with
        digest = w.write_manifest(
            {
                "format": FORMAT,
                "created_at": clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "since": since.isoformat(),
                "until": until.isoformat(),
                "orders": count,
            }
        )
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
        },
    )
    return ExportSummary(out, count, w.count + 1, digest)


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
            if name.startswith(("orders/", "poa/")) and name.endswith(".p7s"):
                _check_signature(zf, name, list(trust_roots or []), pool, report)
    return report


#: 21 CFR 1305.27 and 1311.60: orders and linked records are kept for two years.
RETENTION_YEARS = 2


class PurgeRefused(InputError):
    """The purge would delete records still in their retention period, or not archived."""


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def purge_archived(
    store: Store,
    before: date,
    bundle: Path,
    *,
    trust_roots: list[asn1_x509.Certificate],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    dry_run: bool = False,
) -> int:
    """Delete orders signed before *before*, if two years old and all in a verified *bundle*.

    Returns how many orders went (with ``dry_run``, how many would go; all checks still run).
    """
    now = clock()
    limit = _years_before(now.date(), RETENTION_YEARS)
    if before > limit:
        raise PurgeRefused(
            f"Records younger than {RETENTION_YEARS} years cannot be purged (21 CFR 1305.27): "
            f"--before must be {limit.isoformat()} or earlier."
        )
    ids = orders_before(store, before.isoformat())
    if not ids:
        return 0
    report = verify_archive(bundle, trust_roots)
    if not report.intact:
        raise PurgeRefused(
            f"The archive {bundle} does not verify, so nothing was purged: "
            + "; ".join(report.problems[:3])
        )
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest_sha256 = hashlib.sha256(zf.read("manifest.json")).hexdigest()
    missing = []
    for order_id in ids:
        rec = store.orders.get(order_id)
        if store.signed.find(order_id) is None:
            continue  # never signed: nothing an inspector needs
        wanted = {
            f"orders/{order_id}/{n}"
            for n in order_record_files(store, rec)
            if not n.endswith(".record.json")
        }
        if not wanted <= names:
            missing.append(rec.order_number)
    if missing:
        raise PurgeRefused(
            f"{len(missing)} order(s) to purge are not in {bundle.name} "
            f"(e.g. {', '.join(missing[:3])}); export an archive covering them "
            "first. Nothing was purged."
        )
    if dry_run:
        return len(ids)
    return purge_orders(
        store,
        ids,
        before=before.isoformat(),
        now=now,
        details={"archive": str(bundle), "manifest_sha256": manifest_sha256},
    )
