"""Helpers for signing sample orders with arbitrary certificates on the test tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, load_der_public_key

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import Order, parse_order_input
from csos_desktop.domain.schedule import Schedule
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.token.signer import TokenSigner
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA, Provisioned
from tests.unit.domain.samples import sample_order_input


def sample_order(when: datetime) -> Order:
    """The sample order with an order number for the year it is signed in."""
    data = sample_order_input()
    data["order_number"] = f"{when:%y}X000123"
    return parse_order_input(data, now=when)


def issue_for_token(
    ca: TestCa,
    prov: Provisioned,
    *,
    dea: str = PURCHASER_DEA,
    schedules: frozenset[Schedule] = ALL_SCHEDULES,
    days: int = 365,
    not_before: datetime | None = None,
    postal_address: tuple[str, ...] | None = None,
) -> x509.Certificate:
    """Another certificate for the key already on *prov*'s token; *postal_address*: the
    DEA postal-address extension's lines (default: the test CA's ``TEST ONLY``)."""
    key = load_der_public_key(prov.key.public_key_info)
    subject = x509.Name.from_rfc4514_string("CN=Main Street Pharmacy")
    return ca.issue_for_public_key(
        key,
        subject=subject,
        dea_number=dea,
        schedules=schedules,
        days=days,  # type: ignore[arg-type]
        not_before=not_before,
        **({} if postal_address is None else {"postal_address": postal_address}),
    )


def sign_order(
    prov: Provisioned,
    *,
    certificate_der: bytes | None = None,
    chain: list[bytes] | None = None,
    when: datetime | None = None,
    order: Order | None = None,
) -> tuple[bytes, bytes]:
    """(document, signature) of the sample order signed on the token at *when*."""
    when = when or datetime.now(UTC)
    order = order or sample_order(when)
    document = canonical_bytes(order.with_date_signed(when.date()).to_document())
    with prov.session() as ts:
        signer = CmsSigner(
            TokenSigner(ts, prov.key.key_id), certificate_der or prov.certificate_der, chain or []
        )
        return document, signer.sign(document, when)


def chain_of(ca: TestCa) -> list[bytes]:
    return [ca.issuing_certificate.public_bytes(Encoding.DER)]
