"""Key pairs on the token as enrolment sees them: pending, relabelled when done, removable.

A key generated for an enrolment carries the label ``csos-pending-<date>``
until its certificate is on the token. Only labels, ids and public keys are
read; never a private key's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pkcs11
from asn1crypto import x509 as asn1_x509
from pkcs11 import Attribute, KeyType, ObjectClass

from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm, normalised_spki, public_key_info
from csos_desktop.token.library import translated_errors
from csos_desktop.token.session import TokenSession

PENDING_PREFIX = "csos-pending-"


@dataclass(frozen=True)
class PendingKey:
    """A key pair left by an enrolment that did not finish (no certificate with its id)."""

    key_id: bytes
    label: str


def pending_label(now: datetime) -> str:
    return f"{PENDING_PREFIX}{now:%Y%m%d-%H%M%S}"


def certificate_label(dea_number: str, now: datetime) -> str:
    return f"csos-{dea_number}-{now:%Y%m%d}"


def _objects(ts: TokenSession, cls: ObjectClass, key_id: bytes | None = None) -> list[Any]:
    template: dict[Attribute, object] = {Attribute.CLASS: cls}
    if key_id is not None:
        template[Attribute.ID] = key_id
    with translated_errors("reading the token's objects"):
        return list(ts.session.get_objects(template))


def existing_key(ts: TokenSession, key_id: bytes) -> GeneratedKey | None:
    """The key pair with this id as a GeneratedKey, or None if either half is gone."""
    privates = _objects(ts, ObjectClass.PRIVATE_KEY, key_id)
    publics = _objects(ts, ObjectClass.PUBLIC_KEY, key_id)
    if not privates or not publics:
        return None
    public = publics[0]
    with translated_errors("reading a public key"):
        spki = public_key_info(public)
        alg = KeyAlgorithm.RSA2048 if public.key_type == KeyType.RSA else KeyAlgorithm.P256
        label = str(privates[0][Attribute.LABEL])
    return GeneratedKey(key_id, label, alg, spki)


def key_for_certificate(ts: TokenSession, certificate_der: bytes) -> GeneratedKey | None:
    """The key pair on the token whose public key the certificate certifies."""
    cert = asn1_x509.Certificate.load(certificate_der)
    wanted = normalised_spki(bytes(cert.public_key.dump()))
    for public in _objects(ts, ObjectClass.PUBLIC_KEY):
        with translated_errors("reading a public key"):
            key_id = bytes(public[Attribute.ID])
            if public_key_info(public) != wanted:
                continue
        found = existing_key(ts, key_id)
        if found is not None:
            return found
    return None


def relabel(ts: TokenSession, key_id: bytes, label: str) -> None:
    """Give both halves of the key pair a new label (read-write, logged-in session)."""
    with translated_errors("labelling the key pair"):
        for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
            for obj in ts.session.get_objects({Attribute.CLASS: cls, Attribute.ID: key_id}):
                obj[Attribute.LABEL] = label


def pending_keys(ts: TokenSession) -> list[PendingKey]:
    """Keys labelled pending that have no certificate on the token (safe to remove)."""
    with_cert = {
        bytes(c[Attribute.ID]) for c in _objects(ts, ObjectClass.CERTIFICATE) if _has_id(c)
    }
    out = []
    for key in _objects(ts, ObjectClass.PRIVATE_KEY):
        with translated_errors("reading key labels"):
            label, key_id = str(key[Attribute.LABEL]), bytes(key[Attribute.ID])
        if label.startswith(PENDING_PREFIX) and key_id not in with_cert:
            out.append(PendingKey(key_id, label))
    return out


def delete_key_pair(ts: TokenSession, key_id: bytes, *, certificates: bool = False) -> None:
    """Destroy the key pair with this id (and its certificate objects if asked)."""
    classes = [ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY]
    if certificates:
        classes.append(ObjectClass.CERTIFICATE)
    for cls in classes:
        for obj in _objects(ts, cls, key_id):
            with translated_errors("removing a key from the token"):
                obj.destroy()


def ca_certificates_on_token(ts: TokenSession) -> set[bytes]:
    """DER of every certificate object already on the token (to avoid duplicates)."""
    with translated_errors("reading certificates"):
        return {bytes(c[Attribute.VALUE]) for c in _objects(ts, ObjectClass.CERTIFICATE)}


def _has_id(obj: pkcs11.Object) -> bool:
    try:
        return bool(obj[Attribute.ID])
    except (pkcs11.AttributeTypeInvalid, pkcs11.PKCS11Error):
        return False
