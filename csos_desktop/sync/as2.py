"""Sending one signed order over AS2 and taking its synchronous signed MDN.

The message ID is the caller's (one per order, so a retry is recognised by the
partner); the MDN is verified against the partner's certificate and its MIC against
what was sent before the order counts as delivered.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from csos_desktop.pki.as2_message import As2Party, Mdn, build_message, verify_mdn
from csos_desktop.pki.cms_attached import SIGNED_ORDER_MIME
from csos_desktop.trust.tls import tls_context


@dataclass(frozen=True)
class As2Connection:
    """A distributor reached over AS2 (its settings; keys are files, not CSOS keys)."""

    url: str
    as2_from: str
    as2_to: str
    ours: As2Party
    partner: x509.Certificate
    encrypt: bool = True
    #: Compress (RFC 5402) after signing, before encrypting.
    compress: bool = False
    #: CA certificates for an https URL (None: the system's).
    ca_bundle: Path | None = None


def send_as2(
    conn: As2Connection,
    payload: bytes,
    *,
    message_id: str,
    now: datetime,
    timeout: float = 30,
    payload_type: str = SIGNED_ORDER_MIME,
) -> Mdn:
    """POST the signed payload (an order by default); the verified MDN, or As2Error / OSError."""
    content_type, body, mic = build_message(
        payload,
        conn.ours,
        conn.partner,
        now,
        message_id=message_id,
        encrypt=conn.encrypt,
        compress=conn.compress,
        payload_type=payload_type,
    )
    _, mdn_type, mdn_body = post_as2(
        conn.url,
        body,
        content_type=content_type,
        as2_from=conn.as2_from,
        as2_to=conn.as2_to,
        message_id=message_id,
        ca_bundle=conn.ca_bundle,
        timeout=timeout,
        extra={
            "Disposition-Notification-To": conn.as2_from,
            "Disposition-Notification-Options": "signed-receipt-protocol=required, "
            "pkcs7-signature; signed-receipt-micalg=required, sha-256",
        },
    )
    return verify_mdn(mdn_type, mdn_body, conn.partner, message_id=message_id, sent_mic=mic)


def post_as2(
    url: str,
    body: bytes,
    *,
    content_type: str,
    as2_from: str,
    as2_to: str,
    message_id: str,
    ca_bundle: Path | None,
    timeout: float,
    extra: Mapping[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """POST one AS2 body (a message, or an asynchronous MDN) with its AS2 headers; the
    answer's status, Content-Type and body. TLS trusts *ca_bundle* (or the system's);
    raises OSError / ValueError when it does not get through."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": content_type,
            "AS2-Version": "1.2",
            "AS2-From": as2_from,
            "AS2-To": as2_to,
            "Message-ID": message_id,
            **(extra or {}),
        },
    )
    context = tls_context(ca_bundle) if url.lower().startswith("https:") else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()
