"""One-time enrolment codes of the sandbox CA: a reference number and an authorisation code.

The CA sends both to an applicant out of band; the applicant's client presents
them (HTTP Basic) to retrieve a certificate. Only a salted scrypt hash of the
authorisation code is kept. A code pair is single-use and expires.

Wrong tries are counted per reference number *and* per source address: a reference
locks for the address that made its ``max_attempts`` wrong tries (someone else cannot
lock the applicant out), and an address locks for every reference after
``SOURCE_MAX_FAILURES`` wrong tries within ``SOURCE_WINDOW``. An unknown reference
number is answered exactly as a wrong code (same message, same scrypt cost, counted the
same way), and no answer says how many tries are left: nothing tells which reference
numbers exist. The store lives in the CA directory (`codes.json`) and is
read-modified-written under a file lock, like `state.json`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.sandbox.json_state import exclusive, read_state

_FORMAT = "csos-sandbox-codes/1"
_FILE = "codes.json"
# scrypt cost: ~30 ms a check. The code has 100 bits of entropy, so this is defence in
# depth for a stolen codes.json, not what stops guessing (the attempt limit does).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
DEFAULT_VALID_DAYS = 30
DEFAULT_MAX_ATTEMPTS = 5
#: Wrong tries from one source address, on any reference numbers, before it is locked out...
SOURCE_MAX_FAILURES = 20
#: ...within this long since its first wrong try.
SOURCE_WINDOW = timedelta(hours=1)
#: Source addresses remembered at most (the oldest is forgotten first).
MAX_SOURCES = 10_000


class CodeFailure(Enum):
    """Why a code pair was refused; the value is the stable code sent to the client."""

    WRONG = "wrong-code"
    USED = "code-used"
    EXPIRED = "code-expired"
    LOCKED = "too-many-attempts"


class CodeRejected(CsosError):
    """The reference number / authorisation code pair cannot be used."""

    exit_code = 2

    def __init__(self, failure: CodeFailure, message: str):
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class IssuedCodes:
    """What the CA sends the applicant (the code is shown once and never stored)."""

    reference_number: str
    authorization_code: str = field(repr=False)
    expires: datetime


@dataclass(frozen=True)
class Application:
    """The registrant data the codes stand for."""

    reference_number: str
    name: str
    dea_number: str
    schedules: frozenset[Schedule]
    expires: datetime


@dataclass
class Redemption:
    """A successful check inside :meth:`CodeStore.redeem`; call `record` once issued."""

    application: Application
    #: SHA-256 of the SubjectPublicKeyInfo a certificate was already issued for, if used.
    issued_spki_sha256: str | None
    previous_certificate: bytes | None
    _recorded: tuple[int, str, bytes] | None = None

    def record(self, serial: int, spki_sha256: str, certificate_der: bytes) -> None:
        self._recorded = (serial, spki_sha256, certificate_der)


def normalise_code(text: str) -> str:
    """Codes are typed from a letter or a phone call: ignore case, spaces and dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _hash(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(normalise_code(code).encode("ascii", "replace"), salt=salt, **_SCRYPT)


def _new_authorization_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")  # 24 chars, 120 bits
    return "-".join(raw[i : i + 4] for i in range(0, 24, 4))


class CodeStore:
    """The CA's one-time codes, in `<ca dir>/codes.json`."""

    def __init__(self, directory: Path, *, clock: Clock | None = None) -> None:
        self._dir = Path(directory)
        self._clock = clock or utc_now
        self._lock = threading.Lock()

    def issue(
        self,
        *,
        name: str,
        dea_number: str,
        schedules: frozenset[Schedule],
        valid_days: int = DEFAULT_VALID_DAYS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> IssuedCodes:
        """New codes for an applicant; the authorisation code is returned only here."""
        name = name.strip()
        if not name:
            raise InputError("the applicant's name is empty; give --name")
        if not schedules:
            raise InputError("give at least one schedule the registrant may order")
        if valid_days < 1 or max_attempts < 1:
            raise InputError("validity days and attempt limit must be 1 or more")
        dea = parse_dea_number(dea_number).value
        code = _new_authorization_code()
        salt = secrets.token_bytes(16)
        now = self._clock()
        expires = now + timedelta(days=valid_days)
        with self._state() as state:
            taken = {e["reference_number"] for e in state["codes"]}
            ref = next(
                r for r in iter(lambda: f"{secrets.randbelow(10**10):010d}", None) if r not in taken
            )
            state["codes"].append(
                {
                    "reference_number": ref,
                    "salt": salt.hex(),
                    "hash": _hash(code, salt).hex(),
                    "name": name,
                    "dea_number": dea,
                    "schedules": [s.value for s in sorted(schedules, key=lambda s: s.sort_key)],
                    "created": now.isoformat(),
                    "expires": expires.isoformat(),
                    "attempts": 0,
                    "max_attempts": max_attempts,
                    "used_at": None,
                    "serial": None,
                    "spki_sha256": None,
                    "certificate": None,
                }
            )
        return IssuedCodes(ref, code, expires)

    def check(self, reference_number: str, authorization_code: str, *, source: str) -> Application:
        """The application behind unused, unexpired codes presented from *source* (the
        client's address); a wrong code counts a try against both."""
        with self._state() as state:
            entry = self._verify(state, reference_number, authorization_code, source)
            if entry["used_at"] is not None:
                raise _used()
            self._refuse_expired(entry)
            return _application(entry)

    @contextlib.contextmanager
    def redeem(
        self, reference_number: str, authorization_code: str, *, source: str
    ) -> Iterator[Redemption]:
        """Check the codes and hold the lock while the caller issues.

        The codes are spent only if the block records a certificate and ends
        without an exception: a refused request leaves them usable. Codes already
        spent are let through (with the earlier certificate) so the caller can
        return it again to a client retrying with the same key.
        """
        with self._state() as state:
            entry = self._verify(state, reference_number, authorization_code, source)
            if entry["used_at"] is None:
                self._refuse_expired(entry)
            previous = entry["certificate"]
            redemption = Redemption(
                _application(entry),
                entry["spki_sha256"],
                base64.b64decode(previous) if previous else None,
            )
            yield redemption
            if redemption._recorded is not None and entry["used_at"] is None:
                serial, spki, der = redemption._recorded
                entry.update(
                    used_at=self._clock().isoformat(),
                    serial=serial,
                    spki_sha256=spki,
                    certificate=base64.b64encode(der).decode(),
                )

    # -- internals -------------------------------------------------------------
    def _verify(self, state: dict[str, Any], ref: str, code: str, source: str) -> dict[str, Any]:
        ref = ref.strip()
        tries = self._source(state, source)
        entry: dict[str, Any] | None = next(
            (e for e in state["codes"] if e["reference_number"] == ref), None
        )
        limit = entry["max_attempts"] if entry is not None else DEFAULT_MAX_ATTEMPTS
        if tries["failures"] >= SOURCE_MAX_FAILURES or tries["refs"].get(ref, 0) >= limit:
            raise _locked()
        # An unknown reference costs the same scrypt as a known one: no timing tells them apart.
        salt, expected = (
            (bytes.fromhex(entry["salt"]), bytes.fromhex(entry["hash"]))
            if entry is not None
            else (_UNKNOWN_SALT, b"")
        )
        if entry is None or not hmac.compare_digest(_hash(code, salt), expected):
            tries["failures"] += 1
            tries["refs"][ref] = tries["refs"].get(ref, 0) + 1
            if tries["refs"][ref] >= limit:
                raise _locked()
            raise CodeRejected(CodeFailure.WRONG, _WRONG)
        tries["refs"].pop(ref, None)  # the right code resets its count, as a PIN does
        return entry

    def _source(self, state: dict[str, Any], source: str) -> dict[str, Any]:
        """The wrong tries counted for *source*, within the window (kept most recent last)."""
        sources: dict[str, Any] = state.setdefault("sources", {})
        now = self._clock()
        tries: dict[str, Any] | None = sources.pop(source, None)
        if tries is None or now - datetime.fromisoformat(tries["since"]) > SOURCE_WINDOW:
            tries = {"since": now.isoformat(), "failures": 0, "refs": {}}
        sources[source] = tries
        while len(sources) > MAX_SOURCES:
            del sources[next(iter(sources))]
        return tries

    def _refuse_expired(self, entry: dict[str, Any]) -> None:
        expires = datetime.fromisoformat(entry["expires"])
        if self._clock() >= expires:
            raise CodeRejected(
                CodeFailure.EXPIRED,
                f"These enrolment codes expired on {expires:%Y-%m-%d}. Ask the certificate "
                "authority to send new codes.",
            )

    def _read(self) -> dict[str, Any]:
        path = self._dir / _FILE
        if not path.exists():
            return {"format": _FORMAT, "codes": []}
        return read_state(path, _FORMAT, CsosError, "CA's enrolment code store")

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        # Written back even when the block raises: a wrong code's attempt must count.
        if not self._dir.is_dir():
            raise InputError(f"{self._dir} is not a test CA directory")
        with self._lock, exclusive(self._dir / ".codes.lock"):
            state = self._read()
            before = json.dumps(state, sort_keys=True)
            try:
                yield state
            finally:
                if json.dumps(state, sort_keys=True) != before:
                    self._write(state)

    def _write(self, state: dict[str, Any]) -> None:
        path = self._dir / _FILE
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, path)


_WRONG = (
    "The reference number or authorisation code is not right. Check both against the "
    "letter or e-mail from the certificate authority; a few wrong tries lock them."
)
_UNKNOWN_SALT = bytes(16)


def _used() -> CodeRejected:
    return CodeRejected(
        CodeFailure.USED,
        "These enrolment codes were already used to issue a "
        "certificate. Each pair works once: ask the certificate authority for "
        "new codes if you need another certificate.",
    )


def _locked() -> CodeRejected:
    return CodeRejected(
        CodeFailure.LOCKED,
        "These enrolment codes are locked after too many "
        "wrong authorisation codes. Ask the certificate authority for new codes.",
    )


def _application(entry: dict[str, Any]) -> Application:
    return Application(
        entry["reference_number"],
        entry["name"],
        entry["dea_number"],
        frozenset(Schedule(s) for s in entry["schedules"]),
        datetime.fromisoformat(entry["expires"]),
    )
