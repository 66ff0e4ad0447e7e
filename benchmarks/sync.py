"""Sending signed orders to the sandbox distributor over loopback TLS, and verifying them.

(a) submit and confirm N signed orders with the real client (one connection, sequential),
    then pull the change feed until every order shows as shipped; ``rejected`` and ``lost``
    (submitted but never shipped) count what went wrong and must be 0;
(b) server-side verification: the distributor's check_order (profile, chain, CRLs cached)
    per order, in process, against the floor in the same run: message digest plus one
    signature check with ``cryptography`` (benchmarks/cms_floor.py), same orders;
(c) reference only: `openssl cms -verify -crl_check_all`, one process per order (mostly
    process start-up, so no ratio is drawn from it).

Signs the orders on a fresh SoftHSM2 token (RSA-2048) first. Prints one JSON object.
Usage: python benchmarks/sync.py [--orders 1000] [--openssl-orders 200] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from cms_floor import signature_holds
from cryptography.hazmat.primitives.serialization import Encoding
from harness import emit, parse_args, percentile, scratch_dir  # benchmarks/ is on sys.path
from signing_token import DEA, bench_home, bench_token, order_documents, trusted_ca

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.customers import add_customer
from csos_desktop.sandbox.distributor.server import open_distributor, start_in_thread
from csos_desktop.sandbox.distributor.som_hook import NoOpSomPolicy
from csos_desktop.sandbox.distributor.verification import TrustMaterial, check_order
from csos_desktop.sandbox.https import bind
from csos_desktop.sync.client import DistributorClient

Signed = list[tuple[str, bytes, bytes]]


def signed_orders(work: Path, ca: TestCa, n: int) -> Signed:
    token = bench_token(work, ca)
    with token.ts:
        signer = token.cms_signer()
        now = datetime.now(UTC).replace(microsecond=0)
        return [(oid, doc, signer.sign(doc, now)) for oid, doc in order_documents(n, now)]


def submit_and_confirm(ca: TestCa, orders: Signed) -> tuple[dict[str, object], TrustMaterial]:
    """Every order sent and followed to shipped; the distributor's trust for (b)."""
    distributor = open_distributor(ca.directory, som=NoOpSomPolicy(), crl_max_age=3600)
    _, token = add_customer(distributor.engine, dea_number=DEA, name="Bench Pharmacy")
    running = start_in_thread(distributor, ca.directory, bind("127.0.0.1", 0))
    latencies, rejected = [], 0
    try:
        with DistributorClient(running.url, token, ca_bundle=running.tls.ca_bundle) as client:
            t0 = time.perf_counter()
            for order_id, document, signature in orders:
                t1 = time.perf_counter()
                record = client.submit_order(order_id, document, signature)
                latencies.append((time.perf_counter() - t1) * 1000)
                rejected += record.status != "accepted"
            submit_s = time.perf_counter() - t0
            distributor.fulfil()
            shipped = {c.order_id for c in client.iter_changes() if c.event == "shipped"}
            confirm_s = time.perf_counter() - t0
    finally:
        running.stop()
    return {
        "transport": "HTTPS over loopback, one keep-alive connection, sequential",
        "database": "SQLite",
        "som": "no-op",
        "rejected": rejected,
        "lost": len({oid for oid, _, _ in orders} - shipped),
        "submit_s": round(submit_s, 2),
        "submit_plus_feed_s": round(confirm_s, 2),
        "orders_per_s": round(len(orders) / confirm_s, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "max": round(max(latencies), 2),
        },
    }, distributor.trust


def server_verification(trust: TrustMaterial, orders: Signed) -> dict[str, object]:
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    refused = sum(not check_order(trust, d, s, now).accepted for _, d, s in orders)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    floor_refused = sum(not signature_holds(d, s) for _, d, s in orders)
    floor_s = time.perf_counter() - t0
    n = len(orders)
    return {
        "what": "check_order: profile, chain to the anchor and CRL check (CRLs cached)",
        "rejected": refused + floor_refused,
        "orders_per_s": round(n / ours_s, 1),
        "ms_per_order": round(ours_s * 1000 / n, 3),
        "baseline_floor_ms_per_order": round(floor_s * 1000 / n, 3),
        "baseline_floor": "message digest + one signature check (cryptography), in process",
        "vs_floor": round(ours_s / floor_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument(
        "--openssl-orders",
        type=int,
        default=200,
        help="one openssl process per order (reference only); fewer samples suffice",
    )
    args = parse_args(ap, {"orders": 10, "openssl_orders": 3})
    work = scratch_dir("csos-bench-sync-")
    bench_home(work)
    try:
        ca = trusted_ca(work)
        t0 = time.perf_counter()
        orders = signed_orders(work, ca, args.orders)
        signing_s = time.perf_counter() - t0
        sent, trust = submit_and_confirm(ca, orders)
        emit(
            {
                "benchmark": "sync",
                "orders": args.orders,
                "signing_on_token_s": round(signing_s, 2),
                "submit_and_confirm": sent,
                "server_verification": server_verification(trust, orders),
                "openssl_per_process_reference": openssl_reference(
                    work, ca, orders[: args.openssl_orders]
                ),
            }
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def openssl_reference(work: Path, ca: TestCa, orders: Signed) -> dict[str, object]:
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
