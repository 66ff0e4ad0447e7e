"""Supplier verification: 10,000 signed orders from 50 signers, chain and revocation included.

Ours: `verify_order` (CMS parse, digest, signature, DEA profile and hash, RFC 5280 path
validation with the issuing and root CRLs in `require` mode), the CRLs fetched once over
HTTP from the certificates' distribution points and cached, as a supplier's server
keeps them; warm (a signer seen before: its validated path is reused) and cold (the
first order of each signer). In the same run:

- ``raw_ms``: SHA-256 of the document plus one signature check with `cryptography` over
  the signed attributes: the floor no verifier goes under;
- ``pyhanko_ms``: pyHanko's detached-CMS validation, warm, with one reused validation
  context holding the same root and CRLs (``require`` revocation mode);
- ``openssl_per_process_ms``: one `openssl cms -verify -crl_check_all` process per order,
  on a sample (mostly process start-up, kept for reference).

Targets: ``ours_warm_ms <= 5 x raw_ms`` and ours at least 10x faster than pyHanko warm.

Makes its own test CA, signers (software P-256 keys: signing is not what is measured)
and a plain HTTP server for the CRLs in a temp dir. Prints one JSON object.
Usage: python benchmarks/verify.py [--orders 10000] [--signers 50] [--openssl-sample 200]
       [--pyhanko-sample 200] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

from csos_desktop.domain.canonical import canonical_bytes  # noqa: E402
from csos_desktop.domain.order import parse_order_input  # noqa: E402
from csos_desktop.domain.schedule import parse_schedule_list  # noqa: E402
from csos_desktop.pki.chain import VALIDATION_CACHE  # noqa: E402
from csos_desktop.pki.cms import CmsSigner  # noqa: E402
from csos_desktop.pki.supplier_check import verify_order  # noqa: E402
from csos_desktop.sandbox.ca import TestCa  # noqa: E402
from csos_desktop.trust.crl_cache import CrlCache  # noqa: E402
from csos_desktop.trust.fetch import FetchRules  # noqa: E402
from csos_desktop.trust.revocation import RevocationSource  # noqa: E402


class SoftwareKey:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def cpu() -> float:
    """This thread's CPU seconds: on a shared machine, wall time measures the neighbours.
    (openssl runs in its own process: its figure is wall time.)"""
    return time.thread_time_ns() / 1e9


def dea_number(i: int) -> str:
    """A valid DEA number (check digit per 21 CFR 1301) for signer *i*."""
    d = [int(c) for c in f"{100000 + i:06d}"]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return f"AB{''.join(map(str, d))}{check}"


def serve(files: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--signers", type=int, default=50)
    ap.add_argument("--openssl-sample", type=int, default=200)
    ap.add_argument("--pyhanko-sample", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a few seconds")
    args = ap.parse_args()
    if args.quick:
        args.orders, args.signers, args.openssl_sample, args.pyhanko_sample = 60, 3, 3, 10
    work = Path(tempfile.mkdtemp(prefix="csos-bench-verify-"))
    files: dict[str, bytes] = {}
    httpd = serve(files)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    ca = TestCa.init(work / "ca", crl_url=f"{base}/issuing.crl", root_crl_url=f"{base}/root.crl")
    files["/issuing.crl"] = ca.crl().public_bytes(Encoding.DER)
    files["/root.crl"] = ca.root_crl().public_bytes(Encoding.DER)
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    sample = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
    now = datetime.now(UTC)
    signers = []
    for s in range(args.signers):
        key = SoftwareKey()
        cert = ca.issue_for_public_key(
            key.key.public_key(),
            subject=x509.Name.from_rfc4514_string(f"CN=Pharmacy {s}"),
            dea_number=dea_number(s),
            schedules=parse_schedule_list("2,2N,3,3N,4,5"),
            not_before=now - timedelta(days=1),
        )
        signers.append((dea_number(s), CmsSigner(key, cert.public_bytes(Encoding.DER), chain)))
    # Order i is from signer i % signers, so each signer's first order comes early.
    signed: list[tuple[bytes, bytes]] = []
    for i in range(args.orders):
        dea, cms_signer = signers[i % args.signers]
        sample["order_number"] = f"{now:%y}X{i:06d}"
        sample["purchaser"]["dea_number"] = dea
        order = parse_order_input(sample, now=now).with_date_signed(now.date())
        doc = canonical_bytes(order.to_document())
        signed.append((doc, cms_signer.sign(doc, now)))

    roots = [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]
    from csos_desktop.pki.cms_parse import parse_signed_data

    first = parse_signed_data(signed[0][1])
    # The CA serves on 127.0.0.1: this run allows it, as the sandbox's policy does.
    source = RevocationSource(CrlCache(work / "crl-cache"), rules=FetchRules(allow_private=True))
    fetched = source.for_path(first.signer, first.other_certificates, roots, now=now)
    assert fetched.complete and len(fetched.crls) == 2, fetched.notes

    raw_of = prepare_raw(signed)
    pyhanko_check = PyhankoCheck(roots, fetched.crls)
    pyhanko_check.time(*signed[0])  # the first fills the context's caches: warm from here
    pyhanko_every = max(1, (len(signed) - args.signers) // max(1, args.pyhanko_sample))

    VALIDATION_CACHE.clear()
    cold: list[float] = []
    warm: list[float] = []
    raw_times: list[float] = []
    pyhanko_times: list[float] = []
    rejected = 0
    t_all = time.perf_counter()
    for i, (doc, sig) in enumerate(signed):
        t0 = cpu()
        verdict = verify_order(
            doc, sig, trust_roots=roots, crls=fetched.crls, now=now, require_revocation=True
        )
        elapsed = (cpu() - t0) * 1000
        rejected += not verdict.accepted
        if i < args.signers:
            cold.append(elapsed)
            continue
        warm.append(elapsed)
        # The floor and pyHanko on the same order right after ours: a shared machine's
        # load then weighs on all three alike.
        raw_times.append(raw_of(i))
        if (i - args.signers) % pyhanko_every == 0 and len(pyhanko_times) < args.pyhanko_sample:
            pyhanko_times.append(pyhanko_check.time(doc, sig))
    total_s = time.perf_counter() - t_all
    total_s -= (sum(raw_times) + sum(pyhanko_times)) / 1000  # roughly: ours only

    raw = statistics.median(raw_times)
    pyhanko = statistics.median(pyhanko_times)
    ossl = measure_openssl(work, ca, signed, args.openssl_sample)
    httpd.shutdown()

    ours_ms = statistics.median(warm)
    openssl_ms = statistics.median(ossl)
    print(
        json.dumps(
            {
                "benchmark": "verify",
                "clock": "thread CPU time (openssl: wall time per process)",
                "orders": args.orders,
                "signers": args.signers,
                "rejected": rejected,
                "ours_warm_ms": round(ours_ms, 4),
                "ours_ms": round(ours_ms, 4),
                "ours_mean_ms": round(statistics.mean(warm), 4),
                "ours_cold_ms": round(statistics.median(cold), 4),
                "ours_total_s": round(total_s, 2),
                "raw_ms": round(raw, 4),
                "pyhanko_ms": round(pyhanko, 4),
                "pyhanko_sample": len(pyhanko_times),
                "openssl_per_process_ms": round(openssl_ms, 3),
                "openssl_sample": len(ossl),
                "ours_over_raw": round(ours_ms / raw, 2),
                "pyhanko_over_ours": round(pyhanko / ours_ms, 1),
                "ratio": round(openssl_ms / ours_ms, 1),
                "validation_cache": {
                    "hits": VALIDATION_CACHE.hits,
                    "misses": VALIDATION_CACHE.misses,
                },
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            indent=2,
        )
    )


def prepare_raw(signed: list[tuple[bytes, bytes]]) -> Callable[[int], float]:
    """Order i's floor in ms: SHA-256 of the document and one ECDSA check of the signed
    attributes with `cryptography`, nothing else (inputs parsed beforehand)."""
    from cryptography.hazmat.primitives.asymmetric import ec as ec_

    from csos_desktop.pki.cms_parse import parse_signed_data

    prepared = []
    for doc, sig in signed:
        parsed = parse_signed_data(sig)
        key = x509.load_der_x509_certificate(parsed.signer.dump()).public_key()
        prepared.append((doc, parsed.signed_attrs_der, parsed.signature, key))

    def timed(i: int) -> float:
        doc, attrs, signature, key = prepared[i]
        t0 = cpu()
        hashlib.sha256(doc).digest()
        key.verify(signature, attrs, ec_.ECDSA(hashes.SHA256()))  # type: ignore[union-attr,call-arg]
        return (cpu() - t0) * 1000

    return timed


class PyhankoCheck:
    """pyHanko's detached-CMS validation with one reused validation context holding the
    same root and CRLs (``require`` revocation), on one event loop."""

    def __init__(self, roots: list[asn1_x509.Certificate], crls: object) -> None:
        from pyhanko_certvalidator import ValidationContext

        self._ctx = ValidationContext(
            trust_roots=roots,
            crls=list(crls),  # type: ignore[call-overload]
            allow_fetching=False,
            revocation_mode="require",
        )
        self._loop = asyncio.new_event_loop()

    def time(self, doc: bytes, sig: bytes) -> float:
        from asn1crypto import cms
        from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

        data = cms.ContentInfo.load(sig)["content"]

        async def run() -> float:
            t0 = cpu()
            status = await async_validate_detached_cms(
                doc, data, signer_validation_context=self._ctx
            )
            elapsed = (cpu() - t0) * 1000
            assert status.bottom_line, status
            return elapsed

        return self._loop.run_until_complete(run())


def measure_openssl(
    work: Path, ca: TestCa, signed: list[tuple[bytes, bytes]], sample: int
) -> list[float]:
    bundle = work / "root-and-crls.pem"
    bundle.write_bytes(
        ca.root_certificate.public_bytes(Encoding.PEM)
        + b"".join(c.public_bytes(Encoding.PEM) for c in (ca.crl(), ca.root_crl()))
    )
    ossl: list[float] = []
    for i in range(0, len(signed), max(1, len(signed) // max(1, sample))):
        doc, sig = signed[i]
        (work / "doc.json").write_bytes(doc)
        (work / "doc.p7s").write_bytes(sig)
        t0 = time.perf_counter()
        done = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", work / "doc.p7s",
             "-content", work / "doc.json", "-CAfile", bundle, "-crl_check_all",
             "-purpose", "any", "-out", os.devnull],
            capture_output=True, check=False,
        )  # fmt: skip
        ossl.append((time.perf_counter() - t0) * 1000)
        assert done.returncode == 0, done.stderr
    return ossl


if __name__ == "__main__":
    main()
