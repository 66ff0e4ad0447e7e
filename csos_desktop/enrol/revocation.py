"""Asking the CA to revoke one's own certificate (21 CFR 1311.30(e): within 24 hours of loss
or compromise).

The request is a small canonical JSON document signed on the token (detached
CMS, like an order), so only the key holder can make it. A holder whose token
is lost cannot sign: they must call the CA, which is what the error says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.enrolment import HOLDER_REASONS as HOLDER_REASONS
from csos_desktop.domain.enrolment import parse_holder_reason as parse_holder_reason
from csos_desktop.enrol.errors import CaReplyInvalid
from csos_desktop.enrol.est_client import EstClient
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner

SCHEMA = "csos-revocation-request/1"


@dataclass(frozen=True)
class RevocationReceipt:
    """The CA's acknowledgement."""

    serial_number: int
    reason: str
    revoked_at: str


def revocation_document(identity: SigningIdentity, reason: str, now: datetime) -> bytes:
    """The exact bytes that are signed and sent."""
    return canonical_bytes(
        {
            "schema": SCHEMA,
            "serial_number": str(identity.info.serial_number),
            "issuer": identity.info.issuer,
            "subject_serial_number": identity.info.subject_serial,
            "reason": parse_holder_reason(reason),
            "requested_at": now.replace(microsecond=0).isoformat(),
        }
    )


def request_revocation(
    ts: TokenSession,
    client: EstClient,
    identity: SigningIdentity,
    chain_der: Sequence[bytes],
    reason: str,
    *,
    clock: Clock = utc_now,
) -> RevocationReceipt:
    """Sign the request with the certificate's own key and send it (logged-in session)."""
    now = clock()
    document = revocation_document(identity, reason, now)
    signature = CmsSigner(
        TokenSigner(ts, identity.key_id), identity.certificate_der, chain_der
    ).sign(document, now)
    reply = client.revocation_request(document, signature)
    try:
        serial = int(str(reply["serial_number"]))
        receipt = RevocationReceipt(serial, str(reply["reason"]), str(reply["revoked_at"]))
    except (KeyError, ValueError) as exc:
        raise CaReplyInvalid(
            "The CA's acknowledgement is not readable; check the "
            "certificate's status with `csos cert show`."
        ) from exc
    if serial != identity.info.serial_number:
        raise CaReplyInvalid("The CA acknowledged a different certificate; contact the CA.")
    return receipt
