"""Sending signed orders to the sandbox distributor over loopback TLS, and verifying them.

(a) submit and confirm N signed orders with the real client (one connection, sequential),
    then pull the change feed until every order shows as shipped;
(b) server-side verification throughput: verify_order with the CA's CRLs (cached), in process;
(c) baseline: `openssl cms -verify` with the same CRLs (-crl_check_all), one process per order.

Signs the orders on a fresh SoftHSM2 token (RSA-2048) first. Prints one JSON object.
Usage: python benchmarks/sync.py [--orders 1000] [--openssl-orders 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

from csos_desktop.domain.canonical import canonical_bytes  # noqa: E402
from csos_desktop.domain.order import parse_order_input  # noqa: E402
from csos_desktop.domain.schedule import parse_schedule_list  # noqa: E402
from csos_desktop.enrol.flow import new_key_and_csr  # noqa: E402
from csos_desktop.pki.cms import CmsSigner  # noqa: E402
from csos_desktop.sandbox.ca import TestCa  # noqa: E402
from csos_desktop.sandbox.distributor.customers import add_customer  # noqa: E402
from csos_desktop.sandbox.distributor.server import (  # noqa: E402
    open_distributor,
    start_in_thread,
)
from csos_desktop.sandbox.distributor.som_hook import NoOpSomPolicy  # noqa: E402
from csos_desktop.sandbox.distributor.verification import check_order  # noqa: E402
from csos_desktop.sandbox.https import bind  # noqa: E402
from csos_desktop.sandbox.softhsm import create_token, token_by_label  # noqa: E402
from csos_desktop.sync.client import DistributorClient  # noqa: E402
from csos_desktop.token.keys import KeyAlgorithm  # noqa: E402
from csos_desktop.token.provisioning import install_certificate  # noqa: E402
from csos_desktop.token.session import TokenSession  # noqa: E402
from csos_desktop.token.signer import TokenSigner  # noqa: E402

PIN = "246810"
DEA = "AB1234563"


def signed_orders(work: Path, ca: TestCa, n: int) -> list[tuple[str, bytes, bytes]]:
    hsm = create_token(work / "hsm", "bench", PIN)
    ts = TokenSession(token_by_label(hsm.module, "bench"), rw=True)
    ts.login(PIN)
    with ts:
        pending = new_key_and_csr(
            ts, KeyAlgorithm.RSA2048, {"common_name": "Bench Pharmacy"}, "csos"
        )
        cert = ca.issue(
            pending.csr_der, dea_number=DEA, schedules=parse_schedule_list("2,2N,3,3N,4,5")
        )
        cert_der = cert.public_bytes(Encoding.DER)
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        install_certificate(ts, pending.key, cert_der, chain)
        signer = CmsSigner(TokenSigner(ts, pending.key.key_id), cert_der, chain)
        sample = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
        now = datetime.now(UTC).replace(microsecond=0)
        out = []
        for i in range(n):
            sample["order_number"] = f"{now:%y}X{i:06d}"
            order = parse_order_input(sample, now=now).with_date_signed(now.date())
            document = canonical_bytes(order.to_document())
            out.append((order.order_id, document, signer.sign(document, now)))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument(
        "--openssl-orders",
        type=int,
        default=200,
        help="one openssl process per order; fewer samples suffice",
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csos-bench-sync-"))
    os.environ["CSOS_HOME"] = str(work / "home")
    try:
        ca = TestCa.init(work / "ca")
        t0 = time.perf_counter()
        orders = signed_orders(work, ca, args.orders)
        signing_s = time.perf_counter() - t0

        distributor = open_distributor(ca.directory, som=NoOpSomPolicy(), crl_max_age=3600)
        _, token = add_customer(distributor.engine, dea_number=DEA, name="Bench Pharmacy")
        running = start_in_thread(distributor, ca.directory, bind("127.0.0.1", 0))
        latencies = []
        with DistributorClient(running.url, token, ca_bundle=running.tls.ca_bundle) as client:
            t0 = time.perf_counter()
            for order_id, document, signature in orders:
                t1 = time.perf_counter()
                record = client.submit_order(order_id, document, signature)
                latencies.append((time.perf_counter() - t1) * 1000)
                assert record.status == "accepted", record.reasons
            submit_s = time.perf_counter() - t0
            distributor.fulfil()
            shipped = {c.order_id for c in client.iter_changes() if c.event == "shipped"}
            confirm_s = time.perf_counter() - t0
        running.stop()
        assert len(shipped) == args.orders

        trust = distributor.trust
        t0 = time.perf_counter()
        for _, document, signature in orders:
            assert check_order(trust, document, signature, datetime.now(UTC)).accepted
        verify_s = time.perf_counter() - t0

        openssl = openssl_baseline(work, ca, orders[: args.openssl_orders])
        print(
            json.dumps(
                {
                    "benchmark": "sync",
                    "orders": args.orders,
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                    "signing_on_token_s": round(signing_s, 2),
                    "submit_and_confirm": {
                        "transport": "HTTPS over loopback, one keep-alive connection, sequential",
                        "database": "SQLite",
                        "som": "no-op",
                        "submit_s": round(submit_s, 2),
                        "submit_plus_feed_s": round(confirm_s, 2),
                        "orders_per_s": round(args.orders / confirm_s, 1),
                        "latency_ms": {
                            "p50": pct(latencies, 0.5),
                            "p95": pct(latencies, 0.95),
                            "max": pct(latencies, 1.0),
                        },
                    },
                    "server_verification": {
                        "what": "verify_order incl. chain and CRL check (CRLs cached)",
                        "orders_per_s": round(args.orders / verify_s, 1),
                        "ms_per_order": round(verify_s * 1000 / args.orders, 2),
                    },
                    "openssl_cms_verify_baseline": openssl,
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def openssl_baseline(
    work: Path, ca: TestCa, orders: list[tuple[str, bytes, bytes]]
) -> dict[str, object]:
    exe = shutil.which("openssl")
    if exe is None or not orders:
        return {"skipped": "openssl is not installed"}
    # `openssl cms` has no -CRLfile: the CA file carries the CRLs next to the root.
    bundle = work / "root-and-crls.pem"
    bundle.write_bytes(
        (ca.directory / "root.pem").read_bytes()
        + ca.crl().public_bytes(Encoding.PEM)
        + ca.root_crl().public_bytes(Encoding.PEM)
    )
    times = []
    for i, (_, document, signature) in enumerate(orders):
        doc, sig = work / f"o{i}.json", work / f"o{i}.p7s"
        doc.write_bytes(document)
        sig.write_bytes(signature)
        t0 = time.perf_counter()
        done = subprocess.run(
            [
                exe,
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(sig),
                "-content",
                str(doc),
                "-CAfile",
                str(bundle),
                "-crl_check_all",
                "-purpose",
                "any",
                "-out",
                os.devnull,
            ],
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"openssl cms -verify refused order {i}: {done.stderr.strip()}")
    return {
        "what": "openssl cms -verify -crl_check_all, one process per order",
        "orders": len(orders),
        "orders_per_s": round(len(orders) / sum(times), 1),
        "ms_per_order": round(statistics.mean(times) * 1000, 2),
    }


if __name__ == "__main__":
    main()
