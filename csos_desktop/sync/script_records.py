"""Replies of the network's SCRIPT endpoints (directory, mailbox), read into records."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.order import Address
from csos_desktop.domain.pharmacy import Pharmacy, PharmacyInvalid
from csos_desktop.sync.errors import ProtocolError
from csos_desktop.sync.records import Body


@dataclass(frozen=True)
class Delivered:
    """The network's receipt for one NewRx put in a pharmacy's mailbox."""

    message_id: int
    ncpdp_id: str
    message_sha256: str
    received_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class InboxMessage:
    """One message waiting in this pharmacy's mailbox, its bytes as delivered."""

    message_id: int
    key: str
    message: bytes
    received_at: datetime
    answered: bool


def delivered(b: Body, replayed: bool) -> Delivered:
    return Delivered(
        b.get("message_id", int),
        b.get("ncpdp_id", str),
        b.get("message_sha256", str),
        b.when("received_at"),
        replayed,
    )


def inbox_message(b: Body) -> InboxMessage:
    try:
        message = base64.b64decode(b.get("message", str), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("the network sent a mailbox message that is not base64") from exc
    if hashlib.sha256(message).hexdigest() != b.get("message_sha256", str):
        raise ProtocolError("the network's mailbox message does not match its digest")
    return InboxMessage(
        b.get("message_id", int),
        b.get("key", str),
        message,
        b.when("received_at"),
        b.get("answered", bool),
    )


def directory_entry(b: Body) -> Pharmacy:
    a = Body(b.get("address", dict), "pharmacy address")
    try:
        return Pharmacy(
            b.get("ncpdp_id", str),
            b.get("npi", str),
            b.get("name", str),
            Address(
                a.get("street", str),
                a.get("city", str),
                a.get("state", str),
                a.get("postal_code", str),
            ),
        )
    except PharmacyInvalid as exc:
        raise ProtocolError(f"the network's pharmacy directory has a bad entry: {exc}") from exc
