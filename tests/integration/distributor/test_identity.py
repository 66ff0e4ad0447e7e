"""The distributor fills only orders addressed to it, and signs what it says.

Statements of non-acceptance, shipment and supplier void are signed with the
distributor's own CSOS certificate; the client verifies a statement before keeping it
as the supplier's word, and OpenSSL verifies the kept bytes too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.types import ASGIApp

from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import open_store
from csos_desktop.store.statements import Verification
from csos_desktop.sync.client import SignedStatement
from csos_desktop.sync.statements import OrderFacts, StatementRefused, verify_statement
from csos_desktop.sync.worker import CursorFile, SyncWorker
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import (
    Sandbox,
    StartSandbox,
    ca_crls,
    ca_revocation,
    signed,
)
from tests.integration.distributor.hostile import hostile_statements
from tests.integration.test_openssl_accepts import openssl_verify
from tests.unit.domain.samples import sample_order_input
from tests.unit.store.helpers import Clock, SoftwareOrderSigner, order_input, software_identity

OTHER_DEA = "BJ6125341"
SANDBOX_DEA = "RK0452716"


def _roots(ca: TestCa) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]


def _order_for(supplier: dict[str, Any]) -> Any:
    now = datetime.now(UTC)
    data = sample_order_input()
    data["order_number"] = f"{now:%y}X000123"
    data["supplier"] = {**data["supplier"], **supplier}
    return parse_order_input(data, now=now)


def _statement(record: Any, kind: str) -> SignedStatement:
    [found] = [s for s in record.signed_statements if s.kind == kind]
    return found


def _submit_for_another_supplier(
    sandbox: Sandbox, token: Provisioned
) -> tuple[Any, bytes, bytes, str]:
    document, signature, key = signed(
        token, sandbox.ca, order=_order_for({"dea_number": OTHER_DEA})
    )
    with sandbox.client() as client:
        return client.submit_order(key, document, signature), document, signature, key


def test_an_order_for_another_supplier_is_refused_with_a_signed_statement(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    record, document, signature, key = _submit_for_another_supplier(sandbox, rsa_token)
    assert record.status == "rejected"
    assert [r.code for r in record.reasons] == ["wrong-supplier"]
    assert OTHER_DEA in record.reasons[0].message and record.statement
    st = _statement(record, "non-acceptance")
    content = verify_statement(
        st.document,
        st.signature,
        kind="non-acceptance",
        order=OrderFacts(key, OTHER_DEA, document, signature),
        trust_roots=_roots(sandbox.ca),
        revocation=ca_revocation(sandbox.ca),
        now=datetime.now(UTC),
    )
    assert content["supplier"]["dea_number"] == SANDBOX_DEA  # the one that refused it
    assert content["reasons"] == [{"code": "wrong-supplier", "message": record.reasons[0].message}]


def test_an_order_naming_another_supplier_is_refused_even_with_our_dea_number(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(
        rsa_token, sandbox.ca, order=_order_for({"name": "Acme Drug Distributors"})
    )
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
    assert [r.code for r in record.reasons] == ["wrong-supplier"]
    assert "Acme Drug Distributors" in record.reasons[0].message


def test_names_match_without_case_or_punctuation(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    order = _order_for({"name": "KEYSTONE WHOLESALE DRUG CO"})
    document, signature, key = signed(rsa_token, sandbox.ca, order=order)
    with sandbox.client() as client:
        assert client.submit_order(key, document, signature).status == "accepted"


def test_shipments_and_voids_are_signed_statements(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.PARTIAL)
    document, signature, key = signed(rsa_token, sandbox.ca)
    facts = OrderFacts(key, SANDBOX_DEA, document, signature)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        sandbox.running.distributor.fulfil()
        sandbox.running.distributor.fulfil(datetime.now(UTC) + timedelta(days=61))
        record = client.order(key)
    now = datetime.now(UTC) + timedelta(days=61)
    shipped = verify_statement(
        *_pair(_statement(record, "shipment")),
        kind="shipment",
        order=facts,
        trust_roots=_roots(sandbox.ca),
        revocation=ca_revocation(sandbox.ca),
        now=now,
    )
    assert [x["line_no"] for x in shipped["lines"]] == [1, 3]  # PARTIAL: half of each line
    voided = verify_statement(
        *_pair(_statement(record, "supplier-void")),
        kind="supplier-void",
        order=facts,
        trust_roots=_roots(sandbox.ca),
        revocation=ca_revocation(sandbox.ca),
        now=now,
    )
    assert sum(x["quantity_voided"] for x in voided["lines"]) > 0


def _pair(st: SignedStatement) -> tuple[bytes, bytes]:
    return st.document, st.signature


def test_a_statement_about_another_order_or_by_another_signer_is_refused(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    record, document, signature, key = _submit_for_another_supplier(sandbox, rsa_token)
    st = _statement(record, "non-acceptance")
    cases = {
        "another order": OrderFacts(key, OTHER_DEA, document + b" ", signature),
        # (never the same id: one uuid in 16 ends in "0")
        "another order id": OrderFacts(
            key[:-1] + ("1" if key.endswith("0") else "0"), OTHER_DEA, document, signature
        ),
    }
    for name, facts in cases.items():
        try:
            verify_statement(
                st.document,
                st.signature,
                kind="non-acceptance",
                order=facts,
                trust_roots=_roots(sandbox.ca),
                revocation=ca_revocation(sandbox.ca),
                now=datetime.now(UTC),
            )
        except StatementRefused:
            continue
        raise AssertionError(f"a statement about {name} was accepted")


#: The statement served differs from the one the distributor signed.
_tamper_statements = hostile_statements(
    lambda doc, sig: (doc.replace(b"wrong-supplier", b"our-mistake!!!"), sig)
)


def _sync_one_wrong_supplier_order(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    ca: TestCa,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> tuple[Any, str]:
    sandbox = start_sandbox(wrap=wrap)
    store = open_store(tmp_path / "csos.db")
    data = order_input()
    data["supplier"]["dea_number"] = OTHER_DEA
    [rec] = svc.import_orders(store, [data], source="test")
    identity, cms = software_identity(ca)
    assert svc.sign_orders(
        store, [rec.order_id], SoftwareOrderSigner(identity, cms, Clock())
    ).signed
    with sandbox.client() as client:
        SyncWorker(
            store,
            client,
            CursorFile(tmp_path / "cursor.json", "s"),
            statement_roots=_roots(ca),
            statement_revocation=ca_crls(ca, tmp_path / "crl"),
        ).run_once()
    return store, rec.order_id


def test_the_client_keeps_a_verified_statement_with_its_signature(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    store, oid = _sync_one_wrong_supplier_order(start_sandbox, tmp_path, test_ca)
    with store:
        assert store.orders.get(oid).state is OrderState.REJECTED
        [kept] = store.statements.for_order(oid)
        order_bytes = store.signed.get(oid).document
    assert kept.media_type == "application/json" and kept.signature is not None
    assert json.loads(kept.body)["order_document_sha256"] == hashlib.sha256(order_bytes).hexdigest()
    # A tool we did not write agrees: OpenSSL verifies the kept bytes against the root.
    result = openssl_verify(tmp_path, test_ca, kept.body, kept.signature)
    assert result.returncode == 0, result.stderr


def test_the_client_does_not_keep_a_statement_that_fails_verification(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    store, oid = _sync_one_wrong_supplier_order(
        start_sandbox, tmp_path, test_ca, wrap=_tamper_statements
    )
    with store:
        assert store.orders.get(oid).state is OrderState.REJECTED  # the status is a fact
        rejected, kept = store.statements.for_order(oid)
        events = [e.event for e in store.audit.entries(order_id=oid)]
    # Nothing is lost: the signed bytes as received, marked rejected with the reason ...
    assert rejected.verification is Verification.REJECTED and rejected.signature is not None
    assert rejected.rejection is not None and "digest" in rejected.rejection
    assert b"our-mistake!!!" in rejected.body
    # ... and the rejection itself, with the distributor's text, never as its signed word.
    assert kept.signature is None and kept.media_type == "text/plain"
    assert b"was rejected" in kept.body and b"digest" in kept.body
    assert "order.statement-rejected" in events
