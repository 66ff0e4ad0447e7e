"""Did the token keep it? The new-process side, run as `python -m csos_desktop.token.durability`.

A module can accept an object, hold it in its own memory and answer CKR_OK
while its store lost it (SoftHSM2 2.6.1 with a file-size limit writes a
truncated key file and reports success). Only a process that loads the module
anew sees what the token really kept. This process lists the objects with one
CKA_ID, logs in and signs a challenge with the private key; it prints a JSON
report on stdout and judges nothing (the caller, token/durability_check.py,
verifies the signature against the certificate it wrote).

The PIN comes as the first line of stdin (``--pin-stdin``), never as an
argument; without it the login goes through the reader's PIN pad.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import pkcs11
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11

from csos_desktop.domain.errors import CsosError
from csos_desktop.token.library import load_library, translated_errors
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner
from csos_desktop.token.slots import describe, present_tokens


@dataclass(frozen=True)
class DurabilityReport:
    """What a new connection to the token found under one CKA_ID."""

    private_keys: int = 0
    public_keys: int = 0
    #: SHA-256 (hex) of each certificate object's value.
    certificates: tuple[str, ...] = ()
    #: The signature over the challenge (hex), or None when no key could sign.
    signature: str | None = None
    #: Why the check could not be made (token not found, login refused); None when it ran.
    problem: str | None = None
    #: Why the private key did not sign, when it was found.
    sign_error: str | None = field(default=None)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> DurabilityReport:
        data = json.loads(text)
        return cls(
            private_keys=int(data["private_keys"]),
            public_keys=int(data["public_keys"]),
            certificates=tuple(str(c) for c in data["certificates"]),
            signature=None if data["signature"] is None else str(data["signature"]),
            problem=None if data["problem"] is None else str(data["problem"]),
            sign_error=None if data.get("sign_error") is None else str(data["sign_error"]),
        )


def _find(module: str, serial: str, label: str) -> pkcs11.Token | None:
    for token in present_tokens(load_library(module)):
        info = describe(token)
        if info.serial == serial and info.label == label:
            return token
    return None


def inspect_token(
    module: str, serial: str, label: str, key_id: bytes, challenge: bytes, pin: str | None
) -> DurabilityReport:
    """Objects with *key_id* and a signature over *challenge*; ``pin=None``: the PIN pad."""
    token = _find(module, serial, label)
    if token is None:
        return DurabilityReport(problem=f"token '{label}' (serial {serial}) was not found")
    with TokenSession(token) as ts:
        try:
            ts.login(pin)
        except CsosError as exc:
            return DurabilityReport(problem=f"the login was refused: {exc.message}")
        finally:
            del pin
        with translated_errors("listing what the token kept"):
            found = {
                cls: list(ts.session.get_objects({Attribute.CLASS: cls, Attribute.ID: key_id}))
                for cls in (
                    ObjectClass.PRIVATE_KEY,
                    ObjectClass.PUBLIC_KEY,
                    ObjectClass.CERTIFICATE,
                )
            }
            certificates = tuple(
                hashlib.sha256(bytes(c[Attribute.VALUE])).hexdigest()
                for c in found[ObjectClass.CERTIFICATE]
            )
        signature, sign_error = None, None
        if found[ObjectClass.PRIVATE_KEY]:
            try:
                signature = TokenSigner(ts, key_id).sign_digest(challenge).hex()
            except (CsosError, p11.PKCS11Error) as exc:
                sign_error = type(exc).__name__
    return DurabilityReport(
        private_keys=len(found[ObjectClass.PRIVATE_KEY]),
        public_keys=len(found[ObjectClass.PUBLIC_KEY]),
        certificates=certificates,
        signature=signature,
        sign_error=sign_error,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="csos_desktop.token.durability")
    parser.add_argument("--module", required=True)
    parser.add_argument("--serial", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--challenge", required=True)
    parser.add_argument("--pin-stdin", action="store_true")
    args = parser.parse_args(argv)
    pin = sys.stdin.readline().rstrip("\r\n") if args.pin_stdin else None
    try:
        report = inspect_token(
            args.module,
            args.serial,
            args.label,
            bytes.fromhex(args.key_id),
            bytes.fromhex(args.challenge),
            pin,
        )
    except CsosError as exc:
        report = DurabilityReport(problem=exc.message)
    finally:
        del pin
    sys.stdout.write(report.to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
