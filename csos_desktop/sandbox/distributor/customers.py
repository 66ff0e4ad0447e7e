"""Customers and their bearer tokens (only a hash of each token is stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.distributor.db import customers


class CustomerExists(InputError):
    """A customer with this DEA number is already registered."""


@dataclass(frozen=True)
class Customer:
    id: int
    dea_number: str
    name: str
    customer_class: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_customer(
    engine: Engine, *, dea_number: str, name: str, customer_class: str = "retail"
) -> tuple[Customer, str]:
    """Register a customer; returns it and its bearer token (shown once, never stored)."""
    dea = parse_dea_number(dea_number).value
    if not name.strip():
        raise InputError("a customer needs a name (the registrant's business name)")
    token = secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            new_id = conn.execute(
                insert(customers)
                .values(
                    dea_number=dea,
                    name=name.strip(),
                    customer_class=customer_class,
                    token_sha256=token_hash(token),
                    created_at=datetime.now(UTC),
                )
                .returning(customers.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise CustomerExists(f"a customer with DEA number {dea} already exists") from exc
    return Customer(int(new_id), dea, name.strip(), customer_class), token


def customer_by_token(engine: Engine, token: str) -> Customer | None:
    """The customer holding this bearer token, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(customers).where(customers.c.token_sha256 == token_hash(token))
        ).first()
    if row is None:
        return None
    return Customer(row.id, row.dea_number, row.name, row.customer_class)


def customer_by_dea(engine: Engine, dea_number: str) -> Customer | None:
    """The customer registered with this DEA number, or None."""
    dea = parse_dea_number(dea_number).value
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.dea_number == dea)).first()
    if row is None:
        return None
    return Customer(row.id, row.dea_number, row.name, row.customer_class)
