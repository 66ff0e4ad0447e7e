"""Proving that the token kept what was just written, from a process that loads its module anew.

The in-process test signature is not enough: the module may sign with a key
it holds in memory while its store kept a truncated file (see
token/durability.py). Before a certificate file is deleted, or an import is
reported done, a new process lists the objects and signs a challenge; the
signature is verified here against the certificate that was written.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from csos_desktop.domain.token_errors import TokenError
from csos_desktop.pki.p12 import signature_matches
from csos_desktop.token.durability import DurabilityReport
from csos_desktop.token.slots import TokenInfo

CHILD_MODULE = "csos_desktop.token.durability"
#: A new process, module load and login; a PIN pad waits for the person at the reader.
TIMEOUT_SECONDS = 120.0
PAD_TIMEOUT_SECONDS = 300.0

PAD_PROMPT = (
    "Enter your PIN on the reader's keypad once more for token '{label}': a new connection "
    "to the token checks that it kept the key before the import is reported done."
)


class KeyNotKept(TokenError):
    """A new connection to the token did not find (or could not use) what was written."""

    def __init__(self, missing: Sequence[str], aftermath: str) -> None:
        self.missing = tuple(missing)
        super().__init__(
            "The token did not keep the key: it may be full or failing (read again by a new "
            f"connection, it lacks {', '.join(self.missing)}). {aftermath}"
        )


class KeptUnchecked(TokenError):
    """The check could not be made (new process failed, login refused on the PIN pad)."""

    def __init__(self, why: str, aftermath: str) -> None:
        super().__init__(
            f"Could not check that the token kept the key ({why}), so the import is not "
            f"reported done. {aftermath}"
        )


@dataclass(frozen=True)
class Expected:
    """What was written under one CKA_ID: the key pair and these certificates (leaf first)."""

    key_id: bytes
    certificates: tuple[bytes, ...]

    @property
    def leaf(self) -> bytes:
        return self.certificates[0]


def missing_from(report: DurabilityReport, expected: Expected, challenge: bytes) -> list[str]:
    """What the report lacks, in words (empty: everything was kept and the key signs)."""
    missing: list[str] = []
    if report.private_keys < 1:
        missing.append("the private key")
    elif report.signature is None or not signature_matches(
        expected.leaf, challenge, bytes.fromhex(report.signature)
    ):
        missing.append("a private key that signs for the certificate")
    if report.public_keys < 1:
        missing.append("the public key")
    found = set(report.certificates)
    wanted = [hashlib.sha256(der).hexdigest() for der in expected.certificates]
    if wanted[0] not in found:
        missing.append("the certificate")
    lost_cas = sum(1 for h in wanted[1:] if h not in found)
    if lost_cas:
        missing.append(f"{lost_cas} CA certificate(s)")
    return missing


def child_command() -> list[str]:
    """How to start the check: this interpreter, or the bundle's `csos` program when frozen."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)  # csos-gui(.exe) in the GUI: the check runs as `csos`
        return [str(exe.with_name("csos" + exe.suffix)), "-m", CHILD_MODULE]
    return [sys.executable, "-m", CHILD_MODULE]


def confirm_kept(
    module: str,
    token: TokenInfo,
    expected: Expected,
    pin: str | None,
    *,
    aftermath: str,
    notify: Callable[[str], None] | None = None,
) -> None:
    """Raise KeyNotKept or KeptUnchecked unless a new process finds and uses everything.

    *pin* reaches the new process only on its stdin; ``None`` (PIN pad) asks the
    person for a second entry on the reader, announced through *notify*.
    """
    challenge = hashlib.sha256(b"csos kept check " + os.urandom(16)).digest()
    args = [
        *child_command(),
        "--module", module,
        "--serial", token.serial,
        "--label", token.label,
        "--key-id", expected.key_id.hex(),
        "--challenge", challenge.hex(),
    ]  # fmt: skip
    if pin is None and notify is not None:
        notify(PAD_PROMPT.format(label=token.label))
    try:
        done = subprocess.run(
            args if pin is None else [*args, "--pin-stdin"],
            input="" if pin is None else pin + "\n",
            capture_output=True,
            text=True,
            timeout=PAD_TIMEOUT_SECONDS if pin is None else TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise KeptUnchecked("the check took too long", aftermath) from None
    except OSError as exc:
        raise KeptUnchecked(f"the check could not start: {exc.strerror}", aftermath) from None
    finally:
        del pin
    try:
        report = DurabilityReport.from_json(done.stdout.strip().splitlines()[-1])
    except (ValueError, KeyError, IndexError, TypeError):
        raise KeptUnchecked(f"the check ended with code {done.returncode}", aftermath) from None
    if report.problem is not None:
        raise KeptUnchecked(report.problem, aftermath)
    missing = missing_from(report, expected, challenge)
    if missing:
        raise KeyNotKept(missing, aftermath)
