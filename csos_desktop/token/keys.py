"""Key pairs generated on the token: private key sensitive and never extractable.

21 CFR 1311.30(d): no backup copies of the private key. Nothing here reads a
private key's value; the only attributes read are its id, label and type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum

import pkcs11
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.rsa import encode_rsa_public_key

from csos_desktop.token.errors import KeyNotFound
from csos_desktop.token.library import translated_errors
from csos_desktop.token.session import TokenSession


class KeyAlgorithm(Enum):
    """Algorithms a CSOS certificate may use (FIPS 186 signatures)."""

    RSA2048 = "rsa2048"
    P256 = "p256"


@dataclass(frozen=True)
class GeneratedKey:
    """A key pair made on the token: its CKA_ID, label and public key (SPKI DER)."""

    key_id: bytes
    label: str
    algorithm: KeyAlgorithm
    public_key_info: bytes


_PRIVATE_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
_PUBLIC_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.WRAP: False,
}


def new_key_id() -> bytes:
    """A random 20-byte CKA_ID shared by the key pair and its certificate."""
    return os.urandom(20)


def generate_keypair(
    ts: TokenSession, algorithm: KeyAlgorithm, label: str, key_id: bytes | None = None
) -> GeneratedKey:
    """Generate a key pair on the token (needs a read-write, logged-in session)."""
    key_id = key_id or new_key_id()
    session = ts.session
    with translated_errors("generating a key pair on the token"):
        if algorithm is KeyAlgorithm.RSA2048:
            public, _private = session.generate_keypair(
                KeyType.RSA,
                2048,
                store=True,
                id=key_id,
                label=label,
                public_template=_PUBLIC_TEMPLATE,
                private_template=_PRIVATE_TEMPLATE,
            )
        else:
            params = session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                local=True,
            )
            public, _private = params.generate_keypair(
                store=True,
                id=key_id,
                label=label,
                public_template=_PUBLIC_TEMPLATE,
                private_template=_PRIVATE_TEMPLATE,
            )
        spki = public_key_info(public)
    return GeneratedKey(key_id, label, algorithm, spki)


def public_key_info(public: pkcs11.PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo of an on-token public key, in the encoding CAs use."""
    if public.key_type == KeyType.RSA:
        rsa = asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public))
        der = asn1_keys.PublicKeyInfo(
            {"algorithm": {"algorithm": "rsa", "parameters": None}, "public_key": rsa}
        ).dump()
    else:
        der = encode_ec_public_key(public)
    return normalised_spki(bytes(der))


def normalised_spki(der: bytes) -> bytes:
    """Re-encode a SubjectPublicKeyInfo canonically (RSA NULL parameters, named curve)."""
    return load_der_public_key(der).public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def find_private_key(ts: TokenSession, key_id: bytes) -> pkcs11.PrivateKey:
    """The private key with this CKA_ID (no value is read)."""
    with translated_errors("finding the signing key"):
        keys = list(
            ts.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: key_id})
        )
    if not keys:
        raise KeyNotFound(
            "The private key for this certificate is not on the inserted token. "
            "Insert the token you enrolled with."
        )
    key = keys[0]
    assert isinstance(key, pkcs11.PrivateKey)
    return key


def private_key_ids(ts: TokenSession) -> set[bytes]:
    """CKA_IDs of private keys on the token."""
    with translated_errors("listing keys"):
        objs = ts.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
        return {bytes(o[Attribute.ID]) for o in objs}


def find_public_key(ts: TokenSession, key_id: bytes) -> pkcs11.PublicKey:
    """The public key with this CKA_ID."""
    with translated_errors("finding the public key"):
        objs = list(
            ts.session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: key_id})
        )
    if not objs:
        raise KeyNotFound("The public key of this key pair is not on the token.")
    key = objs[0]
    assert isinstance(key, pkcs11.PublicKey)
    return key
