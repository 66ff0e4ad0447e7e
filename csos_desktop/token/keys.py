"""Key pairs generated on the token: private key sensitive and never extractable.

21 CFR 1311.30(d): no backup copies of the private key. Nothing here reads a
private key's value; the only attributes read are its id, label and type.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

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

from csos_desktop.domain.enrolment import KeyAlgorithm as KeyAlgorithm
from csos_desktop.domain.token_errors import KeyNotFound
from csos_desktop.token.library import translated_errors
from csos_desktop.token.session import TokenSession
from csos_desktop.token.templates import (
    TEMPLATE_REFUSED,
    TEMPLATES,
    KeyNotProtected,
    KeyTemplate,
    check_protected,
)

log = logging.getLogger(__name__)

#: (manufacturer, model) of tokens that refused the rich template in this process.
_REFUSES_RICH: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class GeneratedKey:
    """A key pair made on the token: its CKA_ID, label and public key (SPKI DER)."""

    key_id: bytes
    label: str
    algorithm: KeyAlgorithm
    public_key_info: bytes
    template: KeyTemplate = KeyTemplate.RICH


def new_key_id() -> bytes:
    """A random 20-byte CKA_ID shared by the key pair and its certificate."""
    return os.urandom(20)


def generate_keypair(
    ts: TokenSession, algorithm: KeyAlgorithm, label: str, key_id: bytes | None = None
) -> GeneratedKey:
    """Generate a key pair on the token (needs a read-write, logged-in session).

    The rich template first; if the module refuses it, the minimal one (see
    token/templates.py). The private key's protection is read back either way.
    """
    key_id = key_id or new_key_id()
    model = (ts.info.manufacturer, ts.info.model)
    with translated_errors("generating a key pair on the token"):
        if model in _REFUSES_RICH:
            public, private = _generate(ts, algorithm, label, key_id, KeyTemplate.MINIMAL)
            used = KeyTemplate.MINIMAL
        else:
            try:
                public, private = _generate(ts, algorithm, label, key_id, KeyTemplate.RICH)
                used = KeyTemplate.RICH
            except TEMPLATE_REFUSED as exc:
                log.info("token refused the rich key template (%s); minimal", type(exc).__name__)
                # tpm2-pkcs11 makes the key before refusing: a wasted RSA generation
                # (~0.7 s) each time, so this model gets the minimal template from now on.
                _REFUSES_RICH.add(model)
                remove_objects(ts, key_id)
                public, private = _generate(ts, algorithm, label, key_id, KeyTemplate.MINIMAL)
                used = KeyTemplate.MINIMAL
        try:
            check_protected(private)
        except KeyNotProtected:
            remove_objects(ts, key_id)
            raise
        spki = public_key_info(public)
    return GeneratedKey(key_id, label, algorithm, spki, used)


def _generate(
    ts: TokenSession, algorithm: KeyAlgorithm, label: str, key_id: bytes, template: KeyTemplate
) -> tuple[pkcs11.PublicKey, pkcs11.PrivateKey]:
    session = ts.session
    public_template, private_template = TEMPLATES[template]
    if algorithm is KeyAlgorithm.RSA2048:
        public, private = session.generate_keypair(
            KeyType.RSA,
            2048,
            store=True,
            id=key_id,
            label=label,
            public_template=dict(public_template),
            private_template=dict(private_template),
        )
    else:
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        public, private = params.generate_keypair(
            store=True,
            id=key_id,
            label=label,
            public_template=dict(public_template),
            private_template=dict(private_template),
        )
    return public, private


def remove_objects(ts: TokenSession, key_id: bytes) -> int:
    """Delete every object with this CKA_ID (undoing a failed generation or import)."""
    if not key_id:
        return 0
    removed = 0
    for obj in list(ts.session.get_objects({Attribute.ID: key_id})):
        obj.destroy()
        removed += 1
    return removed


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


class UnsupportedKey(KeyNotFound):
    """The key on the token is neither RSA 2048 nor ECDSA P-256 (what CSOS signs with)."""


#: DER of the P-256 curve's OID (prime256v1), as CKA_EC_PARAMS holds it.
_P256_PARAMS = bytes(asn1_keys.ECDomainParameters({"named": "secp256r1"}).dump())


def key_algorithm(key: pkcs11.PrivateKey) -> KeyAlgorithm:
    """The key's algorithm read from its public attributes: the RSA modulus size, the EC
    curve. Nothing secret is read."""
    with translated_errors("reading the key's type on the token"):
        if key.key_type == KeyType.RSA:
            bits = len(bytes(key[Attribute.MODULUS]).lstrip(b"\0")) * 8
            if bits == 2048:
                return KeyAlgorithm.RSA2048
            what = f"an RSA key of {bits} bits"
        elif key.key_type == KeyType.EC:
            if bytes(key[Attribute.EC_PARAMS]) == _P256_PARAMS:
                return KeyAlgorithm.P256
            what = "an EC key on another curve than P-256"
        else:
            what = f"a {key.key_type.name} key"
    raise UnsupportedKey(
        f"The key for this certificate is {what}; CSOS signs with RSA 2048 or ECDSA P-256. "
        "Enrol for a certificate with a key this program can use."
    )
