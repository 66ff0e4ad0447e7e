"""Audit checkpoints: the token signs the audit chain's head once per signing session.

The hash chain shows an edit only to someone who did not also re-hash every later
entry; anyone who can write the database can drop its triggers and do exactly that.
A checkpoint is the chain head (entry id and SHA-256) signed on the pharmacist's
token, stored, and itself logged. `csos audit verify` recomputes the chain and checks
every checkpoint: a rewritten entry at or before a checkpoint is detected unless the
attacker also holds the token and its PIN. Entries after the newest checkpoint are
covered by the next signing session.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import format_timestamp
from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.services.signing.documents import DocumentSigner
from csos_desktop.store import Store
from csos_desktop.store.audit import GENESIS, AuditEvent
from csos_desktop.store.checkpoints import Checkpoint, checkpoint_document

log = logging.getLogger(__name__)


def _head(store: Store) -> tuple[int, str]:
    row = store.conn.execute(
        "SELECT entry_id, entry_sha256 FROM audit_head WHERE only_row = 1"
    ).fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def sign_checkpoint(
    store: Store,
    signer: DocumentSigner,
    *,
    clock: Clock = utc_now,
) -> Checkpoint:
    """Sign the current head on the token, then store it and log it in one transaction.

    The token signs outside the transaction: the entry signed stays what it is (the log
    only grows), so a head that moved meanwhile leaves a checkpoint of an earlier entry.
    """
    entry_id, entry_sha256 = _head(store)
    at = format_timestamp(clock())
    document = checkpoint_document(entry_id, entry_sha256, at)
    signature = signer.sign(document)
    with store.transaction():
        checkpoint = store.checkpoints.add(
            entry_id, entry_sha256, at, signer.identity.info.subject, document, signature
        )
        store.audit.append(
            AuditEvent.AUDIT_CHECKPOINT,
            at=clock(),
            details={
                "checkpoint_id": checkpoint.checkpoint_id,
                "entry_id": entry_id,
                "entry_sha256": entry_sha256,
                "signed_by": signer.identity.info.subject,
            },
        )
    return checkpoint


def checkpoint_after_session(store: Store, session: SigningSession) -> Checkpoint | None:
    """What a signing session calls last: a checkpoint, or a logged warning if it failed.

    Signed in the same (logged-in) token session, for the purpose AUDIT_CHECKPOINT. A
    pulled token or a full disk at this point must not undo what was just signed; the
    next session's checkpoint covers these entries too.
    """
    signer = SigningSession(
        session.ts,
        session.identity,
        session.chain,
        SigningPurpose.AUDIT_CHECKPOINT,
        checks=session.checks,
        clock=session.clock,
    )
    try:
        signer.check_session()  # the session checks (certificate still valid, ...) first
        return sign_checkpoint(store, signer, clock=session.clock)
    except CsosError as exc:
        log.warning("the audit checkpoint was not signed: %s", exc.message)
        return None


@dataclass
class CheckpointReport:
    """What checking the checkpoints found; ``problems`` empty means every one held."""

    checkpoints: int = 0
    newest_entry: int = 0
    signers_verified: bool = False
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "checkpoints": self.checkpoints,
            "newest_checkpointed_entry": self.newest_entry,
            "signers_verified": self.signers_verified,
            "problems": self.problems,
        }


def _entry_hashes(store: Store, wanted: set[int]) -> dict[int, str]:
    """SHA-256 of each wanted entry, recomputed from the entries themselves (one pass)."""
    out: dict[int, str] = {}
    if 0 in wanted:
        out[0] = GENESIS
    for entry in store.audit.entries():
        if entry.entry_id in wanted:
            out[entry.entry_id] = entry.sha256
    return out


def _check_one(
    cp: Checkpoint,
    recomputed: dict[int, str],
    roots: Sequence[asn1_x509.Certificate] | None,
    problems: list[str],
) -> None:
    name = f"checkpoint {cp.checkpoint_id} (entry {cp.entry_id})"
    try:
        parsed = parse_signed_data(cp.signature)
    except MalformedSignature as exc:
        problems.append(f"{name}: {exc}")
        return
    if cp.document != checkpoint_document(cp.entry_id, cp.entry_sha256, cp.signed_at):
        problems.append(f"{name}: its stored fields differ from the document that was signed")
    if not digest_matches(parsed, cp.document) or not signature_valid(parsed):
        problems.append(f"{name}: the signature does not verify")
    got = recomputed.get(cp.entry_id)
    if got is None:
        problems.append(f"{name}: that entry is no longer in the log (entries were deleted)")
    elif got != cp.entry_sha256:
        problems.append(
            f"{name}: the log up to entry {cp.entry_id} is not what was signed on "
            f"{cp.signed_at}: entries were rewritten and re-hashed"
        )
    if roots is not None:
        moment = parsed.signing_time or datetime.now(UTC)
        chain = validate_chain(
            parsed.signer,
            trust_roots=roots,
            intermediates=parsed.other_certificates,
            moment=moment,
        )
        if chain.status is not ChainStatus.VALID:
            problems.append(f"{name}: its signer is not trusted ({chain.message})")


def verify_checkpoints(
    store: Store, roots: Sequence[asn1_x509.Certificate] | None = None
) -> CheckpointReport:
    """Check every stored checkpoint against the recomputed chain (and *roots*, if given)."""
    checkpoints = list(store.checkpoints.all())
    report = CheckpointReport(len(checkpoints), signers_verified=roots is not None)
    recomputed = _entry_hashes(store, {cp.entry_id for cp in checkpoints})
    for cp in checkpoints:
        try:
            _check_one(cp, recomputed, roots, report.problems)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            report.problems.append(f"checkpoint {cp.checkpoint_id}: unreadable ({exc})")
        report.newest_entry = max(report.newest_entry, cp.entry_id)
    return report
