"""Store figures: sign-and-commit throughput on a token, archive export time and memory.

(a) 1,000 drafts signed on a SoftHSM2 RSA-2048 token in one login, each committed with
its audit entry and outbox row (`services.orders.lifecycle.sign_orders_on_token`), next to the raw
CMS signing time of the same token (the floor).
(b) `csos archive export` of N signed orders for N = 10,000 and 100,000: wall time and
peak Python memory (tracemalloc). The target is flat memory as N grows (streaming), at
most 64 MB at 100,000; the baseline in the same run is stdlib zipfile writing the same
number of members, whose central directory stays on the heap until close.
Prints one JSON object. Usage: python benchmarks/store.py [--sign 1000] [--export 10000 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402
from cryptography.x509 import Name  # noqa: E402

from csos_desktop.domain.canonical import canonical_bytes  # noqa: E402
from csos_desktop.domain.order import parse_order_input  # noqa: E402
from csos_desktop.domain.schedule import parse_schedule_list  # noqa: E402
from csos_desktop.enrol.flow import new_key_and_csr  # noqa: E402
from csos_desktop.pki.cms import CmsSigner  # noqa: E402
from csos_desktop.pki.profile import read_certificate  # noqa: E402
from csos_desktop.sandbox.ca import TestCa  # noqa: E402
from csos_desktop.sandbox.softhsm import create_token, token_by_label  # noqa: E402
from csos_desktop.services.archive.export import export_archive  # noqa: E402
from csos_desktop.services.orders import lifecycle as svc  # noqa: E402
from csos_desktop.services.signing import SigningPurpose, SigningSession  # noqa: E402
from csos_desktop.store import open_store  # noqa: E402
from csos_desktop.token.certs import read_certificates  # noqa: E402
from csos_desktop.token.identity import SigningIdentity, signing_identities  # noqa: E402
from csos_desktop.token.keys import KeyAlgorithm  # noqa: E402
from csos_desktop.token.provisioning import install_certificate  # noqa: E402
from csos_desktop.token.session import TokenSession  # noqa: E402

PIN = "135790"
SCHEDULES = parse_schedule_list("2,2N,3,3N,4,5")


class FixedPin:
    """The benchmark's own token PIN, given to the service as a user would type it."""

    def ask_pin(self, token: object, warning: str | None) -> str:
        return PIN

    def show_pin_pad_prompt(self, token: object) -> None:
        pass

    def notify(self, message: str) -> None:
        pass


def sample(now: datetime) -> dict[str, object]:
    data = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
    del data["order_number"]
    return data


def bench_sign(work: Path, ca: TestCa, n: int) -> dict[str, float]:
    hsm = create_token(work / "hsm", "bench-store", PIN)
    ts = TokenSession(token_by_label(hsm.module, "bench-store"), rw=True)
    ts.login(PIN)
    pending = new_key_and_csr(ts, KeyAlgorithm.RSA2048, {"common_name": "Bench"}, "csos")
    cert = ca.issue(pending.csr_der, dea_number="AB1234563", schedules=SCHEDULES)
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    install_certificate(ts, pending.key, cert.public_bytes(Encoding.DER), chain)
    identity = signing_identities(read_certificates(ts))[0]
    now = datetime.now(UTC)
    with open_store(work / "sign.db") as store:
        ids = [r.order_id for r in svc.import_orders(store, [sample(now)] * n, source="bench")]
        t0 = time.perf_counter()
        result = svc.sign_orders_on_token(
            store, ids, SigningSession(ts, identity, chain, SigningPurpose.ORDER), FixedPin()
        )
        elapsed = time.perf_counter() - t0
    assert len(result.signed) == n, result.unsigned[:3]
    ts.close()
    return {
        "orders": n,
        "seconds": round(elapsed, 3),
        "orders_per_s": round(n / elapsed, 1),
        "ms_per_order": round(1000 * elapsed / n, 3),
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
        dea_number="AB1234563",
        schedules=SCHEDULES,
    )
    cms = CmsSigner(
        Soft(), cert.public_bytes(Encoding.DER), [ca.issuing_certificate.public_bytes(Encoding.DER)]
    )
    now = datetime.now(UTC)
    base = sample(now)
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
                    "AB1234563",
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
                    "AB1234563",
                    hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
                ),
            )
    der = cert.public_bytes(Encoding.DER)
    info = read_certificate(asn1_x509.Certificate.load(der))
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
    assert summary.orders == n
    return {
        "orders": n,
        "seconds": round(elapsed, 2),
        "orders_per_s": round(n / elapsed),
        "peak_python_mb": round(peak / 2**20, 1),
        "baseline_stdlib_zipfile_same_members_peak_mb": baseline_stdlib_zip(work, summary.files),
        "bundle_mb": round((work / f"bundle-{n}.zip").stat().st_size / 2**20, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sign", type=int, default=1000)
    ap.add_argument("--export", type=int, nargs="*", default=[10_000, 100_000])
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csos-bench-store-"))
    os.environ["CSOS_HOME"] = str(work / "home")
    ca = TestCa.init(work / "ca")
    out = {
        "benchmark": "store",
        "sign_and_commit": bench_sign(work, ca, args.sign),
        "archive_export": [bench_export(work, ca, n) for n in args.export],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
