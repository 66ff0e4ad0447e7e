"""Taking in the signed statements a distributor's order record carries.

Each new statement is checked (``verify_statement``) and kept with the verdict: a
verified one as the supplier's word, a rejected one byte for byte with the reason,
so a hostile or broken reply loses nothing and proves nothing. The signer's revocation
data comes from the one revocation source (CRL cache, then the policy-bound fetcher).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.cms_parse import MalformedSignature, parse_signed_data
from csos_desktop.store import Store
from csos_desktop.store.sent_order import sent_order
from csos_desktop.store.statements import StatementKind
from csos_desktop.store.supplier_statements import record_signed_statement
from csos_desktop.sync.client import OrderRecord, SignedStatement
from csos_desktop.sync.statements import OrderFacts, StatementRefused, verify_statement
from csos_desktop.trust.revocation import RevocationData, RevocationSource

log = logging.getLogger(__name__)

#: (statement, media type, signature) kept with an order's rejection (1305.25).
KeptText = tuple[bytes, str, bytes | None]

#: What the pharmacy keeps from an order record on a fulfilment event (1305.22(d), (e)).
FULFILMENT_KINDS = frozenset({StatementKind.SHIPMENT, StatementKind.SUPPLIER_VOID})


@dataclass(frozen=True)
class StatementOutcome:
    """One statement taken in: kept as verified, or kept as rejected with the reason."""

    order_id: str
    kind: StatementKind
    statement_id: int
    rejection: str | None

    @property
    def verified(self) -> bool:
        return self.rejection is None

    def describe(self) -> str:
        verdict = "verified" if self.verified else f"rejected ({self.rejection})"
        return f"{self.kind.value} statement for order {self.order_id} {verdict}"

    def to_json(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "kind": self.kind.value,
            "statement_id": self.statement_id,
            "verification": "verified" if self.verified else "rejected",
            "reason": self.rejection,
        }


def order_facts(store: Store, order_id: str) -> OrderFacts:
    """What the pharmacy itself signed and sent: what a statement must be about (the 850
    for an order sent over AS2)."""
    document, signature = sent_order(store, order_id)
    rec = store.orders.get(order_id)
    return OrderFacts(
        order_id, rec.supplier_dea, document, signature, order_number=rec.order_number
    )


@dataclass(frozen=True)
class StatementTrust:
    """What a statement's signer is checked against: the anchors and where revocation
    data comes from (the CRL cache and the fetcher, under the machine's policy)."""

    roots: Sequence[asn1_x509.Certificate]
    revocation: RevocationSource

    def data_for(self, signature: bytes, now: datetime) -> RevocationData:
        """The signer's path revocation data (none when unreadable: the check says why)."""
        if not self.roots:
            return RevocationData()
        try:
            parsed = parse_signed_data(signature)
        except MalformedSignature:
            return RevocationData()
        return self.revocation.for_path(
            parsed.signer, parsed.other_certificates, self.roots, now=now
        )


def check(
    statement: SignedStatement,
    kind: StatementKind,
    facts: OrderFacts,
    trust: StatementTrust,
    now: datetime,
) -> tuple[str, str | None]:
    """(summary, rejection): the statement's own text when it verifies, else why not."""
    try:
        content = verify_statement(
            statement.document,
            statement.signature,
            kind=kind.value,
            order=facts,
            trust_roots=trust.roots,
            revocation=trust.data_for(statement.signature, now),
            now=now,
        )
    except StatementRefused as exc:
        log.warning("%s", exc.message)
        return "", exc.message
    return str(content.get("text") or kind.value), None


def keep_statements(
    store: Store,
    order_id: str,
    statements: Iterable[SignedStatement],
    *,
    kinds: Collection[StatementKind],
    trust: StatementTrust,
    now: datetime,
) -> list[StatementOutcome]:
    """Check and keep each statement of *kinds* not kept yet; what was kept, in order."""
    facts: OrderFacts | None = None
    out = []
    for st in statements:
        kind = next((k for k in kinds if k.value == st.kind), None)
        if kind is None or store.statements.has_signed(order_id, st.document, st.signature):
            continue
        facts = facts or order_facts(store, order_id)
        summary, rejection = check(st, kind, facts, trust, now)
        sid = record_signed_statement(
            store,
            order_id,
            kind,
            st.document,
            st.signature,
            summary=summary,
            rejection=rejection,
            now=now,
        )
        if sid is not None:
            out.append(StatementOutcome(order_id, kind, sid, rejection))
    return out


def non_acceptance(
    store: Store,
    order_id: str,
    record: OrderRecord,
    codes: str,
    *,
    trust: StatementTrust,
    now: datetime,
) -> tuple[KeptText, StatementOutcome | None]:
    """What to keep with the rejection: the signed statement once verified.

    A signed statement that does not verify is not kept as the supplier's word: it is
    kept as rejected, with the reason (the outcome returned), and the rejection itself
    (the status is a fact) goes with the distributor's unsigned text and a note saying so.
    """
    signed = [s for s in record.signed_statements if s.kind == "non-acceptance"]
    text = (record.statement or codes).encode("utf-8")
    if not signed:
        return (text, "text/plain", None), None
    kind = StatementKind.NON_ACCEPTANCE
    _, rejection = check(signed[-1], kind, order_facts(store, order_id), trust, now)
    if rejection is None:
        return (signed[-1].document, "application/json", signed[-1].signature), None
    sid = record_signed_statement(
        store,
        order_id,
        kind,
        signed[-1].document,
        signed[-1].signature,
        summary="",
        rejection=rejection,
        now=now,
    )
    note = f"{rejection}. The distributor's unsigned statement follows.\n".encode()
    outcome = None if sid is None else StatementOutcome(order_id, kind, sid, rejection)
    return (note + text, "text/plain", None), outcome
