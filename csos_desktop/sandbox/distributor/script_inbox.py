"""The reference network's side of NCPDP SCRIPT: a pharmacy directory and mailboxes.

A prescriber's system looks the patient's pharmacy up in ``GET /v1/pharmacy-directory``
and sends the signed NewRx to ``POST /v1/script/{ncpdp_id}/inbox`` (idempotent on the
rx id). The network only delivers: it keeps the exact bytes and does not verify; the
pharmacy's application (``csos rx receive``) fetches ``GET /v1/script/{ncpdp_id}/inbox``,
verifies, archives and answers with a SCRIPT Status or Error
(``POST /v1/script/{ncpdp_id}/inbox/{message_id}/answer``).

The sandbox does not bind an NCPDP ID to a customer: any customer of the sandbox may
read any mailbox. A real network authenticates each pharmacy to its own mailbox.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update

from csos_desktop.sandbox.distributor import models as m
from csos_desktop.sandbox.distributor.app import (
    REPLAYED_HEADER,
    CustomerDep,
    _distributor,
    _problems,
)
from csos_desktop.sandbox.distributor.db import script_inbox
from csos_desktop.sandbox.distributor.problems import ApiProblem

#: The sandbox's directory: the demo pharmacy and one other (NCPDP ID, NPI, name, address).
DIRECTORY: tuple[dict[str, Any], ...] = (
    {
        "ncpdp_id": "1234567",
        "npi": "1234567893",
        "name": "Main Street Pharmacy",
        "address": {
            "street": "12 Main Street",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
    },
    {
        "ncpdp_id": "7654321",
        "npi": "1245319599",
        "name": "Lakeside Pharmacy",
        "address": {
            "street": "5 Lake Road",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62703",
        },
    },
)
#: A NewRx is a few KiB; the pharmacy's reader refuses more than 1 MB anyway.
MAX_MESSAGE_B64 = 1_400_000

NcpdpId = Annotated[str, Path(pattern=r"^[0-9]{7}$", description="The pharmacy's NCPDP ID.")]
RxKey = Annotated[
    str,
    Header(alias="Idempotency-Key", pattern=m.ID_PATTERN, description="The prescription's rx id."),
]


class ScriptSubmission(BaseModel):
    """One SCRIPT message, its exact bytes in base64."""

    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=4, max_length=MAX_MESSAGE_B64, pattern=m.BASE64_PATTERN)


class Delivered(BaseModel):
    message_id: int
    ncpdp_id: str
    message_sha256: str
    received_at: datetime


class InboxMessage(Delivered):
    key: str
    message: str
    answered: bool


class Inbox(BaseModel):
    messages: list[InboxMessage]


class DirectoryEntry(BaseModel):
    ncpdp_id: str
    npi: str
    name: str
    address: dict[str, str]


class Answered(BaseModel):
    message_id: int
    answered: bool


class Directory(BaseModel):
    pharmacies: list[DirectoryEntry]


def _known(ncpdp_id: str) -> None:
    if all(p["ncpdp_id"] != ncpdp_id for p in DIRECTORY):
        raise ApiProblem(
            404,
            "pharmacy-not-found",
            f"no pharmacy with NCPDP ID {ncpdp_id} in the directory; choose one from "
            "GET /v1/pharmacy-directory",
        )


def _bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiProblem(422, "invalid-base64", "`message` is not valid base64") from exc


def _delivered(row: Any) -> dict[str, Any]:
    return {
        "message_id": row.message_id,
        "ncpdp_id": row.ncpdp_id,
        "message_sha256": row.message_sha256,
        "received_at": row.received_at.replace(tzinfo=UTC),
    }


router = APIRouter(tags=["script"])


@router.get("/v1/pharmacy-directory", response_model=Directory, responses=_problems(401))
def pharmacy_directory(customer: CustomerDep) -> dict[str, Any]:
    """The pharmacies a prescriber may send a NewRx to (NCPDP ID, NPI, name, address)."""
    return {"pharmacies": list(DIRECTORY)}


@router.post(
    "/v1/script/{ncpdp_id}/inbox",
    response_model=Delivered,
    status_code=201,
    responses={
        200: {"model": Delivered, "description": "Replay."},
        **_problems(401, 404, 409, 422),
    },
)
def deliver(
    ncpdp_id: NcpdpId,
    body: ScriptSubmission,
    key: RxKey,
    customer: CustomerDep,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Deliver a signed NewRx to the pharmacy's mailbox, byte-exact (idempotent on the rx id)."""
    _known(ncpdp_id)
    message = _bytes(body.message)
    sha = hashlib.sha256(message).hexdigest()
    d = _distributor(request)
    where = (script_inbox.c.ncpdp_id == ncpdp_id) & (script_inbox.c.key == key)
    with d._write, d.engine.begin() as conn:
        row = conn.execute(select(script_inbox).where(where)).first()
        if row is None:
            conn.execute(
                insert(script_inbox).values(
                    ncpdp_id=ncpdp_id,
                    key=key,
                    sender_id=customer.id,
                    message=message,
                    message_sha256=sha,
                    received_at=datetime.now(UTC),
                )
            )
            row = conn.execute(select(script_inbox).where(where)).first()
            assert row is not None
            return _delivered(row)
    if (row.sender_id, row.message_sha256) != (customer.id, sha):
        raise ApiProblem(
            409,
            "conflict",
            f"prescription {key} was delivered to {ncpdp_id} already with other bytes",
        )
    response.status_code = 200
    response.headers[REPLAYED_HEADER] = "true"
    return _delivered(row)


@router.get("/v1/script/{ncpdp_id}/inbox", response_model=Inbox, responses=_problems(401, 404, 422))
def inbox(
    ncpdp_id: NcpdpId,
    customer: CustomerDep,
    request: Request,
    after: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The pharmacy's messages after ``message_id`` *after*, oldest first (at most 100)."""
    _known(ncpdp_id)
    d = _distributor(request)
    with d.engine.connect() as conn:
        rows = conn.execute(
            select(script_inbox)
            .where((script_inbox.c.ncpdp_id == ncpdp_id) & (script_inbox.c.message_id > after))
            .order_by(script_inbox.c.message_id)
            .limit(100)
        ).all()
    return {
        "messages": [
            {
                **_delivered(r),
                "key": r.key,
                "message": base64.b64encode(r.message).decode("ascii"),
                "answered": r.answer is not None,
            }
            for r in rows
        ]
    }


@router.post(
    "/v1/script/{ncpdp_id}/inbox/{message_id}/answer",
    response_model=Answered,
    responses=_problems(401, 404, 409, 422),
)
def answer(
    ncpdp_id: NcpdpId,
    message_id: Annotated[int, Path(ge=1)],
    body: ScriptSubmission,
    customer: CustomerDep,
    request: Request,
) -> dict[str, Any]:
    """The pharmacy's SCRIPT Status or Error for one delivered message (once)."""
    _known(ncpdp_id)
    d = _distributor(request)
    where = (script_inbox.c.ncpdp_id == ncpdp_id) & (script_inbox.c.message_id == message_id)
    with d._write, d.engine.begin() as conn:
        row = conn.execute(select(script_inbox.c.answer).where(where)).first()
        if row is None:
            raise ApiProblem(404, "message-not-found", f"no message {message_id} for {ncpdp_id}")
        if row.answer is not None:
            raise ApiProblem(409, "conflict", f"message {message_id} was answered already")
        conn.execute(update(script_inbox).where(where).values(answer=_bytes(body.message)))
    return {"message_id": message_id, "answered": True}
