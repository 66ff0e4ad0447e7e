"""Signing a SHA-256 digest with a key on the token.

The key is looked up once per signer, not once per signature: per-call
look-ups are most of what makes general-purpose PKCS#11 signers slow.
RSA uses CKM_RSA_PKCS over a DigestInfo and ECDSA uses CKM_ECDSA over the
digest, the two mechanisms every vendor module supports.
"""

from __future__ import annotations

from typing import cast

from asn1crypto.algos import DSASignature
from pkcs11 import Mechanism, PrivateKey
from pkcs11.types import SignMixin

from csos_desktop.token.keys import KeyAlgorithm, find_private_key, key_algorithm
from csos_desktop.token.library import translated_errors
from csos_desktop.token.session import TokenSession

# DER prefix of DigestInfo{sha256, digest} (RFC 8017 section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class TokenSigner:
    """Signs digests with one private key on a logged-in token session."""

    def __init__(self, ts: TokenSession, key_id: bytes) -> None:
        self._ts = ts
        self.key_id = key_id
        self._key = cast(SignMixin, find_private_key(ts, key_id))
        self._generation = ts.generation
        self.algorithm = key_algorithm(cast(PrivateKey, self._key))

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature over a SHA-256 digest: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for EC."""
        if len(digest) != 32:
            raise ValueError("expected a SHA-256 digest")
        self._ts.session  # noqa: B018 - raises LoginExpired after the idle limit
        if self._generation != self._ts.generation:
            # Logged in again since the look-up: the old key handle's session is gone.
            self._key = cast(SignMixin, find_private_key(self._ts, self.key_id))
            self._generation = self._ts.generation
        with translated_errors("signing on the token"):
            if self.algorithm is KeyAlgorithm.RSA2048:
                return bytes(
                    self._key.sign(_SHA256_DIGEST_INFO + digest, mechanism=Mechanism.RSA_PKCS)
                )
            raw = bytes(self._key.sign(digest, mechanism=Mechanism.ECDSA))
        return bytes(DSASignature.from_p1363(raw).dump())
