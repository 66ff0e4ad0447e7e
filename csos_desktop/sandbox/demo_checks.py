"""The demo's checks: SOM on an unusual draft, and a tampered order rejected.

Revocation data comes from the sandbox CA's own distribution points on this
machine, as relying parties fetch it; where an independent tool exists (OpenSSL),
the signed order is verified with it too.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.order import parse_order_input
from csos_desktop.pki.cms_parse import parse_signed_data
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.demo_orders import UsualLine, order_input, year_number
from csos_desktop.services.orders.drafts import import_orders
from csos_desktop.services.rx.ceremony import RevocationCheck, online_revocation
from csos_desktop.services.rx.receive import RevocationLookup
from csos_desktop.som import evaluate, review_from_order
from csos_desktop.som.loaders import bundled_policy, load_history_csv
from csos_desktop.som.policy import Policy
from csos_desktop.store import Store
from csos_desktop.store.orders import OrderRecord
from csos_desktop.trust.anchors import anchor_certificates
from csos_desktop.trust.fetch import FetchRules
from csos_desktop.trust.revocation import RevocationData, RevocationSource


def demo_source(ca: TestCa) -> RevocationSource:
    """The CA's CRLs fetched from its distribution points on this machine."""
    return RevocationSource(
        rules=FetchRules(ca_bundle=ca.directory / "root.pem", allow_private=True)
    )


def demo_rx_check(ca: TestCa) -> RevocationCheck:
    """The prescriber's own certificate checked at the demo CA before the ceremony."""
    return online_revocation(None, ca.directory / "root.pem")


def demo_revocation(ca: TestCa) -> RevocationLookup:
    """``demo_source`` as a lookup for prescriptions."""
    source = demo_source(ca)

    def lookup(
        signer: asn1_x509.Certificate,
        intermediates: Sequence[asn1_x509.Certificate],
        anchors: Sequence[asn1_x509.Certificate],
        now: datetime,
    ) -> RevocationData:
        return source.for_path(signer, intermediates, anchors, now=now)

    return lookup


def _openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    return (done.stderr.strip().splitlines() or ["?"])[-1]


def som_step(
    store: Store,
    home: Path,
    dea: str,
    today: date,
    catalogue: Catalogue,
    usual: list[UsualLine],
    history_csv: Path,
    policy_doc: dict[str, Any],
    say: Callable[[str], None],
) -> OrderRecord:
    """Step 8: a draft of ten times the usual amount, judged by SOM before signing.

    Also writes the files the README's walk-through uses (som-draft.json, order.json).
    """
    draft_input = order_input(
        dea,
        year_number(today, 200),
        [UsualLine(usual[0].product, usual[0].packages * 10)],
    )
    (home / "som-draft.json").write_text(json.dumps(draft_input, indent=2), encoding="utf-8")
    # The README's CLI walk-through signs this one (a usual order, not yet in the store).
    usual_order = order_input(dea, year_number(today, 300), usual[:1])
    (home / "order.json").write_text(json.dumps(usual_order, indent=2), encoding="utf-8")
    [draft] = import_orders(store, draft_input, source="demo")
    som_history = load_history_csv(history_csv, catalogue, today=today, skip_bad_rows=True).history
    assessment = evaluate(
        review_from_order(parse_order_input(draft_input, now=datetime.now(UTC)), catalogue),
        som_history,
        Policy.from_document(policy_doc) if policy_doc else bundled_policy(),
        catalogue.families,
    )
    say(
        f"[8/9] Draft {draft.order_number} orders ten times the usual amount; "
        f"SOM before signing: {assessment.decision.value.upper()}"
    )
    for flag in assessment.flags[:3]:
        say(f"      {flag.explanation}")
    return draft


def tamper_check(
    ca: TestCa, document: bytes, signature: bytes, home: Path, say: Callable[[str], None]
) -> None:
    out = home / "signed"
    out.mkdir()
    (out / "order.json").write_bytes(document)
    (out / "order.p7s").write_bytes(signature)
    roots = anchor_certificates()
    now = datetime.now(UTC)
    parsed = parse_signed_data(signature)
    # The demo's CA serves its CRLs on this machine, which this process allows.
    source = demo_source(ca)
    fetched = source.for_path(parsed.signer, parsed.other_certificates, roots, now=now)
    # Files too, for verifying with --crl (the fetch above is what relying parties do).
    for name, crl in zip(("crl.pem", "root-crl.pem"), (ca.crl(), ca.root_crl()), strict=True):
        (home / name).write_bytes(crl.public_bytes(Encoding.PEM))
    tampered = document.replace(b'"quantity":', b'"quantity":9', 1)
    bad, good = (
        verify_order(
            doc,
            signature,
            trust_roots=roots,
            crls=fetched.crls,
            ocsps=fetched.ocsps,
            now=now,
            require_revocation=True,
        )
        for doc in (tampered, document)
    )
    say(
        f"[9/9] Supplier check with the trust store and {len(fetched.crls)} CRLs fetched from "
        f"the certificates' distribution points (cached in {source.cache.directory}): "
        + ("ACCEPTED" if good.accepted else "REJECTED " + ", ".join(r.value for r in good.reasons))
        + "."
    )
    ossl = _openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        str(out / "order.p7s"),
        "-content",
        str(out / "order.json"),
        "-CAfile",
        str(ca.directory / "root.pem"),
        "-out",
        "/dev/null",
    )
    say(
        f"      openssl cms -verify on a signed order: {ossl}; the same order with one "
        "quantity changed: "
        + (
            "ACCEPTED (unexpected!)"
            if bad.accepted
            else "REJECTED: " + ", ".join(f.reason.value for f in bad.findings)
        )
    )
