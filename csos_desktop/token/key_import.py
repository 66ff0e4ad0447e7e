"""Writing a private key from a file onto the token with C_CreateObject.

The key object is created sensitive and not extractable, so once written it
can no longer be read back (21 CFR 1311.30(d)); CKA_LOCAL is false on it,
which is how `cert show` tells an imported key from one generated on the
token. A public key object with the same CKA_ID is written too: it is public,
so the key's origin can be read without a PIN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.util.ec import encode_named_curve_parameters

from csos_desktop.domain.token_errors import TokenError
from csos_desktop.pki.p12 import ImportableKey
from csos_desktop.token.session import TokenSession
from csos_desktop.token.templates import TEMPLATE_REFUSED, check_protected


class KeyImportRefused(TokenError):
    """The token would not store the key; anything written was removed again."""


def _int(value: int, length: int = 0) -> bytes:
    return value.to_bytes(max(length, (value.bit_length() + 7) // 8), "big")


def _private_template(key: ImportableKey) -> dict[Attribute, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return {
            Attribute.KEY_TYPE: KeyType.RSA,
            Attribute.MODULUS: _int(n.public_numbers.n),
            Attribute.PUBLIC_EXPONENT: _int(n.public_numbers.e),
            Attribute.PRIVATE_EXPONENT: _int(n.d),
            Attribute.PRIME_1: _int(n.p),
            Attribute.PRIME_2: _int(n.q),
            Attribute.EXPONENT_1: _int(n.dmp1),
            Attribute.EXPONENT_2: _int(n.dmq1),
            Attribute.COEFFICIENT: _int(n.iqmp),
        }
    return {
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1"),
        Attribute.VALUE: _int(key.private_numbers().private_value, 32),
    }


def _public_template(key: ImportableKey) -> dict[Attribute, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        nums = public.public_numbers()
        return {
            Attribute.KEY_TYPE: KeyType.RSA,
            Attribute.MODULUS: _int(nums.n),
            Attribute.PUBLIC_EXPONENT: _int(nums.e),
        }
    point = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    # CKA_EC_POINT is the DER OCTET STRING around the X9.62 point (PKCS#11 2.40).
    octet = b"\x04" + bytes([len(point)]) + point
    return {
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1"),
        Attribute.EC_POINT: octet,
    }


def create_key_objects(
    ts: TokenSession, key: ImportableKey, key_id: bytes, label: str
) -> pkcs11.PrivateKey:
    """C_CreateObject for the private key, its protection read back, then the public key.

    Raises KeyImportRefused with the token's reason; the caller removes what
    was written (remove_objects with *key_id*).
    """
    common = {Attribute.TOKEN: True, Attribute.ID: key_id, Attribute.LABEL: label}
    private_template = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        **common,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.SIGN: True,
        **_private_template(key),
    }
    # Signing only, where the token takes it (SoftHSM2 would default decrypt/unwrap to true);
    # a token that refuses the extra attributes gets the minimal template.
    restricted = (
        {Attribute.DERIVE: False}
        if isinstance(key, ec.EllipticCurvePrivateKey)
        else {
            Attribute.DECRYPT: False,
            Attribute.UNWRAP: False,
        }
    )
    try:
        try:
            private = ts.session.create_object({**private_template, **restricted})
        except TEMPLATE_REFUSED:
            private = ts.session.create_object(private_template)
    except (p11.AttributeValueInvalid, p11.AttributeTypeInvalid, p11.TemplateInconsistent):
        raise KeyImportRefused(
            "This token does not accept private keys from a file; it only uses keys it "
            "generates itself. Enrol for a new certificate on it instead ('csos enrol'), or "
            "use a token that accepts imported keys."
        ) from None
    finally:
        private_template.clear()  # the key's numbers do not outlive the call
    assert isinstance(private, pkcs11.PrivateKey)
    check_protected(private)
    public_template = {
        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
        **common,
        Attribute.PRIVATE: False,
        Attribute.VERIFY: True,
        **_public_template(key),
    }
    ts.session.create_object(public_template)
    return private


def key_generated_on_token(ts: TokenSession, key_id: bytes) -> bool | None:
    """CKA_LOCAL of the public key with this CKA_ID (None: no such key, or unreadable)."""
    try:
        objs = list(
            ts.session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: key_id})
        )
        if not objs:
            return None
        return bool(objs[0][Attribute.LOCAL])
    except p11.PKCS11Error:
        return None


def store_key_and_certificates(
    ts: TokenSession,
    key: ImportableKey,
    certificate_der: bytes,
    ca_certificates_der: Sequence[bytes],
    key_id: bytes,
    label: str,
    refusal: Callable[[str], str],
) -> None:
    """Write the key, its certificate and the CA certificates under *key_id*; a token that
    will not store them raises ``KeyImportRefused`` with ``refusal(why)``."""
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.token.certs import write_certificate
    from csos_desktop.token.library import translated_errors

    with translated_errors("writing the key and certificate to the token"):
        try:
            create_key_objects(ts, key, key_id, label)
            write_certificate(ts, certificate_der, key_id, label)
            for der in ca_certificates_der:
                name = asn1_x509.Certificate.load(der).subject.human_friendly[:64]
                write_certificate(ts, der, key_id, name)
        except p11.TokenWriteProtected:
            raise KeyImportRefused(refusal("is read-only (write-protected)")) from None
        except p11.DeviceMemory:
            raise KeyImportRefused(refusal("is full")) from None
        except (p11.GeneralError, p11.FunctionFailed, p11.DeviceError) as exc:
            raise KeyImportRefused(
                refusal(f"could not store it ({type(exc).__name__}; full or read-only?)")
            ) from None
