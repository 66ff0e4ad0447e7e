"""Moving a certificate file (.p12/.pfx) onto a token: all of it, or nothing.

Order: the file is read and checked (pki/p12.py) before the token is touched;
then key, public key, certificate and CA certificates are written under one
new CKA_ID; a test signature made by the token is verified with the
certificate's public key; a new process, loading the token's module anew,
finds every object and signs with the key (the module may have signed from its
memory what its store lost); only then is the file deleted and the import
reported done. Any failure on the way removes every object with that CKA_ID,
so the token is as before.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.pki.p12 import P12Contents, read_p12, signature_matches
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.store import lifecycle, open_store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.token.durability_check import Expected, confirm_kept
from csos_desktop.token.key_import import KeyImportRefused, store_key_and_certificates
from csos_desktop.token.keys import new_key_id, remove_objects
from csos_desktop.token.library import Pkcs11Token, translated_errors
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner

#: Shown when the file is kept: the DEA forbids backup copies of the private key.
KEEP_COPY_WARNING = (
    "A copy of the private key remains in {name}. Keeping it breaks 21 CFR 1311.30(d) "
    "(no backup copies of a CSOS private key): delete it now (run again with --delete-file, "
    "or delete it and empty the recycle bin)."
)


@dataclass(frozen=True)
class ImportedKey:
    key_id: bytes
    label: str
    ca_certificates: int


@dataclass(frozen=True)
class MoveOutcome:
    """What the CLI and the GUI report after a file was moved onto a token."""

    imported: ImportedKey
    info: CsosCertificateInfo
    file_deleted: bool
    audit_problem: str | None = None

    def summary(self, token_label: str) -> str:
        who = self.info
        return (
            f"Moved {who.subject} (certificate {who.serial_number}, valid until "
            f"{who.not_after:%Y-%m-%d}) "
            f"onto token '{token_label}' with id {self.imported.key_id.hex()}, and "
            f"{self.imported.ca_certificates} CA certificate(s). A test signature by the token "
            "verified."
        )


def move_p12_to_token(
    token: Pkcs11Token,
    pin: str | None,
    data: bytes,
    password: str,
    file: Path,
    *,
    delete_file: bool,
    module: str,
    notify: Callable[[str], None] | None = None,
) -> MoveOutcome:
    """Check the file, log in (``pin=None``: PIN pad), import, prove the token kept it
    (a new process, see token/durability_check.py), delete the file if asked, audit.

    *module* is the driver's path, loaded anew by the check; *notify* announces the
    second keypad entry on a PIN-pad reader.
    """
    contents = read_p12(data, password, file.name)  # refused here: the token is untouched
    del password
    with TokenSession(token, rw=True) as ts:
        try:
            ts.login(pin)
            imported = import_to_token(ts, contents)
            # The PIN is held until here (not past this call) for the new process's login.
            _confirm_kept(ts, imported, contents, module, pin, notify)
        finally:
            del pin
    if delete_file:
        destroy_file(file)
    problem = None
    try:
        record_import(contents, imported, delete_file)
    except CsosError as exc:
        problem = f"The key is on the token, but the audit log failed: {exc.message}"
    return MoveOutcome(imported, contents.info, delete_file, problem)


def import_to_token(
    ts: TokenSession, contents: P12Contents, label: str | None = None
) -> ImportedKey:
    """Write *contents* to the logged-in read-write session *ts*; all or nothing."""
    key_id = new_key_id()
    label = label or f"csos-{contents.info.serial_number:x}"[:32]
    try:
        _write(ts, contents, key_id, label)
        _test_signature(ts, key_id, contents.certificate_der)
    except BaseException:
        _undo(ts, key_id)
        raise
    return ImportedKey(key_id, label, len(contents.ca_certificates_der))


def _write(ts: TokenSession, contents: P12Contents, key_id: bytes, label: str) -> None:
    store_key_and_certificates(
        ts,
        contents.key,
        contents.certificate_der,
        contents.ca_certificates_der,
        key_id,
        label,
        _refusal,
    )


#: After a failed check: what happened to the objects and the file, and what to do.
NOT_KEPT_AFTERMATH = (
    "Everything the import wrote was removed again, and the certificate file was kept (not "
    "deleted). Make room on the token (or use another token), then run the import again."
)


def _confirm_kept(
    ts: TokenSession,
    imported: ImportedKey,
    contents: P12Contents,
    module: str,
    pin: str | None,
    notify: Callable[[str], None] | None,
) -> None:
    expected = Expected(imported.key_id, (contents.certificate_der, *contents.ca_certificates_der))
    try:
        confirm_kept(module, ts.info, expected, pin, aftermath=NOT_KEPT_AFTERMATH, notify=notify)
    except BaseException:
        _undo(ts, imported.key_id)
        raise
    finally:
        del pin


def _refusal(why: str) -> str:
    return (
        f"The token {why}: the key could not be moved onto it. Anything written was removed "
        "again; the token is as before and the file is unchanged."
    )


def _test_signature(ts: TokenSession, key_id: bytes, certificate_der: bytes) -> None:
    digest = hashlib.sha256(b"csos import test " + os.urandom(16)).digest()
    signature = TokenSigner(ts, key_id).sign_digest(digest)
    if not signature_matches(certificate_der, digest, signature):
        raise KeyImportRefused(
            "The token's test signature with the imported key does not verify against the "
            "certificate. The key was removed again; the file is unchanged."
        )


def _undo(ts: TokenSession, key_id: bytes) -> None:
    try:
        with translated_errors("removing the partly written key"):
            remove_objects(ts, key_id)
    except CsosError:
        pass  # the original error is the one to report; doctor lists leftovers


def record_import(contents: P12Contents, imported: ImportedKey, file_deleted: bool) -> None:
    """``certificate.key-imported``: which certificate, under which CKA_ID, file kept or not."""
    info = contents.info
    with open_store() as store:
        lifecycle.record_event(
            store,
            AuditEvent.KEY_IMPORTED,
            now=datetime.now(UTC),
            details={
                "subject": info.subject,
                "dea_number_hash": info.dea_hash.hex() if info.dea_hash else None,
                "serial_number": str(info.serial_number),
                "not_after": info.not_after.isoformat(),
                "key_id": imported.key_id.hex(),
                "ca_certificates": imported.ca_certificates,
                "file_deleted": file_deleted,
            },
        )


def destroy_file(path: Path) -> None:
    """Overwrite the file with random bytes, flush it to disk, then delete it."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.write(os.urandom(size))
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
    except OSError as exc:
        raise InputError(
            f"The key is on the token, but {path} could not be overwritten and deleted "
            f"({exc.strerror}). Delete it yourself: keeping it breaks 21 CFR 1311.30(d)."
        ) from exc
