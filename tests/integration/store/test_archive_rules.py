"""An archive holds orders to the same rules as `csos order verify`, not only their chains.

The signer of an order must be its purchaser (DEA number hash), hold the schedules the
order's lines need and carry the CSOS signing profile; a receipt is the purchaser's too.
A certificate from the trusted CA issued to another registrant chains perfectly well:
only these rules catch it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.verify import Verdict, verify_archive
from tests.conftest import ALL_SCHEDULES
from tests.integration.crafted import AttributeSigner, SoftwareSigner, chain, crafted_certificate
from tests.integration.test_no_traceback import csos, truncated_key_usage_signature
from tests.unit.store.archive_forgery import (
    forged_signature,
    read_members,
    reseal,
    reseal_with,
    roots,
)

#: Another registrant's DEA number (valid check digit), not the bundle's purchaser.
OTHER_REGISTRANT = "BM7654329"

KeyAndCertificate = tuple[ec.EllipticCurvePrivateKey, bytes, tuple[bytes, ...]]


def signer_from(ca: TestCa, dea: str, schedules: str = "1,2,2N,3,3N,4,5") -> KeyAndCertificate:
    """A key and a certificate *ca* issued for *dea*, with the issuing CA as chain."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_for_public_key(
        key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Elsewhere Pharmacy"),
        dea_number=dea,
        schedules=parse_schedule_list(schedules) if schedules else ALL_SCHEDULES,
    )
    chain = (ca.issuing_certificate.public_bytes(Encoding.DER),)
    return key, cert.public_bytes(Encoding.DER), chain


def resign(bundle: Path, name: str, signer: KeyAndCertificate) -> bytes:
    """Sign member *name*'s document again with *signer*, now; re-hash and re-seal.

    Returns the new signature. The manifest is sealed by the same trusted certificate,
    so nothing but the order rules can object.
    """
    key, cert, chain = signer
    items = read_members(bundle)
    now = datetime.now(UTC)
    items[name] = forged_signature(
        items[name[: -len(".p7s")] + ".json"], key, cert, chain, signing_time=now
    )
    reseal(bundle, items, key, cert, chain, signing_time=now)
    return items[name]


def _signatures(bundle: Path, *, orders: bool) -> list[str]:
    """The orders' signatures (``orders/<id>/<id>.p7s``), or the others under orders/."""
    out = []
    for name in sorted(read_members(bundle)):
        parts = name.split("/")
        signature = len(parts) == 3 and parts[0] == "orders" and parts[2].endswith(".p7s")
        if signature and (parts[2] == f"{parts[1]}.p7s") is orders:
            out.append(name)
    return out


def _order_signature(bundle: Path) -> str:
    return _signatures(bundle, orders=True)[0]


def test_an_order_signed_by_another_registrant_is_a_problem(bundle: Path, test_ca: TestCa) -> None:
    """Before: `order verify` said dea-number-mismatch and the archive said INTACT."""
    name = _order_signature(bundle)
    signature = resign(bundle, name, signer_from(test_ca, OTHER_REGISTRANT))
    document = read_members(bundle)[name[: -len(".p7s")] + ".json"]
    trust = roots(test_ca)
    alone = verify_order(document, signature, trust_roots=trust.roots, now=datetime.now(UTC))
    assert [r.value for r in alone.reasons] == ["dea-number-mismatch"]

    report = verify_archive(bundle, trust)
    assert report.verdict is Verdict.PROBLEMS
    [problem] = report.problems
    assert problem.startswith(f"{name}: ") and "dea-number-mismatch" in problem
    assert "AB1234563" in problem  # the purchaser the signer should have been


def test_an_order_beyond_the_signers_schedules_is_a_problem(bundle: Path, test_ca: TestCa) -> None:
    name = _order_signature(bundle)
    resign(bundle, name, signer_from(test_ca, "AB1234563", schedules="5"))
    [problem] = verify_archive(bundle, roots(test_ca)).problems
    assert problem.startswith(f"{name}: ") and "schedule-not-authorised" in problem


def test_a_receipt_signed_by_another_registrant_is_a_problem(bundle: Path, test_ca: TestCa) -> None:
    [receipt] = _signatures(bundle, orders=False)
    resign(bundle, receipt, signer_from(test_ca, OTHER_REGISTRANT))
    problems = verify_archive(bundle, roots(test_ca)).problems
    assert len(problems) == 1 and problems[0].startswith(f"{receipt}: "), problems
    assert "dea-number-mismatch" in problems[0]


@pytest.mark.parametrize("trusted", [True, False], ids=["anchors", "integrity-only"])
def test_the_purchaser_rule_holds_without_anchors_too(
    bundle: Path, test_ca: TestCa, trusted: bool
) -> None:
    """The DEA number hash needs no anchor: integrity-only is no excuse to skip it."""
    name = _order_signature(bundle)
    resign(bundle, name, signer_from(test_ca, OTHER_REGISTRANT))
    report = verify_archive(bundle, roots(test_ca) if trusted else None)
    assert report.verdict is Verdict.PROBLEMS
    assert any("dea-number-mismatch" in p for p in report.problems), report.problems


def test_a_truncated_key_usage_in_an_archived_statement_is_a_problem(
    bundle: Path, test_ca: TestCa, tmp_path: Path
) -> None:
    items = read_members(bundle)
    order = next(n for n in sorted(items) if n.endswith(".p7s") and n.startswith("orders/"))
    folder = order.rpartition("/")[0]
    oid = folder.rpartition("/")[2]
    statement = canonical_bytes({"schema": "csos-statement/1", "order_id": oid})
    items[f"{folder}/{oid}.statement-1.json"] = statement
    items[f"{folder}/{oid}.statement-1.p7s"] = truncated_key_usage_signature(test_ca, statement)
    soft = SoftwareSigner()
    sealer = AttributeSigner(soft, crafted_certificate(test_ca, soft), chain(test_ca), lambda a: a)
    reseal_with(bundle, items, lambda manifest: sealer.sign(manifest, datetime.now(UTC)))
    root = tmp_path / "root.pem"
    root.write_bytes((test_ca.directory / "root.pem").read_bytes())
    done = csos(tmp_path / "home", "archive", "verify", str(bundle), "--trust", str(root))
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr[-3000:]
    assert f"PROBLEM: {folder}/{oid}.statement-1.p7s: " in done.stdout
