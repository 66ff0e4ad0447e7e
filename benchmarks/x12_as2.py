"""X12 against JSON: the cost of building, signing and verifying N orders each way.

Per order, with one software P-256 key and the sandbox test CA (the token's own signature
is the same for both formats; benchmarks/sign.py measures it):
  json: canonical bytes + detached CMS;            verify_order
  x12:  build_850 + CMS with the 850 encapsulated;  detach + verify_x12_order
plus read_850 alone; then build + sign + send to the sandbox distributor on loopback:
half the orders as JSON over REST, half as signed 850s over AS2 (our S/MIME layer:
pyas2lib cannot be imported here, docs/x12.md), each verified by the distributor.

Prints one JSON object. Usage: python benchmarks/x12_as2.py [--orders 1000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asn1crypto import crl as asn1_crl  # noqa: E402
from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

from csos_desktop.domain.canonical import canonical_bytes  # noqa: E402
from csos_desktop.domain.order import Order, parse_order_input  # noqa: E402
from csos_desktop.domain.schedule import parse_schedule_list  # noqa: E402
from csos_desktop.domain.x12.order850 import build_850, read_850  # noqa: E402
from csos_desktop.pki.cms import CmsSigner  # noqa: E402
from csos_desktop.pki.cms_attached import attach, detach  # noqa: E402
from csos_desktop.pki.supplier_check import verify_order  # noqa: E402
from csos_desktop.pki.x12_check import verify_x12_order  # noqa: E402
from csos_desktop.sandbox.as2_parties import self_signed_party  # noqa: E402
from csos_desktop.sandbox.ca import TestCa  # noqa: E402
from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint, As2Partner  # noqa: E402
from csos_desktop.sandbox.distributor.customers import add_customer  # noqa: E402
from csos_desktop.sandbox.distributor.server import open_distributor, start_in_thread  # noqa: E402
from csos_desktop.sandbox.distributor.som_hook import NoOpSomPolicy  # noqa: E402
from csos_desktop.sandbox.https import bind  # noqa: E402
from csos_desktop.sync.as2 import As2Connection, send_as2  # noqa: E402
from csos_desktop.sync.client import DistributorClient  # noqa: E402

PURCHASER_DEA = "AB1234563"
T = TypeVar("T")


class SoftwareKey:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def send_both(
    ca: TestCa, work: Path, signer: CmsSigner, orders: list[Order], now: datetime
) -> dict[str, object]:
    """Build, sign and send each order to the sandbox distributor on loopback: half as JSON
    over REST (HTTPS), half as a signed 850 over AS2 (signed, encrypted, over HTTPS, a
    signed MDN verified per order). Both sides verify every order fully."""
    half = len(orders) // 2
    distributor = open_distributor(ca.directory, som=NoOpSomPolicy(), crl_max_age=3600)
    customer, token = add_customer(distributor.engine, dea_number=PURCHASER_DEA, name="Bench")
    pharmacy, supplier = self_signed_party("pharmacy", now), self_signed_party("distributor", now)
    distributor.as2 = As2Endpoint(
        supplier, "DISTRIBUTOR", {"PHARMACY": As2Partner(customer, pharmacy.certificate)}
    )
    running = start_in_thread(distributor, ca.directory, bind("127.0.0.1", 0))
    conn = As2Connection(
        f"{running.url}/as2",
        "PHARMACY",
        "DISTRIBUTOR",
        pharmacy,
        supplier.certificate,
        ca_bundle=running.tls.ca_bundle,
    )
    try:
        with DistributorClient(running.url, token, ca_bundle=running.tls.ca_bundle) as client:

            def rest(i: int) -> None:
                doc = canonical_bytes(orders[i].to_document())
                record = client.submit_order(orders[i].order_id, doc, signer.sign(doc, now))
                assert record.status == "accepted", record.reasons

            def as2(i: int) -> None:
                o = orders[half + i]
                interchange = build_850(o, control_number=i + 1, prepared_at=now)
                p7m = attach(signer.sign(interchange, now), interchange)
                assert send_as2(conn, p7m, message_id=f"<{o.order_id}@bench>", now=now).processed

            rest_s, _ = timed(rest, half)
            as2_s, _ = timed(as2, len(orders) - half)
    finally:
        running.stop()
    return {
        "transport": "loopback, sandbox distributor (SQLite), sequential, verified both ends",
        "rest_orders": half,
        "rest_ms_per_order": per_order_ms(rest_s, half),
        "as2_orders": len(orders) - half,
        "as2_ms_per_order": per_order_ms(as2_s, len(orders) - half),
    }


def timed(fn: Callable[[int], T], n: int) -> tuple[float, list[T]]:
    """Total seconds for fn(0..n-1), and what it returned."""
    out: list[T] = []
    t0 = time.perf_counter()
    for i in range(n):
        out.append(fn(i))
    return time.perf_counter() - t0, out


def per_order_ms(seconds: float, n: int) -> float:
    return round(seconds * 1000 / n, 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="50 orders: a few seconds")
    args = ap.parse_args()
    n = 50 if args.quick else args.orders
    work = Path(tempfile.mkdtemp(prefix="csos-bench-x12-"))
    os.environ["CSOS_HOME"] = str(work / "home")  # the sandbox's own files, as benchmarks/sync
    ca = TestCa.init(work / "ca")
    now = datetime.now(UTC).replace(microsecond=0)
    key = SoftwareKey()
    cert = ca.issue_for_public_key(
        key.key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Main Street Pharmacy"),
        dea_number=PURCHASER_DEA,
        schedules=parse_schedule_list("2,2N,3,3N,4,5"),
        not_before=now - timedelta(days=1),
    )
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    signer = CmsSigner(key, cert.public_bytes(Encoding.DER), chain)
    sample = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
    orders: list[Order] = []
    for i in range(n):
        sample["order_number"] = f"{now:%y}X{i:06d}"
        sample["purchaser"]["dea_number"] = PURCHASER_DEA
        orders.append(parse_order_input(sample, now=now).with_date_signed(now.date()))

    def sign_json(i: int) -> tuple[bytes, bytes]:
        doc = canonical_bytes(orders[i].to_document())
        return doc, signer.sign(doc, now)

    def sign_x12(i: int) -> bytes:
        interchange = build_850(orders[i], control_number=i + 1, prepared_at=now)
        return attach(signer.sign(interchange, now), interchange)

    json_s, json_signed = timed(sign_json, n)
    x12_s, x12_signed = timed(sign_x12, n)
    interchanges = [detach(b)[0] for b in x12_signed]
    read_s, _ = timed(lambda i: read_850(interchanges[i]), n)

    roots = [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]
    crls = [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(now=now), ca.root_crl(now=now))
    ]
    trust: dict[str, Any] = {"trust_roots": roots, "crls": crls, "now": now + timedelta(minutes=1)}

    def verify_json(i: int) -> bool:
        doc, sig = json_signed[i]
        return bool(verify_order(doc, sig, **trust).accepted)

    def verify_x12(i: int) -> bool:
        content, sig = detach(x12_signed[i])
        return bool(verify_x12_order(content, sig, **trust).accepted)

    vj_s, vj = timed(verify_json, n)
    vx_s, vx = timed(verify_x12, n)
    assert all(vj) and all(vx), "every order must verify in both formats"
    # New order ids (parse_order_input makes one each time) for the distributor.
    fresh = [replace(o, order_id=parse_order_input(sample, now=now).order_id) for o in orders]
    send = send_both(ca, work, signer, fresh, now)
    sizes_json = [len(d) + len(s) for d, s in json_signed]
    sizes_x12 = [len(b) for b in x12_signed]
    print(
        json.dumps(
            {
                "benchmark": "x12_as2",
                "orders": n,
                "python": platform.python_version(),
                "key": "software P-256 (token cost excluded; see benchmarks/sign.py)",
                "build_sign_ms_per_order": {
                    "json": per_order_ms(json_s, n),
                    "x12": per_order_ms(x12_s, n),
                },
                "read_850_ms_per_order": per_order_ms(read_s, n),
                "verify_ms_per_order": {
                    "json": per_order_ms(vj_s, n),
                    "x12": per_order_ms(vx_s, n),
                },
                "bytes_per_order_median": {
                    "json_document_plus_p7s": statistics.median(sizes_json),
                    "x12_p7m": statistics.median(sizes_x12),
                },
                "build_sign_send": send,
            }
        )
    )


if __name__ == "__main__":
    main()
