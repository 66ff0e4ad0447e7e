"""Idempotency keys on signed submissions: one key names one signed document, for good.

A retry with the same key, customer and bytes is a replay and gets the stored answer;
the same key with anything else is 409 ``idempotency-conflict``. Receipts, cancellations
and prescriptions read their document the same way: strictly, with the key its own id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Row

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.distributor.problems import ApiProblem

T = TypeVar("T")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_columns(document: bytes, signature: bytes) -> dict[str, Any]:
    """The columns every kept submission has: its exact bytes and their SHA-256."""
    return {
        "document": document,
        "signature": signature,
        "document_sha256": sha256_hex(document),
        "signature_sha256": sha256_hex(signature),
    }


def same_submission(row: Row[Any], sender_id: int, document: bytes, signature: bytes) -> bool:
    """True when *row* was stored from this sender and exactly these bytes."""
    return (row.document_sha256, row.signature_sha256) == (
        sha256_hex(document),
        sha256_hex(signature),
    ) and row.customer_id == sender_id


def conflict(message: str) -> ApiProblem:
    return ApiProblem(409, "idempotency-conflict", message)


def check_replay(
    row: Row[Any], sender_id: int, document: bytes, signature: bytes, noun: str
) -> None:
    """409 unless *row* holds this sender's exact bytes (a replay of the same *noun*)."""
    if not same_submission(row, sender_id, document, signature):
        raise conflict(
            f"this Idempotency-Key was already used for a different {noun}; give each "
            f"{noun} its own id"
        )


def read_keyed_document(
    document: bytes, key: str, parse: Callable[[dict[str, Any]], T], *, noun: str
) -> T:
    """The document parsed strictly (422 ``<noun>-malformed`` for MalformedDocument or any
    InputError *parse* raises); *key* must be its ``<noun>_id``."""
    try:
        parsed = parse(load_document(document))
    except InputError as exc:  # MalformedDocument, ReceiptInvalid, NoticeInvalid, ...
        raise ApiProblem(422, f"{noun}-malformed", str(exc)) from exc
    own_id = getattr(parsed, f"{noun}_id")
    if own_id != key:
        raise ApiProblem(
            422, "idempotency-key-mismatch", f"the Idempotency-Key must be the {noun} id {own_id}"
        )
    return parsed
