"""Store figures: sign-and-commit throughput on a token, archive export time and memory.

(a) N drafts signed on a SoftHSM2 RSA-2048 token in one login, each committed with its
audit entry and outbox row (`services.orders.lifecycle.sign_orders_on_token`), next to the
raw CMS signing of the same documents on the same token in the same run (`CmsSigner.sign`,
the floor: what is left is the checks, the store and the audit chain).
(b) `csos archive export` of N signed orders for each N of --export: wall time and peak
Python memory (tracemalloc). The target is flat memory as N grows (streaming), at most
64 MB at 100,000; the baseline in the same run is stdlib zipfile writing the same number
of members, whose central directory stays on the heap until close.
Prints one JSON object. Usage: python benchmarks/store.py [--sign 1000] [--export 10000 100000]
[--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import Name
from harness import emit, parse_args, scratch_dir  # benchmarks/ is on sys.path
from signing_token import (
    DEA,
    PIN,
    SCHEDULES,
    bench_home,
    bench_token,
    order_documents,
    sample_order,
    trusted_ca,
)

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import parse_order_input
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.poa import record_registrant
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import open_store
from csos_desktop.token.identity import SigningIdentity


class FixedPin:
    """The benchmark's own token PIN, given to the service as a user would type it."""

    def ask_pin(self, token: object, warning: str | None) -> str:
        return PIN

    def show_pin_pad_prompt(self, token: object) -> None:
        pass

    def notify(self, message: str) -> None:
        pass


def draft() -> dict[str, object]:
    data = sample_order()
    del data["order_number"]
    return data


def bench_sign(work: Path, ca: TestCa, n: int) -> dict[str, object]:
    token = bench_token(work, ca, "bench-store")
    now = datetime.now(UTC)
    docs = [doc for _, doc in order_documents(n, now)]
    cms = token.cms_signer()
    t0 = time.perf_counter()
    for doc in docs:
        cms.sign(doc, now)
    raw_s = time.perf_counter() - t0
    session = SigningSession(token.ts, token.identity(), token.chain, SigningPurpose.ORDER)
    with open_store(work / "sign.db") as store:
        # The orders carry schedule II: the token's holder is the recorded registrant.
        record_registrant(store, token.identity(), "Bench Registrant", dea_number=DEA)
        ids = [r.order_id for r in svc.import_orders(store, [draft()] * n, source="bench")]
        t0 = time.perf_counter()
        result = svc.sign_orders_on_token(store, ids, session, FixedPin())
        elapsed = time.perf_counter() - t0
    token.ts.close()
    return {
        "orders": n,
        "seconds": round(elapsed, 3),
        "orders_per_s": round(n / elapsed, 1),
        "ms_per_order": round(1000 * elapsed / n, 3),
        "unsigned": n - len(result.signed),
        "baseline_raw_cms_ms_per_order": round(1000 * raw_s / n, 3),
        "vs_raw_cms": round(elapsed / raw_s, 2),
    }


class SoftDocumentSigner:
    """Signs the archive manifest with the benchmark's software key (export is what's timed)."""

    def __init__(self, identity: SigningIdentity, cms: CmsSigner) -> None:
        self.identity = identity
        self._cms = cms

    def sign(self, document: bytes) -> bytes:
        return self._cms.sign(document, datetime.now(UTC))


def fill_signed(path: Path, ca: TestCa, n: int) -> SoftDocumentSigner:
    """N signed orders straight into the tables (software P-256 key; export is what's timed)."""
    key = ec.generate_private_key(ec.SECP256R1())

    class Soft:
        def sign_digest(self, digest: bytes) -> bytes:
            return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    cert = ca.issue_for_public_key(
        key.public_key(),
        subject=Name.from_rfc4514_string("CN=Bench"),
        dea_number=DEA,
        schedules=SCHEDULES,
    )
    cms = CmsSigner(
        Soft(), cert.public_bytes(Encoding.DER), [ca.issuing_certificate.public_bytes(Encoding.DER)]
    )
    now = datetime.now(UTC)
    base = draft()
    with open_store(path) as store, store.transaction():
        for i in range(n):
            base["order_number"] = f"{now:%y}X{i:06d}"
            order = parse_order_input(
                base, now=now, new_id=lambda i=i: f"{i:08x}-0000-4000-8000-000000000000"
            )
            doc = canonical_bytes(order.with_date_signed(now.date()).to_document())
            sig = cms.sign(doc, now)
            stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            store.conn.execute(
                "INSERT INTO orders (order_id, order_number, purchaser_dea, supplier_dea, "
                "supplier_name, state, created_at, updated_at, date_signed, draft_document) "
                "VALUES (?, ?, ?, ?, ?, 'signed', ?, ?, ?, ?)",
                (
                    order.order_id,
                    order.order_number,
                    DEA,
                    "RK0452716",
                    "Keystone",
                    stamp,
                    stamp,
                    now.date().isoformat(),
                    doc,
                ),
            )
            store.conn.execute(
                "INSERT INTO signed_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order.order_id,
                    doc,
                    sig,
                    hashlib.sha256(doc).hexdigest(),
                    hashlib.sha256(sig).hexdigest(),
                    stamp,
                    "Bench",
                    DEA,
                    hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
                ),
            )
    der = cert.public_bytes(Encoding.DER)
    info = read_csos_profile(asn1_x509.Certificate.load(der))
    return SoftDocumentSigner(SigningIdentity(b"\x01", der, info, "bench"), cms)


def baseline_stdlib_zip(work: Path, members: int) -> float:
    """Peak MB of stdlib zipfile writing *members* small files: the ZipInfo list it keeps."""
    tracemalloc.start()
    with zipfile.ZipFile(work / "baseline.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(members):
            zf.writestr(f"orders/{i:08x}-0000-4000-8000-000000000000/{i:08x}.p7s", b"x" * 64)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    (work / "baseline.zip").unlink()
    return round(peak / 2**20, 1)


def bench_export(work: Path, ca: TestCa, n: int) -> dict[str, float]:
    path = work / f"export-{n}.db"
    signer = fill_signed(path, ca, n)
    today = datetime.now(UTC).date()
    with open_store(path) as store:
        tracemalloc.start()
        t0 = time.perf_counter()
        summary = export_archive(store, today, today, work / f"bundle-{n}.zip", signer=signer)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "orders": n,
        "missing": n - summary.orders,
        "seconds": round(elapsed, 2),
        "orders_per_s": round(n / elapsed),
        "peak_python_mb": round(peak / 2**20, 1),
        "baseline_stdlib_zipfile_same_members_peak_mb": baseline_stdlib_zip(work, summary.files),
        "bundle_mb": round((work / f"bundle-{n}.zip").stat().st_size / 2**20, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sign", type=int, default=1000)
    ap.add_argument("--export", type=int, nargs="*", default=[10_000, 100_000])
    args = parse_args(ap, {"sign": 5, "export": [50]})
    work = scratch_dir("csos-bench-store-")
    bench_home(work)
    ca = trusted_ca(work)
    emit(
        {
            "benchmark": "store",
            "sign_and_commit": bench_sign(work, ca, args.sign),
            "archive_export": [bench_export(work, ca, n) for n in args.export],
        }
    )


if __name__ == "__main__":
    main()
