"""The distributor's tables (SQLAlchemy Core): SQLite by default, PostgreSQL by URL.

Signed bytes go into binary columns untouched (1305.22(d), 1305.27): nothing
here parses, trims or re-encodes a document or a signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.exc import ArgumentError, OperationalError

from csos_desktop.domain.errors import InputError

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dea_number", String(9), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("customer_class", String(40), nullable=False, default="retail"),
    # SHA-256 of a 256-bit random token: enough against guessing, and the
    # database never holds a usable credential.
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(100), primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("order_number", String(20)),
    Column("status", String(20), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("verification", Text, nullable=False),  # OrderVerification.to_json()
    Column("som", Text),
    Column("statement", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("date_signed", Date),
    Column("balance_due_by", Date),
    Column("last_fill_at", DateTime(timezone=True)),  # last fulfilment pass
    Column("closed", Integer, nullable=False, default=0),  # 1: nothing more will ship
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(100), ForeignKey("orders.order_id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("ndc", String(11), nullable=False),
    Column("item_name", Text, nullable=False),
    Column("schedule", String(3)),
    Column("package_size", Integer, nullable=False),
    Column("quantity_ordered", Integer, nullable=False),
    Column("quantity_shipped", Integer, nullable=False, default=0),
    Column("quantity_voided", Integer, nullable=False, default=0),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(100), ForeignKey("orders.order_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("containers", Integer, nullable=False),
    Column("ship_date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_shipments_order", "order_id"),
    Index("ix_shipments_day", "ship_date"),
)

#: Statements the distributor signed (non-acceptance, shipment, supplier void), byte-exact.
signed_statements = Table(
    "signed_statements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(100), ForeignKey("orders.order_id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Index("ix_signed_statements_order", "order_id"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", String(100), primary_key=True),
    Column("order_id", String(100), ForeignKey("orders.order_id"), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("lines", Text, nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Index("ix_receipts_order", "order_id"),
)

#: The sandbox's pharmacy inbox (docs/epcs.md "Transmission"): every signed prescription
#: received, accepted or rejected, byte-exact with the verdict; kept two years (1311.305).
pharmacy_prescriptions = Table(
    "pharmacy_prescriptions",
    metadata,
    Column("rx_id", String(100), primary_key=True),
    Column("pharmacy_id", String(100), nullable=False),
    Column("sender_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("verification", Text, nullable=False),  # reasons, warnings, signer
    Column("practitioner_dea", String(9)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("retain_until", Date, nullable=False),
    Index("ix_pharmacy_prescriptions_pharmacy", "pharmacy_id", "received_at"),
)

#: NCPDP SCRIPT messages waiting in a pharmacy's mailbox (sandbox/distributor/script_inbox.py):
#: the network delivers, byte-exact; the pharmacy's own application verifies and archives.
script_inbox = Table(
    "script_inbox",
    metadata,
    Column("message_id", Integer, primary_key=True, autoincrement=True),
    Column("ncpdp_id", String(7), nullable=False),
    Column("key", String(100), nullable=False),
    Column("sender_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("message", LargeBinary, nullable=False),
    Column("message_sha256", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("answer", LargeBinary),
    Index("ix_script_inbox_key", "ncpdp_id", "key", unique=True),
)

#: Signed cancellations from purchasers (1305.28), byte-exact; the packages they take off
#: an order are also counted in ``order_lines.quantity_voided`` (they will not ship).
cancellations = Table(
    "cancellations",
    metadata,
    Column("cancellation_id", String(100), primary_key=True),
    Column("order_id", String(100), ForeignKey("orders.order_id"), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("lines", Text, nullable=False),  # [{"line_no", "quantity_cancelled"}]
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Index("ix_cancellations_order", "order_id"),
)

#: The purchaser's signed lost-order statements (1305.26), byte-exact. The original need
#: not be here: a statement usually comes for an order that never arrived, and an original
#: arriving after it is not accepted (matched on order id, or purchaser and order number).
lost_order_statements = Table(
    "lost_order_statements",
    metadata,
    Column("statement_id", String(100), primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("order_number", String(20), nullable=False),
    Column("purchaser_dea", String(9), nullable=False),
    Column("replacement_order_number", String(20), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("original_status", String(20)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_lost_order_statements_order", "order_id"),
    Index("ix_lost_order_statements_number", "purchaser_dea", "order_number"),
)

changes = Table(
    "changes",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("event", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_changes_customer_seq", "customer_id", "seq"),
)

#: 1301.74(b): an intercepted order is released only with the reviewer's due diligence,
#: kept with who and when (the distributor's own record; never in the customer's feed).
som_reviews = Table(
    "som_reviews",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("order_id", String(100), ForeignKey("orders.order_id"), nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("due_diligence", Text, nullable=False),
    Column("decision", String(20), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

history = Table(
    "history",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("purchaser_dea", String(9), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("ndc", String(11), nullable=False),
    Column("drug_code", Integer, nullable=False),
    Column("dosage_units", BigInteger, nullable=False),
    Column("variant", Text, nullable=False, default=""),
    Index("ix_history_purchaser", "purchaser_dea", "id"),
)


def default_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'distributor.sqlite'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the status pollers read while an order is written; the busy
    # timeout covers a second process (the CLI adding a customer).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_database(url: str) -> Engine:
    """An engine with the schema in place; raises InputError with what to fix."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        metadata.create_all(engine)
    except ArgumentError as exc:
        raise InputError(
            f"the database URL is not usable ({exc}); use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from exc
    except OperationalError as exc:
        # The driver's message can echo the URL; say only where it failed.
        raise InputError(
            f"cannot open the distributor database: {exc.orig.__class__.__name__}"
            f" ({str(exc.orig).splitlines()[0] if exc.orig else ''})"
        ) from exc
    return engine
