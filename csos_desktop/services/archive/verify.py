"""Verifying an archive bundle offline, as an inspector would (21 CFR 1305.27, 1311.60).

Order of checks: the zip directory (unique names, sizes under caps), the manifest's own
signature (made on the exporting pharmacist's token), every file against the manifest,
then every signature in it. With trust anchors, every signer's chain is validated,
whatever attributes the signature carries; with CRLs too, a signature made after its
certificate was revoked is invalid. Without anchors the verdict is "integrity only":
the bytes hold together, but nobody vouched for who signed them.

A bundle is hostile input: every malformation is a problem in the report or
:class:`ArchiveUnusable`, never a traceback.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.cms_parse import MalformedSignature, ParsedSignature, parse_signed_data
from csos_desktop.pki.signed_check import Finding, Reason
from csos_desktop.services.archive.container import (
    DEFAULT_READ_LIMITS,
    MAX_PARSED_BYTES,
    ArchiveUnusable,
    MemberUnreadable,
    ReadLimits,
    hash_member,
    open_bundle,
    read_member,
)
from csos_desktop.services.archive.export import FORMAT, MANIFEST, MANIFEST_SIGNATURE
from csos_desktop.services.archive.poa_acceptance import acceptance_problems
from csos_desktop.services.archive.prescriptions import FOLDER as RX_FOLDER
from csos_desktop.services.archive.prescriptions import (
    is_prescription_signature,
    recorded_signing_time,
)
from csos_desktop.services.archive.rules import (
    CHAIN_REASONS,
    DocumentKind,
    RuleCheck,
    Trust,
    check_document,
    kind_of,
    purchaser_of,
)
from csos_desktop.services.archive.statements import statement_problems
from csos_desktop.services.trust_anchors import TrustMaterial

#: How far a signing-time may run ahead of the verifier's clock (clock skew).
FUTURE_SKEW = timedelta(minutes=5)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class Verdict(StrEnum):
    INTACT = "intact"  # every hash, signature and signer chain holds
    INTEGRITY_ONLY = "integrity-only"  # hashes and signatures hold; signers not verified
    PROBLEMS = "problems"


@dataclass
class VerifyReport:
    """What `archive verify` found; ``problems`` empty means every check that ran held."""

    files: int = 0
    signatures: int = 0
    chains_checked: int = 0
    #: Distributor statements tied to their order and supplier (besides their signature).
    statements_checked: int = 0
    signers_verified: bool = False
    revocation_checked: bool = False
    manifest_signer: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> Verdict:
        if self.problems:
            return Verdict.PROBLEMS
        return Verdict.INTACT if self.signers_verified else Verdict.INTEGRITY_ONLY

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "intact": self.intact,
            "signers_verified": self.signers_verified,
            "revocation_checked": self.revocation_checked,
            "manifest_signer": self.manifest_signer,
            "files": self.files,
            "signatures": self.signatures,
            "chains_checked": self.chains_checked,
            "statements_checked": self.statements_checked,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class _Manifest:
    created_at: datetime | None
    files: dict[str, tuple[str, int]]  # name -> (sha256, bytes)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _parse_manifest(raw: bytes) -> _Manifest:
    """The manifest, strictly: any malformation makes the bundle unusable (exit 2)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # also over-long integers, deep nesting
        raise ArchiveUnusable(f"{MANIFEST} is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else None
        raise ArchiveUnusable(
            f"The bundle is not a {FORMAT} archive (format {got!r}); "
            + (
                "it was exported without a signed manifest: export it again."
                if got == "csos-archive/1"
                else "use the program version that wrote it."
            )
        )
    entries = data.get("files")
    if not isinstance(entries, list):
        raise ArchiveUnusable(f"{MANIFEST} is malformed: 'files' is not a list.")
    files: dict[str, tuple[str, int]] = {}
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ArchiveUnusable(f"{MANIFEST} is malformed: entry {i} is not an object.")
        name, digest, size = entry.get("name"), entry.get("sha256"), entry.get("bytes")
        if not isinstance(name, str) or not name:
            raise ArchiveUnusable(f"{MANIFEST} is malformed: entry {i} has no name.")
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            raise ArchiveUnusable(f"{MANIFEST} is malformed: {name} has no valid SHA-256.")
        if type(size) is not int or size < 0:
            raise ArchiveUnusable(f"{MANIFEST} is malformed: {name} has no valid size.")
        if name in files or name in (MANIFEST, MANIFEST_SIGNATURE):
            raise ArchiveUnusable(f"{MANIFEST} is malformed: {name} is listed twice.")
        files[name] = (digest, size)
    return _Manifest(_timestamp(data.get("created_at")), files)


@dataclass(frozen=True)
class _Checked:
    parsed: ParsedSignature
    found: RuleCheck


class _Checker:
    """Checks one bundle's signatures against optional trust material, at *now*."""

    def __init__(
        self,
        zf: zipfile.ZipFile,
        trust: TrustMaterial | None,
        pool: Sequence[asn1_x509.Certificate],
        now: datetime,
        report: VerifyReport,
    ) -> None:
        self.zf, self.now, self.report = zf, now, report
        self.checked = trust is not None
        # With anchors, revocation is required: a signer no CRL covers is a problem.
        self.trust = Trust(
            trust.roots if trust else (),
            trust.crls if trust else (),
            pool,
            require_revocation=trust is not None,
        )

    def signature(
        self,
        sig_name: str,
        doc_name: str,
        *,
        recorded: datetime | None,
        fallback: datetime | None,
        doc_cap: int = MAX_PARSED_BYTES,
    ) -> _Checked | None:
        """Check one detached signature; problems go to the report. Returns what it found
        if the signature could be parsed."""
        try:
            return self._signature(sig_name, doc_name, recorded, fallback, doc_cap)
        except ArchiveUnusable:
            raise  # a zip bomb ends the whole check
        except Exception as exc:  # hostile bytes end as a named problem, never a crash
            what = f"{type(exc).__name__}: {exc}"
            self.report.problems.append(f"{sig_name}: cannot be checked ({what})")
            return None

    def _signature(
        self,
        sig_name: str,
        doc_name: str,
        recorded: datetime | None,
        fallback: datetime | None,
        doc_cap: int,
    ) -> _Checked | None:
        problems = self.report.problems
        try:
            document = read_member(self.zf, doc_name, doc_cap)
        except MemberUnreadable as exc:
            problems.append(f"{sig_name}: its signed document {doc_name} is unusable ({exc})")
            return None
        try:
            signature = read_member(self.zf, sig_name)
            parsed = parse_signed_data(signature)
            claimed = parsed.signing_time
        except (MemberUnreadable, MalformedSignature) as exc:
            problems.append(f"{sig_name}: {exc}")
            return None
        self.report.signatures += 1
        if claimed is not None and claimed > self.now + FUTURE_SKEW:
            problems.append(
                f"{sig_name}: signing-time-in-future: it claims {claimed:%Y-%m-%d %H:%M} UTC"
            )
        moment = _moment(claimed, recorded, fallback)
        kind = kind_of(sig_name)
        purchaser = (
            purchaser_of(self.zf, sig_name) if kind is DocumentKind.PURCHASER_RECORD else None
        )
        found = check_document(
            kind,
            document,
            signature,
            trust=self.trust,
            moment=moment or self.now,
            purchaser_dea=purchaser,
        )
        chain_checked = self.checked and moment is not None
        if self.checked and moment is None:
            problems.append(
                f"{sig_name}: no signing time and no recorded time: the chain cannot be checked"
            )
        elif chain_checked:
            self.report.chains_checked += 1
        for finding in found.findings:
            if finding.reason in CHAIN_REASONS and not chain_checked:
                continue  # integrity only: nobody was asked to vouch for the signer
            problems.append(_problem(sig_name, doc_name, finding, moment))
        return _Checked(parsed, found)


def _problem(sig_name: str, doc_name: str, finding: Finding, moment: datetime | None) -> str:
    if finding.reason is Reason.DIGEST_MISMATCH:
        return f"{doc_name}: not the document that was signed (digest differs)"
    if finding.reason in CHAIN_REASONS and moment is not None:
        return f"{sig_name}: {finding.message} (signature made {moment:%Y-%m-%d %H:%M} UTC)"
    return f"{sig_name}: {finding.message} [{finding.reason.value}]"


def _moment(
    claimed: datetime | None, recorded: datetime | None, fallback: datetime | None
) -> datetime | None:
    """When to validate a chain: the latest evidence of when the signature was made.

    The signing-time attribute is the signer's own claim; the store's recorded signing
    time is evidence the signature did not exist before it. Taking the later one means a
    back-dated claim cannot move a signature to before its certificate's revocation.
    Without either, the export time: the latest moment the signature surely existed.
    """
    known = [t for t in (claimed, recorded) if t is not None]
    return max(known) if known else fallback


def _subject(cert: asn1_x509.Certificate) -> str:
    try:
        return str(cert.subject.human_friendly)
    except (ValueError, TypeError, KeyError):
        return "(unreadable subject)"


def _recorded_times(zf: zipfile.ZipFile, names: Sequence[str]) -> dict[str, datetime]:
    """Signature name -> when the store recorded it, from each record.json: the order's
    and each receipt's signing time, each signed statement's time received."""
    out: dict[str, datetime] = {}
    for name in names:
        if name.startswith(RX_FOLDER) and name.endswith(".record.json"):
            out.update(recorded_signing_time(zf, name))
            continue
        if not (name.startswith("orders/") and name.endswith(".record.json")):
            continue
        try:
            record = json.loads(read_member(zf, name))
        except (MemberUnreadable, ValueError, RecursionError):
            continue  # its hash check reports it if it was changed
        if not isinstance(record, dict):
            continue
        folder = name.rpartition("/")[0]
        if at := _timestamp(record.get("signed_at")):
            out[name[: -len(".record.json")] + ".p7s"] = at
        receipts = record.get("receipt_signed_at")
        for receipt_id, when in receipts.items() if isinstance(receipts, dict) else ():
            if at := _timestamp(when):
                out[f"{folder}/{receipt_id}.p7s"] = at
        statements = record.get("statements")
        for st in statements if isinstance(statements, list) else ():
            sig = st.get("signature_file") if isinstance(st, dict) else None
            if isinstance(sig, str) and (at := _timestamp(st.get("received_at"))):
                out[f"{folder}/{sig}"] = at
    return out


def _certificate_pool(
    zf: zipfile.ZipFile, names: Sequence[str], report: VerifyReport
) -> list[asn1_x509.Certificate]:
    pool = []
    for name in names:
        if not name.startswith("certificates/"):
            continue
        try:
            data = read_member(zf, name)
            der = pem.unarmor(data)[2] if pem.detect(data) else data
            cert = asn1_x509.Certificate.load(der, strict=True)
            cert.native  # noqa: B018 - parse every field now, not deep inside path building
        except (MemberUnreadable, ValueError, TypeError, KeyError) as exc:
            report.problems.append(f"{name}: not a readable certificate ({exc})")
            continue
        pool.append(cert)
    return pool


def verify_archive(
    path: Path,
    trust: TrustMaterial | None = None,
    *,
    now: datetime | None = None,
    limits: ReadLimits = DEFAULT_READ_LIMITS,
) -> VerifyReport:
    """Re-check the manifest's signature, every hash and every signature, offline.

    Raises ArchiveUnusable when the file is not a bundle at all (not a zip, duplicate
    names, overlapping members, no or malformed manifest, more inflating than *limits*
    allow); everything else is a problem in the report.
    """
    now = now or datetime.now(UTC)
    # With anchors every chain's revocation is checked: unknown is a problem, not a note.
    report = VerifyReport(signers_verified=trust is not None, revocation_checked=trust is not None)
    with open_bundle(path, limits) as zf:
        try:
            manifest = _parse_manifest(read_member(zf, MANIFEST, zf.manifest_cap))
        except MemberUnreadable as exc:
            raise ArchiveUnusable(f"The bundle has no usable {MANIFEST} ({exc}).") from exc
        present = [n for n in zf.namelist() if n not in (MANIFEST, MANIFEST_SIGNATURE)]
        pool = _certificate_pool(zf, sorted(manifest.files.keys() & set(present)), report)
        checker = _Checker(zf, trust, pool, now, report)
        if MANIFEST_SIGNATURE not in zf.namelist():
            report.problems.append(f"{MANIFEST}: not signed ({MANIFEST_SIGNATURE} is missing)")
        else:
            signed = checker.signature(
                MANIFEST_SIGNATURE,
                MANIFEST,
                recorded=manifest.created_at,
                fallback=None,
                doc_cap=zf.manifest_cap,
            )
            if signed is not None:
                report.manifest_signer = _subject(signed.parsed.signer)
        _check_listing(zf, manifest, present, report)
        recorded = _recorded_times(zf, sorted(manifest.files))
        for name in sorted(present):
            if (
                name.startswith(("orders/", "poa/")) or is_prescription_signature(name)
            ) and name.endswith(".p7s"):
                found = checker.signature(
                    name,
                    name[: -len(".p7s")] + ".json",
                    recorded=recorded.get(name),
                    fallback=manifest.created_at,
                )
                if found is not None and name.startswith("poa/"):
                    report.problems += acceptance_problems(zf, name, found.parsed.signer)
                if found is not None and kind_of(name) is DocumentKind.STATEMENT:
                    report.statements_checked += 1
                    report.problems += statement_problems(zf, name, found.found.signer)
    return report


def _check_listing(
    zf: zipfile.ZipFile, manifest: _Manifest, present: list[str], report: VerifyReport
) -> None:
    """Every file is listed, every listed file is there with the listed size and hash."""
    for name in sorted(set(present) - manifest.files.keys()):
        report.problems.append(f"{name}: in the bundle but not in the manifest")
    for name, (digest, size) in sorted(manifest.files.items()):
        if name not in present:
            report.problems.append(f"{name}: listed in the manifest but missing")
            continue
        report.files += 1
        if zf.getinfo(name).file_size != size:
            report.problems.append(f"{name}: its size differs from the manifest's")
            continue
        try:
            got, _ = hash_member(zf, name)
        except MemberUnreadable as exc:
            report.problems.append(f"{name}: {exc}")
            continue
        if got != digest:
            report.problems.append(f"{name}: changed since export (SHA-256 differs)")
