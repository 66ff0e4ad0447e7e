"""Per-order signing cost on a PKCS#11 token, side by side with two baselines in one run.

(a) raw C_Sign of a SHA-256 DigestInfo on the token (the floor: the token's own work),
(b) our full CMS SignedData (CmsSigner.sign over the canonical order bytes),
(c) pyHanko's PKCS#11 signer producing detached CMS over the same bytes, same token, every
    call on one event loop (as an asyncio program would call it: no loop per call).
Also reported: (d) the whole service step (pre-PIN checks held per batch, date,
canonicalise, sign, self-check), with the certificate chaining to a configured anchor.

Makes its own SoftHSM2 token and test CA in a temp dir. Prints one JSON object.
Usage: python benchmarks/sign.py [--orders 1000] [--pyhanko-orders 200] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import platform
import statistics
from datetime import UTC, datetime
from importlib.metadata import version

from asn1crypto import x509 as asn1_x509
from harness import (  # benchmarks/ is on sys.path
    emit,
    parse_args,
    per_call_ms,
    percentile,
    scratch_dir,
)
from pkcs11 import Mechanism
from pyhanko.sign.pkcs11 import PKCS11Signer
from signing_token import bench_home, bench_token, order_documents, sample_order, trusted_ca

from csos_desktop.domain.order import parse_order_input
from csos_desktop.services.orders.order_signer import OrderSigningSession
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.token.keys import find_private_key

DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument(
        "--pyhanko-orders",
        type=int,
        default=200,
        help="pyHanko is ~20x slower; its median needs fewer samples",
    )
    args = parse_args(ap, {"orders": 20, "pyhanko_orders": 5})
    work = scratch_dir("csos-bench-")
    bench_home(work)
    ca = trusted_ca(work)
    token = bench_token(work, ca)
    now = datetime.now(UTC)
    docs = [doc for _, doc in order_documents(args.orders, now)]

    key = find_private_key(token.ts, token.key.key_id)
    raw = per_call_ms(
        lambda i: key.sign(
            DIGEST_INFO + hashlib.sha256(docs[i]).digest(), mechanism=Mechanism.RSA_PKCS
        ),
        args.orders,
    )
    cms_signer = token.cms_signer()
    ours = per_call_ms(lambda i: cms_signer.sign(docs[i], now), args.orders)

    service = OrderSigningSession(
        SigningSession(token.ts, token.identity(), token.chain, SigningPurpose.ORDER)
    )
    sample = sample_order()
    sample["order_number"] = f"{now:%y}X000001"
    order = parse_order_input(sample, now=now)
    whole = per_call_ms(lambda i: service.sign(order), args.orders)

    ph = PKCS11Signer(
        token.ts.session,
        key_id=token.key.key_id,
        cert_id=token.key.key_id,
        other_certs_to_pull=(),
        ca_chain=[asn1_x509.Certificate.load(c) for c in token.chain],
    )
    loop = asyncio.new_event_loop()

    def pyhanko_sign(i: int) -> object:
        return loop.run_until_complete(ph.async_sign_general_data(docs[i], "sha256", detached=True))

    try:
        pyhanko_sign(0)  # warm-up: its first call fetches the certificate and key
        theirs = per_call_ms(pyhanko_sign, min(args.pyhanko_orders, args.orders))
    finally:
        loop.close()
    token.ts.close()

    a, b, c = (statistics.median(x) for x in (raw, ours, theirs))
    emit(
        {
            "benchmark": "sign",
            "token": "SoftHSM2 (RSA-2048)",
            "orders": args.orders,
            "pyhanko_orders": len(theirs),
            "raw_sign_ms": round(a, 4),
            "cms_sign_ms": round(b, 4),
            "pyhanko_sign_ms": round(c, 4),
            "overhead_ms": round(b - a, 4),
            "ratio_vs_pyhanko": round(b / c, 4),
            "service_sign_ms": round(statistics.median(whole), 4),
            "cms_sign_p95_ms": round(percentile(ours, 0.95), 4),
            "pyhanko_version": version("pyhanko"),
            "python": platform.python_version(),
            "targets": {"overhead_ms_max": 0.5, "ratio_vs_pyhanko_max": 0.2},
        }
    )


if __name__ == "__main__":
    main()
