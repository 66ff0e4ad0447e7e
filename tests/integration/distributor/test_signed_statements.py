"""Shipment and void statements: verified and kept as signed, or kept as rejected.

A real sandbox distributor over TLS on 127.0.0.1 signs its statements with its own
CSOS certificate; the client checks each before keeping it as the supplier's word. A
hostile distributor (a statement signed by another key, about another order, with its
bytes changed, or dated in the future) gets its statement kept as rejected, with the
reason, while the fulfilment it reported is still recorded: nothing is lost.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.types import ASGIApp

from csos_desktop.cli import main
from csos_desktop.domain.order_state import OrderState
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, open_store
from csos_desktop.store.statements import Statement, StatementKind, Verification
from csos_desktop.sync.statements import OrderFacts, StatementRefused, verify_statement
from csos_desktop.sync.worker import CursorFile, SyncReport, SyncWorker
from csos_desktop.trust.revocation import RevocationSource
from tests.integration.distributor.conftest import StartSandbox, ca_crls, ca_revocation
from tests.integration.distributor.hostile import Mutate, hostile_statements
from tests.integration.test_openssl_accepts import openssl_verify
from tests.unit.store.archive_forgery import read_members, reseal_with, roots
from tests.unit.store.helpers import (
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    order_input,
    software_identity,
)

SANDBOX_DEA = "RK0452716"


def _roots(ca: TestCa) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]


def _ship_and_void(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    ca: TestCa,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    *,
    configured_roots: bool = False,
    revocation: RevocationSource | None = None,
) -> tuple[Store, str, list[SyncReport]]:
    """One order signed, sent, half shipped, then its balance voided after 60 days.

    Statements are checked against *ca*'s root, or with *configured_roots* against
    whatever the home's trust store holds (what `csos sync` does); their revocation
    data comes from *revocation* (default: *ca*'s current CRLs).
    """
    revocation = revocation or ca_crls(ca, tmp_path / "crl")
    sandbox = start_sandbox(mode=FulfilmentMode.PARTIAL, wrap=wrap)
    store = open_store(tmp_path / "data" / "csos.db")  # where `csos` finds it
    [rec] = svc.import_orders(store, [order_input()], source="test")
    identity, cms = software_identity(ca)
    assert svc.sign_orders(
        store, [rec.order_id], SoftwareOrderSigner(identity, cms, Clock())
    ).signed
    later = datetime.now(UTC) + timedelta(days=61)
    reports = []
    with sandbox.client() as client:
        cursor = CursorFile(tmp_path / "cursor.json", "s")
        roots = None if configured_roots else _roots(ca)
        worker = functools.partial(
            SyncWorker,
            store,
            client,
            cursor,
            statement_roots=roots,
            statement_revocation=revocation,
        )
        reports.append(worker().run_once())
        sandbox.running.distributor.fulfil()
        reports.append(worker().run_once())
        sandbox.running.distributor.fulfil(later)
        reports.append(worker(clock=lambda: later).run_once())
    return store, rec.order_id, reports


def test_shipment_and_void_statements_are_verified_and_kept_as_signed(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    store, oid, reports = _ship_and_void(start_sandbox, tmp_path, test_ca)
    with store:
        statements = store.statements.for_order(oid)
        events = [e.event for e in store.audit.entries(order_id=oid)]
        order = store.signed.get(oid)
    signed = [s for s in statements if s.signature is not None]
    assert [s.kind for s in signed] == [StatementKind.SHIPMENT, StatementKind.SUPPLIER_VOID]
    assert all(s.verification is Verification.VERIFIED for s in signed)
    assert events.count("order.statement-verified") == 2
    shipped = json.loads(signed[0].body)
    assert shipped["order_id"] == oid and shipped["supplier"]["dea_number"] == SANDBOX_DEA
    assert [x["line_no"] for x in shipped["lines"]] == [1, 3]
    assert json.loads(order.document)["order_id"] == oid
    # The sync output names each statement and its verdict.
    taken = [o for r in reports for o in r.statements]
    assert [(o.kind, o.verified) for o in taken] == [
        (StatementKind.SHIPMENT, True),
        (StatementKind.SUPPLIER_VOID, True),
    ]
    assert reports[1].to_json()["statements"][0]["verification"] == "verified"
    assert taken[0].describe() == f"shipment statement for order {oid} verified"
    shown = _order_show(tmp_path, oid, "--json")
    assert [(s["kind"], s["verification"]) for s in shown["statements"] if s["signed"]] == [
        ("shipment", "verified"),
        ("supplier-void", "verified"),
    ]
    # A tool we did not write agrees: OpenSSL verifies the kept bytes against the root.
    for st in signed:
        assert st.signature is not None
        result = openssl_verify(tmp_path, test_ca, st.body, st.signature)
        assert result.returncode == 0, result.stderr


def _resign(
    ca: TestCa, dea: str, edit: Callable[[dict[str, object]], None], at: datetime
) -> Mutate:
    """A statement re-signed by a certificate for *dea* under the trusted CA, after *edit*."""
    return _resign_with(software_identity(ca, dea)[1], edit, at)


def _resign_with(cms: CmsSigner, edit: Callable[[dict[str, object]], None], at: datetime) -> Mutate:
    """A statement re-signed with *cms*, after *edit*."""

    def mutate(document: bytes, _signature: bytes) -> tuple[bytes, bytes]:
        content = json.loads(document)
        edit(content)
        changed = json.dumps(content, separators=(",", ":"), sort_keys=True).encode()
        return changed, cms.sign(changed, at)

    return mutate


def _cases(ca: TestCa) -> dict[str, tuple[Mutate, str]]:
    now = datetime.now(UTC)
    return {
        "signed by another key": (
            _resign(ca, "BJ6125341", lambda _c: None, now),
            "its certificate is not that registrant's",
        ),
        "about another order": (
            _resign(ca, SANDBOX_DEA, lambda c: c.update(order_number="26X999999"), now),
            "its order_number is",
        ),
        "tampered bytes": (
            lambda doc, sig: (doc.replace(b'"text":"', b'"text":"Not shipped. '), sig),
            "not the one that was signed",
        ),
        "dated in the future": (
            _resign(ca, SANDBOX_DEA, lambda _c: None, now + timedelta(days=200)),
            "later than now",
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["signed by another key", "about another order", "tampered bytes", "dated in the future"],
)
def test_a_hostile_statement_is_kept_as_rejected_and_nothing_is_lost(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, case: str
) -> None:
    mutate, why = _cases(test_ca)[case]
    served: list[bytes] = []
    store, oid, reports = _ship_and_void(
        start_sandbox, tmp_path, test_ca, hostile_statements(_served(mutate, served))
    )
    signed, events, state = _kept_as_rejected(store, oid, served, why)
    assert events.count("order.statement-rejected") == len(signed)
    assert state is OrderState.VOID or state.value.startswith("shipped")
    assert any(not o.verified for r in reports for o in r.statements)
    assert "(shipment, " in _order_show(tmp_path, oid) and "REJECTED" in _order_show(tmp_path, oid)


def _served(mutate: Mutate, into: list[bytes]) -> Mutate:
    """*mutate*, noting each statement served as it went out."""

    def recording(doc: bytes, sig: bytes) -> tuple[bytes, bytes]:
        out = mutate(doc, sig)
        into.append(out[0])
        return out

    return recording


def _kept_as_rejected(
    store: Store, oid: str, served: list[bytes], why: str
) -> tuple[list[Statement], list[str], OrderState]:
    """Every signed statement is kept byte for byte as rejected for *why*; the fulfilment
    the distributor reported is still recorded: nothing is lost. The signed statements,
    the order's audit events and its state are returned."""
    with store:
        statements = store.statements.for_order(oid)
        events = [e.event for e in store.audit.entries(order_id=oid)]
        reported = store.fulfilment.reported(oid)
        state = store.orders.get(oid).state
    signed = [s for s in statements if s.signature is not None]
    assert signed and all(s.verification is Verification.REJECTED for s in signed)
    assert not [s for s in statements if s.verified]
    for st in signed:
        assert st.rejection is not None and why in st.rejection, st.rejection
        assert st.body in served
    assert "order.statement-verified" not in events
    assert reported and sum(r.shipped for r in reported.values()) > 0
    return signed, events, state


def test_a_statement_whose_signers_revocation_cannot_be_established_is_kept_as_rejected(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    """The distributor's own statements, untouched, while its CA's CRL cannot be had (the
    cache holds only the root's, the distribution point does not resolve): before, they
    were kept as the supplier's word."""
    served: list[bytes] = []
    store, oid, reports = _ship_and_void(
        start_sandbox,
        tmp_path,
        test_ca,
        hostile_statements(_served(lambda doc, sig: (doc, sig), served)),
        revocation=ca_crls(test_ca, tmp_path / "crl", issuing=False),
    )
    _kept_as_rejected(store, oid, served, "revocation-unknown")
    assert any("revocation-unknown" in (o.rejection or "") for r in reports for o in r.statements)


def test_a_statement_from_a_revoked_distributor_certificate_is_kept_as_rejected(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    """Signed with the supplier's DEA number under the trusted CA, by a certificate the CA
    revoked an hour before: before, it was kept as the supplier's word."""
    identity, cms = software_identity(test_ca, SANDBOX_DEA)
    serial = x509.load_der_x509_certificate(identity.certificate_der).serial_number
    now = datetime.now(UTC)
    test_ca.revoke(serial, reason="keyCompromise", when=now - timedelta(hours=1))
    served: list[bytes] = []
    store, oid, _ = _ship_and_void(
        start_sandbox,
        tmp_path,
        test_ca,
        hostile_statements(_served(_resign_with(cms, lambda _c: None, now), served)),
    )
    _kept_as_rejected(store, oid, served, "certificate-revoked")


def _order_show(home: Path, order_id: str, *args: str) -> Any:
    result = CliRunner().invoke(
        main, ["order", "show", order_id, *args], env={"CSOS_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if args else result.output


@dataclass(frozen=True)
class _Archived:
    bundle: Path
    exporter: SoftwareDocumentSigner
    items: dict[str, bytes]
    statements: list[dict[str, Any]]  # as record.json lists them
    at: datetime  # after the void (signed 61 days on): when the bundle is verified


def _archive(store: Store, oid: str, tmp_path: Path, ca: TestCa) -> _Archived:
    """The day's archive bundle, as exported with the pharmacist's key."""
    identity, cms = software_identity(ca)
    exporter = SoftwareDocumentSigner(identity, cms, Clock())
    today = datetime.now(UTC).date()
    with store:
        bundle = export_archive(store, today, today, tmp_path / "bundle.zip", signer=exporter).path
    items = read_members(bundle)
    record = json.loads(items[f"orders/{oid}/{oid}.record.json"])
    later = datetime.now(UTC) + timedelta(days=61, minutes=1)
    return _Archived(bundle, exporter, items, record["statements"], later)


def test_the_archive_carries_the_signed_statements_and_verify_ties_them_to_the_order(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    store, oid, _ = _ship_and_void(start_sandbox, tmp_path, test_ca)
    archived = _archive(store, oid, tmp_path, test_ca)
    report = verify_archive(archived.bundle, roots(test_ca, at=archived.at), now=archived.at)
    assert report.verdict is Verdict.INTACT, report.problems
    assert report.statements_checked == 2
    items = archived.items
    signed = [s for s in archived.statements if s["signed"]]
    assert [(s["kind"], s["verification"]) for s in signed] == [
        ("shipment", "verified"),
        ("supplier-void", "verified"),
    ]
    # A statement about another order, validly signed under the trusted CA with the
    # supplier's DEA number and re-sealed by someone holding the exporter's key: its
    # signature and chain hold, the tie to this order does not.
    name = f"orders/{oid}/{signed[0]['signature_file']}"
    other = _resign(
        test_ca,
        SANDBOX_DEA,
        lambda c: c.update(order_number="26X999999"),
        datetime.now(UTC),
    )(items[name[: -len(".p7s")] + ".json"], items[name])
    items[name[: -len(".p7s")] + ".json"], items[name] = other
    reseal_with(archived.bundle, items, archived.exporter.sign)
    problems = verify_archive(
        archived.bundle, roots(test_ca, at=archived.at), now=archived.at
    ).problems
    assert len(problems) == 1 and problems[0].startswith(name), problems
    assert "its order_number is '26X999999'" in problems[0]


def test_a_rejected_statement_is_archived_as_evidence_not_as_a_signature(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    mutate, _ = _cases(test_ca)["tampered bytes"]
    store, oid, _ = _ship_and_void(start_sandbox, tmp_path, test_ca, hostile_statements(mutate))
    archived = _archive(store, oid, tmp_path, test_ca)
    report = verify_archive(archived.bundle, roots(test_ca, at=archived.at), now=archived.at)
    assert report.verdict is Verdict.INTACT, report.problems
    assert report.statements_checked == 0
    rejected = [s for s in archived.statements if s["verification"] == "rejected"]
    assert rejected and all("digest differs" in s["rejection"] for s in rejected)
    for st in rejected:  # kept byte for byte, under names no verifier takes for a signature
        assert st["file"].endswith(".rejected.bin")
        assert st["signature_file"].endswith(".rejected.cms")
        assert f"orders/{oid}/{st['signature_file']}" in archived.items


@pytest.fixture(scope="module")
def impostor_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    """Anyone's own CA, its root self-signed like every root: not in the trust store."""
    return TestCa.init(tmp_path_factory.mktemp("impostor") / "ca", name_prefix="Impostor")


def test_a_statement_no_configured_anchor_vouches_for_is_kept_as_rejected(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa, impostor_ca: TestCa
) -> None:
    """Before: `csos sync` checked statements against the roots in chain.pem, and with none
    (a .p12 import writes none) marked a self-made signer with the supplier's DEA number
    hash as the supplier's signed word."""
    assert not (tmp_path / "data" / "chain.pem").exists()
    mutate = _resign(impostor_ca, SANDBOX_DEA, lambda _c: None, datetime.now(UTC))
    store, oid, _ = _ship_and_void(
        start_sandbox, tmp_path, test_ca, hostile_statements(mutate), configured_roots=True
    )
    with store:
        signed = [s for s in store.statements.for_order(oid) if s.signature is not None]
    assert signed and all(s.verification is Verification.REJECTED for s in signed)
    assert all(s.rejection and "not trusted" in s.rejection for s in signed)


def test_without_any_anchor_no_statement_is_verified(test_ca: TestCa) -> None:
    """Integrity and the DEA number hash are not enough: nobody vouched for the signer."""
    _, cms = software_identity(test_ca, SANDBOX_DEA)
    order_doc, order_sig = b'{"order": 1}', b"order signature"
    content = {
        "schema": "csos-statement/1",
        "kind": "shipment",
        "order_id": "o-1",
        "order_document_sha256": hashlib.sha256(order_doc).hexdigest(),
        "order_signature_sha256": hashlib.sha256(order_sig).hexdigest(),
        "supplier": {"dea_number": SANDBOX_DEA},
    }
    document = json.dumps(content, separators=(",", ":"), sort_keys=True).encode()
    facts = OrderFacts("o-1", SANDBOX_DEA, order_doc, order_sig)
    now = datetime.now(UTC)
    signature = cms.sign(document, now)
    crls = ca_revocation(test_ca)
    check = functools.partial(
        verify_statement, document, signature, kind="shipment", order=facts, now=now
    )
    assert check(trust_roots=_roots(test_ca), revocation=crls)["order_id"] == "o-1"
    with pytest.raises(StatementRefused, match="no trust anchor"):
        check(trust_roots=[], revocation=crls)
