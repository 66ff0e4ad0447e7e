"""Per-order signing cost on a PKCS#11 token, side by side with two baselines.

(a) raw C_Sign of a SHA-256 DigestInfo on the token (the floor: the token's own work),
(b) our full CMS SignedData (CmsSigner.sign over the canonical order bytes),
(c) pyHanko's PKCS#11 signer producing detached CMS over the same bytes, same token.
Also reported: (d) the whole service step (date, canonicalise, sign, self-check).

Makes its own SoftHSM2 token and test CA in a temp dir. Prints one JSON object.
Usage: python benchmarks/sign.py [--orders 1000] [--pyhanko-orders 200]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402
from pkcs11 import Mechanism  # noqa: E402

from csos_desktop.domain.canonical import canonical_bytes  # noqa: E402
from csos_desktop.domain.order import parse_order_input  # noqa: E402
from csos_desktop.domain.schedule import parse_schedule_list  # noqa: E402
from csos_desktop.enrol.flow import new_key_and_csr  # noqa: E402
from csos_desktop.pki.cms import CmsSigner  # noqa: E402
from csos_desktop.sandbox.ca import TestCa  # noqa: E402
from csos_desktop.sandbox.softhsm import create_token, token_by_label  # noqa: E402
from csos_desktop.services.orders.order_signer import OrderSigningSession  # noqa: E402
from csos_desktop.services.signing import SigningPurpose, SigningSession  # noqa: E402
from csos_desktop.token.certs import read_certificates  # noqa: E402
from csos_desktop.token.identity import signing_identities  # noqa: E402
from csos_desktop.token.keys import KeyAlgorithm, find_private_key  # noqa: E402
from csos_desktop.token.provisioning import install_certificate  # noqa: E402
from csos_desktop.token.session import TokenSession  # noqa: E402
from csos_desktop.token.signer import TokenSigner  # noqa: E402

PIN = "246810"
DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def per_call_ms(fn: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def orders(n: int, now: datetime) -> list[bytes]:
    sample = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
    docs = []
    for i in range(n):
        sample["order_number"] = f"{now:%y}X{i:06d}"
        order = parse_order_input(sample, now=now).with_date_signed(now.date())
        docs.append(canonical_bytes(order.to_document()))
    return docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument(
        "--pyhanko-orders",
        type=int,
        default=200,
        help="pyHanko is ~20x slower; its median needs fewer samples",
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csos-bench-"))
    os.environ["CSOS_HOME"] = str(work / "home")
    hsm = create_token(work / "hsm", "bench", PIN)
    ca = TestCa.init(work / "ca")
    ts = TokenSession(token_by_label(hsm.module, "bench"), rw=True)
    ts.login(PIN)
    pending = new_key_and_csr(ts, KeyAlgorithm.RSA2048, {"common_name": "Bench Pharmacy"}, "csos")
    cert = ca.issue(
        pending.csr_der, dea_number="AB1234563", schedules=parse_schedule_list("2,2N,3,3N,4,5")
    )
    cert_der = cert.public_bytes(Encoding.DER)
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    install_certificate(ts, pending.key, cert_der, chain)
    now = datetime.now(UTC)
    docs = orders(args.orders, now)

    key = find_private_key(ts, pending.key.key_id)
    raw = per_call_ms(
        lambda i: key.sign(
            DIGEST_INFO + hashlib.sha256(docs[i]).digest(), mechanism=Mechanism.RSA_PKCS
        ),
        args.orders,
    )
    cms_signer = CmsSigner(TokenSigner(ts, pending.key.key_id), cert_der, chain)
    ours = per_call_ms(lambda i: cms_signer.sign(docs[i], now), args.orders)

    identity = signing_identities(read_certificates(ts))[0]
    service = OrderSigningSession(
        SigningSession(ts, identity, chain, SigningPurpose.ORDER, clock=lambda: now)
    )
    sample = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
    sample["order_number"] = f"{now:%y}X000001"
    order = parse_order_input(sample, now=now)
    whole = per_call_ms(lambda i: service.sign(order), args.orders)

    from importlib.metadata import version

    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.pkcs11 import PKCS11Signer

    ph = PKCS11Signer(
        ts.session,
        key_id=pending.key.key_id,
        cert_id=pending.key.key_id,
        other_certs_to_pull=(),
        ca_chain=[asn1_x509.Certificate.load(c) for c in chain],
    )

    def pyhanko_sign(i: int) -> object:
        return asyncio.run(ph.async_sign_general_data(docs[i], "sha256", detached=True))

    pyhanko_sign(0)  # warm-up: its first call fetches the certificate and key
    theirs = per_call_ms(pyhanko_sign, min(args.pyhanko_orders, args.orders))
    ts.close()

    a, b, c = (statistics.median(x) for x in (raw, ours, theirs))
    print(
        json.dumps(
            {
                "benchmark": "sign",
                "token": "SoftHSM2 (RSA-2048)",
                "orders": args.orders,
                "raw_sign_ms": round(a, 4),
                "cms_sign_ms": round(b, 4),
                "pyhanko_sign_ms": round(c, 4),
                "overhead_ms": round(b - a, 4),
                "ratio_vs_pyhanko": round(b / c, 4),
                "service_sign_ms": round(statistics.median(whole), 4),
                "cms_sign_p95_ms": round(sorted(ours)[int(0.95 * len(ours)) - 1], 4),
                "pyhanko_version": version("pyhanko"),
                "python": platform.python_version(),
                "targets": {"overhead_ms_max": 0.5, "ratio_vs_pyhanko_max": 0.2},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
