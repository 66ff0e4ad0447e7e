"""The pre-PIN stage per order: what the legal workflow adds before a signature.

Prints one JSON object, per order, p50/p95 in milliseconds over ``--repeats`` runs:

- ``baseline_checks`` (the baseline): the signing session's ``pre_pin_checks`` stage
  without the legal workflow's additions (certificate validity, purchaser DEA number,
  schedules);
- ``default_checks``: the stage now, with the verifier's document rules added;
- ``pre_sign``: that stage plus ``services.orders.pre_sign.store_checks`` — the power-of-attorney
  rule against a registry of ``--holders`` attorneys, and SOM against ``--history`` cached
  history lines of the purchaser — what each draft goes through before the PIN.

Usage: python benchmarks/pre_sign.py [--repeats 300] [--history 20000] [--holders 50] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from harness import emit, parse_args, scratch_dir  # benchmarks/ is on sys.path
from signing_token import bench_home, trusted_ca

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import pre_sign
from csos_desktop.services.orders.poa import fingerprint
from csos_desktop.services.signing import SigningFacts, SigningPurpose, default_checks
from csos_desktop.services.signing.checks import (
    PrePinChecks,
    certificate_in_validity,
    order_matches_certificate,
)
from csos_desktop.services.som.gate import SomJustificationRequired
from csos_desktop.store import open_store
from csos_desktop.store.history import HistoryRow
from csos_desktop.token.identity import SigningIdentity

DEA = "AB1234563"


def _identity(ca: TestCa) -> SigningIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_for_public_key(
        key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Main Street Pharmacy"),
        dea_number=DEA,
        schedules=parse_schedule_list("2,2N,3,3N,4,5"),
        days=365,
        not_before=datetime.now(UTC) - timedelta(days=1),
    )
    der = cert.public_bytes(Encoding.DER)
    return SigningIdentity(b"\x01", der, read_csos_profile(asn1_x509.Certificate.load(der)), "b")


def _times(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        # A flagged order is refused at the end of the same work.
        with contextlib.suppress(SomJustificationRequired):
            fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return {
        "p50_ms": round(statistics.median(out), 3),
        "p95_ms": round(out[int(0.95 * (len(out) - 1))], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--history", type=int, default=20_000)
    ap.add_argument("--holders", type=int, default=50)
    args = parse_args(ap, {"repeats": 5, "history": 300, "holders": 3})
    tmp = scratch_dir("csos-bench-")
    bench_home(tmp)
    ca = trusted_ca(tmp)
    ident = _identity(ca)
    catalogue = bundled_catalogue()
    products = [p for p in catalogue.products.values() if p.schedule is not None][:12]
    now = datetime.now(UTC).replace(microsecond=0)
    with open_store(tmp / "csos.db") as store:
        with store.transaction():
            store.history.upsert(
                (
                    HistoryRow(
                        f"h{i // 3}",
                        i % 3 + 1,
                        date.today() - timedelta(days=1 + (i // 3) % 700),
                        DEA,
                        products[i % len(products)].ndc.digits,
                        products[i % len(products)].drug_code,
                        products[i % len(products)].package_size,
                        products[i % len(products)].variant,
                    )
                    for i in range(args.history)
                ),
                source="distributor",
                fetched_at=now,
            )
            store.poa.record_registrant(DEA, "Jane Registrant", ident.certificate_der, now)
            for n in range(args.holders):
                store.poa.insert_grant(
                    poa_id=f"poa-{n}",
                    dea_number=DEA,
                    holder_name=f"Attorney {n}",
                    granted_on=now.date().isoformat(),
                    granted_by_sha256=fingerprint(ident.certificate_der),
                    certificates=[f"{n:064x}"],
                    document=b"{}",
                    signature=f"sig{n}".encode(),
                )
        p = products[0]
        order = parse_order_input(
            {
                "schema": "csos-order/1",
                "order_number": f"{now:%y}X000001",
                "purchaser": {
                    "name": "Main Street Pharmacy",
                    "address": {
                        "street": "1 Main St",
                        "city": "Springfield",
                        "state": "IL",
                        "postal_code": "62701",
                    },
                    "dea_number": DEA,
                },
                "supplier": {
                    "name": "Keystone Wholesale",
                    "address": {
                        "street": "4500 Parkway",
                        "city": "Columbus",
                        "state": "OH",
                        "postal_code": "43219",
                    },
                    "dea_number": "RK0452716",
                },
                "lines": [
                    {
                        "line_no": 1,
                        "ndc": p.ndc.digits,
                        "item_name": p.item_name,
                        "strength": p.strength,
                        "dosage_form": p.dosage_form,
                        "package_size": p.package_size,
                        "quantity": 1,
                        "schedule": p.schedule.value if p.schedule else None,
                    }
                ],
            },
            now=now,
        )
        chain = (ca.issuing_certificate.public_bytes(Encoding.DER),)
        facts = SigningFacts(SigningPurpose.ORDER, ident, chain, None, now)
        before = PrePinChecks((certificate_in_validity,), (order_matches_certificate,))
        checks = default_checks()

        def full() -> None:
            checks.run(facts, [order])
            pre_sign.store_checks(store, order, ident, now, stored=False)

        result = {
            "benchmark": "pre_sign",
            "repeats": args.repeats,
            "history_lines": args.history,
            "poa_holders": args.holders,
            "baseline_checks": _times(lambda: before.run(facts, [order]), args.repeats),
            "default_checks": _times(lambda: checks.run(facts, [order]), args.repeats),
            "pre_sign": _times(full, args.repeats),
        }
    emit(result)


if __name__ == "__main__":
    main()
