"""Statements the distributor signs, so a pharmacy can prove what its supplier said.

A statement of non-acceptance (21 CFR 1305.25), a shipment notice (what shipped per line
and when, 1305.22(d)) and a supplier void of an unfilled balance (1305.22(e)) are each a
canonical JSON document (``csos-statement/1``) naming the order by its id, number and
the SHA-256 of the exact order bytes and signature, signed (detached CMS, the same
profile as orders) with the distributor's own CSOS certificate, which carries its DEA
number. The sandbox keeps that key in software under ``DIR/distributor/signing/``
(a real distributor's lives on its token or HSM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection, insert, select

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.schedule import Schedule
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.db import signed_statements
from csos_desktop.sandbox.distributor.identity import DistributorIdentity
from csos_desktop.sandbox.https import write_private_key

STATEMENT_SCHEMA = "csos-statement/1"
_KEY, _CERT = "statement-key.pem", "statement-cert.pem"


class StatementKind(StrEnum):
    NON_ACCEPTANCE = "non-acceptance"
    SHIPMENT = "shipment"
    SUPPLIER_VOID = "supplier-void"


@dataclass(frozen=True)
class OrderRef:
    """What a statement says about the order it is about."""

    order_id: str
    order_number: str | None
    document_sha256: str
    signature_sha256: str


class _SoftwareKey:
    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def sign_digest(self, digest: bytes) -> bytes:
        return self._key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


class StatementSigner:
    """Signs statements with the distributor's key and CSOS certificate."""

    def __init__(self, cms: CmsSigner, identity: DistributorIdentity) -> None:
        self._cms, self.identity = cms, identity

    @classmethod
    def open(cls, ca: TestCa, directory: Path, identity: DistributorIdentity) -> StatementSigner:
        """The signer in *directory*; a key and certificate are made when missing or stale."""
        directory.mkdir(parents=True, exist_ok=True)
        key_path, cert_path = directory / _KEY, directory / _CERT
        key = cert = None
        if key_path.exists() and cert_path.exists():
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = loaded if isinstance(loaded, ec.EllipticCurvePrivateKey) else None
            if key is None or not _current(cert, identity):
                key = cert = None
        if key is None or cert is None:
            key = ec.generate_private_key(ec.SECP256R1())
            cert = ca.issue_for_public_key(
                key.public_key(),
                subject=x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                        x509.NameAttribute(NameOID.COMMON_NAME, identity.name),
                    ]
                ),
                dea_number=identity.dea_number,
                schedules=frozenset(Schedule),
            )
            write_private_key(key_path, key)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        chain = [ca.issuing_certificate.public_bytes(serialization.Encoding.DER)]
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(CmsSigner(_SoftwareKey(key), der, chain), identity)

    def record(
        self,
        conn: Connection,
        kind: StatementKind,
        order: OrderRef,
        *,
        issued_at: datetime,
        text: str,
        reasons: Sequence[dict[str, str]] = (),
        lines: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Sign a statement and keep it with the order (in the caller's transaction)."""
        document = canonical_bytes(
            {
                "schema": STATEMENT_SCHEMA,
                "kind": kind.value,
                "order_id": order.order_id,
                "order_number": order.order_number,
                "order_document_sha256": order.document_sha256,
                "order_signature_sha256": order.signature_sha256,
                "supplier": {"name": self.identity.name, "dea_number": self.identity.dea_number},
                "issued_at": issued_at.astimezone(UTC).replace(microsecond=0).isoformat(),
                "text": text,
                "reasons": [dict(r) for r in reasons],
                "lines": [dict(x) for x in lines],
            }
        )
        conn.execute(
            insert(signed_statements).values(
                order_id=order.order_id,
                kind=kind.value,
                document=document,
                signature=self._cms.sign(document, issued_at),
                issued_at=issued_at,
            )
        )

    def sign_bytes(self, data: bytes, at: datetime) -> bytes:
        """A detached CMS signature over other bytes the distributor vouches for (an 855)."""
        return self._cms.sign(data, at)


def statements_of(conn: Connection, order_id: str) -> list[dict[str, object]]:
    """The signed statements of one order, oldest first, for the API (base64 there)."""
    import base64

    return [
        {
            "kind": r.kind,
            "document": base64.b64encode(r.document).decode("ascii"),
            "signature": base64.b64encode(r.signature).decode("ascii"),
        }
        for r in conn.execute(
            select(signed_statements)
            .where(signed_statements.c.order_id == order_id)
            .order_by(signed_statements.c.id)
        )
    ]


def _current(cert: x509.Certificate, identity: DistributorIdentity) -> bool:
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.pki.profile import NotACsosCertificate, read_csos_profile

    try:
        info = read_csos_profile(
            asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        )
    except NotACsosCertificate:
        return False
    fresh = cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=1)
    return fresh and info.matches_dea(identity.dea_number)
