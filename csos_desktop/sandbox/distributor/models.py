"""Wire models of the distributor API (Pydantic): the OpenAPI spec is generated from these."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
#: Base of every problem ``type`` URI; the slug after it is also sent as ``code``.
PROBLEM_BASE = "urn:csos-desktop:problem:"
#: Order ids are the purchaser's UUIDs; other printable ids are accepted for tests.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
#: Upper bounds in base64 characters; a CSOS order and its CMS are a few KiB.
MAX_DOCUMENT_B64 = 400_000
MAX_SIGNATURE_B64 = 100_000
#: Standard, padded base64 (RFC 4648 section 4).
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` repeats the slug of ``type`` for easy matching."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[f"{PROBLEM_BASE}idempotency-conflict"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = None
    code: str
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Per-field problems of a request that failed validation."
    )


class SignedSubmission(_Model):
    """A signed document: its exact bytes and its detached CMS signature, both base64."""

    document: str = Field(
        min_length=4,
        max_length=MAX_DOCUMENT_B64,
        pattern=BASE64_PATTERN,
        description="Base64 of the RFC 8785 document bytes exactly as signed.",
    )
    signature: str = Field(
        min_length=4,
        max_length=MAX_SIGNATURE_B64,
        pattern=BASE64_PATTERN,
        description="Base64 of the DER CMS SignedData (detached, SHA-256).",
    )


class OrderStatusCode(StrEnum):
    """Where the distributor has the order (the client's states of the same names)."""

    ACCEPTED = "accepted"
    INTERCEPTED = "intercepted"
    REJECTED = "rejected"
    SHIPPED_PARTIAL = "shipped-partial"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class ReasonModel(_Model):
    """One reason an order was not accepted (codes of the supplier verification)."""

    code: str = Field(examples=["digest-mismatch"])
    message: str


class Shipment(_Model):
    """Containers of one line shipped on one day (21 CFR 1305.22(d))."""

    containers: int = Field(ge=1)
    ship_date: date


class LineStatus(_Model):
    line_no: int
    ndc: str
    item_name: str
    quantity_ordered: int
    quantity_shipped: int
    quantity_voided: int = Field(
        description="Packages that will not ship: voided by the supplier (60 days passed, "
        "1305.22(e), or its own void, 1305.28) or cancelled by the purchaser."
    )
    quantity_cancelled: int = Field(
        default=0,
        description="The part of `quantity_voided` the purchaser cancelled (1305.28).",
    )
    shipments: list[Shipment]


class SomFlagModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    severity: str
    explanation: str


class SomOutcome(_Model):
    """What the distributor's suspicious-order monitoring decided for this order."""

    policy: str = Field(description="Name of the SOM policy that judged the order.")
    decision: str = Field(examples=["ok", "warn", "intercept"])
    explanation: str
    flags: list[SomFlagModel]


class SignedStatementModel(_Model):
    """A statement the distributor signed about this order (``csos-statement/1``)."""

    kind: str = Field(examples=["non-acceptance", "shipment", "supplier-void"])
    document: str = Field(description="Base64 of the canonical JSON statement, as signed.")
    signature: str = Field(
        description="Base64 of its detached CMS SignedData, by the distributor's CSOS "
        "certificate (its DEA number is the order's supplier's)."
    )


class OrderStatus(_Model):
    """The distributor's record of one order."""

    order_id: str
    order_number: str | None
    status: OrderStatusCode
    received_at: datetime
    date_signed: date | None
    balance_due_by: date | None = Field(
        description="Last day a balance may ship: 60 days after signing (1305.22(e))."
    )
    document_sha256: str
    signature_sha256: str
    reasons: list[ReasonModel]
    statement: str | None = Field(
        description="Statement of non-acceptance for a rejected order (21 CFR 1305.25)."
    )
    warnings: list[str]
    som: SomOutcome | None
    lines: list[LineStatus]
    receipts: list[str] = Field(description="Ids of signed receipts accepted for this order.")
    signed_statements: list[SignedStatementModel] = Field(
        default_factory=list,
        description="Statements of non-acceptance (1305.25), shipment and supplier void, "
        "signed by the distributor, oldest first.",
    )
    x12: list[str] = Field(
        default_factory=list,
        description="The same answers as X12 004010 interchanges, base64: the 855 "
        "(encapsulated in the distributor's CMS signature) and an 856 per ship date.",
    )


class Change(_Model):
    """One event in the customer's change feed."""

    cursor: str
    order_id: str
    event: str = Field(
        examples=[
            "received",
            "shipped",
            "balance-voided",
            "voided",
            "cancelled",
            "receipt-accepted",
        ]
    )
    status: OrderStatusCode
    at: datetime


class ChangesPage(_Model):
    changes: list[Change]
    next_cursor: str = Field(description="Pass as `cursor` to get later changes.")
    has_more: bool


class ReceiptResult(_Model):
    """A signed receipt the distributor accepted and keeps byte-exact."""

    receipt_id: str
    order_id: str
    accepted_at: datetime
    document_sha256: str
    lines: list[dict[str, int | str]]


class CancelledLineModel(_Model):
    line_no: int = Field(ge=1)
    quantity_cancelled: int = Field(ge=1)


class CancellationResult(_Model):
    """A signed cancellation the distributor accepted and keeps byte-exact (1305.28)."""

    cancellation_id: str
    order_id: str
    accepted_at: datetime
    document_sha256: str
    lines: list[CancelledLineModel]
    order_status: OrderStatusCode = Field(description="The order's status after cancelling.")


class LostOrderStatementResult(_Model):
    """The purchaser's signed lost-order statement, kept byte-exact (1305.26)."""

    statement_id: str
    order_id: str = Field(description="The original order the statement declares lost.")
    order_number: str
    replacement_order_number: str
    received_at: datetime
    document_sha256: str
    original_status: str | None = Field(
        description="The original's status when the statement arrived, or null when the "
        "distributor had not received it. An original received later is not accepted "
        "(`lost-order-statement-received`); an open one is voided."
    )


class PrescriptionStatusCode(StrEnum):
    """The pharmacy inbox's verdict on a signed prescription."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class PharmacyPrescription(_Model):
    """The sandbox pharmacy's record of one signed prescription (kept byte-exact)."""

    rx_id: str
    pharmacy_id: str
    status: PrescriptionStatusCode
    received_at: datetime
    retain_until: date = Field(description="Kept at least until this day (two years).")
    document_sha256: str
    signature_sha256: str
    practitioner_dea_number: str | None = Field(
        description="The prescription's practitioner DEA number, when the document reads."
    )
    signing_time: datetime | None
    revocation_checked: bool
    reasons: list[ReasonModel] = Field(
        description="Why a rejected prescription may not be dispensed (verification codes)."
    )
    warnings: list[str]


class HistoryRow(_Model):
    """One order line in the SOM history (the columns of the client's history CSV)."""

    order_id: str
    order_date: date
    purchaser_dea: str
    ndc: str
    drug_code: int
    dosage_units: int


class HistoryPage(_Model):
    rows: list[HistoryRow]
    next_cursor: str
    has_more: bool


class DrugFamilyModel(_Model):
    drug_code: int
    name: str
    schedule: str


class ProductModel(_Model):
    ndc: str = Field(description="11-digit NDC.")
    item_name: str
    strength: str
    dosage_form: str
    package_size: int
    drug_code: int = Field(description="DEA drug code (base code) of the product's family.")
    schedule: str


class CatalogueDocument(_Model):
    """The product catalogue (``csos-catalogue/1``)."""

    schema_: str = Field(alias="schema")
    catalogue_id: str
    version: str
    synthetic: bool
    note: str
    families: list[DrugFamilyModel]
    products: list[ProductModel]


class SomPolicyDocument(BaseModel):
    """The distributor's SOM thresholds (``csos-som-policy/1``); the client applies the same."""

    model_config = ConfigDict(extra="allow")

    schema_: str = Field(alias="schema")
    policy_id: str
    version: str
    note: str | None = None


class Health(_Model):
    status: str
    time: datetime
