"""A signer for one identity: its checks, the one login, the signature.

Every signing path, GUI or CLI, opens the token with :func:`.choice.signing_session`,
which gives a :class:`SigningSession` (one certificate) or, when each order's purchaser
chooses the certificate, an :class:`.choice.IdentityChoice` whose ``for_order`` gives the
:class:`SigningSession` of the certificate chosen. A session then:

1. ``check(items)``: the ``pre_pin_checks`` stage (``checks.default_checks``),
   before any PIN; a refusal is a typed ``PrePinRefusal`` with an actionable message;
2. ``log_in(interaction)``: runs the session checks once more, then asks the PIN
   once (or the PIN pad) and never retries it;
3. ``sign(document)``: a detached CMS signature made on the token and verified
   before it is returned, so a bad signature is never kept.

The bytes passed to ``sign`` are the bytes to keep and send, exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import Order
from csos_desktop.pki.bare_signature import bare_signature_valid
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.cms_parse import parse_signed_data, signature_valid
from csos_desktop.services.interaction import Interaction, log_in
from csos_desktop.services.signing.checks import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    default_checks,
)
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner
from csos_desktop.token.slots import TokenInfo, describe, refreshed


class SignatureSelfCheckFailed(CsosError):
    """The token returned a signature that does not verify; nothing is kept."""


class SigningSession:
    """One identity on one token session, with the checks to run before the PIN."""

    def __init__(
        self,
        ts: TokenSession,
        identity: SigningIdentity,
        chain: Sequence[bytes],
        purpose: SigningPurpose,
        *,
        checks: PrePinChecks | None = None,
        clock: Clock = utc_now,
        warnings: list[str] | None = None,
    ) -> None:
        self.ts = ts
        self.identity = identity
        self.chain = list(chain)
        self.purpose = purpose
        self.checks = default_checks() if checks is None else checks
        self.clock = clock
        #: Warnings from the checks (revocation unknown, clock unverified): show them.
        #: Shared with the other certificates' sessions of an ``IdentityChoice``.
        self.warnings: list[str] = [] if warnings is None else warnings
        self._cms: CmsSigner | None = None
        self._signer: TokenSigner | None = None

    # -- the same questions an IdentityChoice answers, for one certificate ---------------
    @property
    def mixes_locations(self) -> bool:
        return False

    def for_order(self, order: Order, now: datetime | None = None) -> SigningSession:
        """The session that signs *order*: this one (its checks refuse another purchaser)."""
        return self

    def usable_for(self, orders: Sequence[Order], now: datetime) -> list[SigningIdentity]:
        return [self.identity]

    def choose(self, choices: Mapping[str, str]) -> None:
        """Nothing to choose: one certificate."""

    # -- before the PIN ---------------------------------------------------------------
    def token_info(self) -> TokenInfo:
        """The token's label, model and current PIN state (flags read afresh)."""
        return describe(refreshed(self.ts.token))

    def facts(self, now: datetime | None = None) -> SigningFacts:
        return SigningFacts(
            self.purpose,
            self.identity,
            tuple(self.chain),
            self.ts.info,
            self.clock() if now is None else now,
            self.warnings,
        )

    def check_session(self, now: datetime | None = None) -> None:
        """The session checks: raises a ``SessionRefused`` when nothing may be signed."""
        self.checks.run_session(self.facts(now))

    def check_item(self, item: object, now: datetime | None = None) -> None:
        """The item checks for one order, prescription, ...: raises ``ItemRefused``."""
        self.checks.run_item(self.facts(now), item)

    def check(self, items: Sequence[object] = (), now: datetime | None = None) -> None:
        """The whole ``pre_pin_checks`` stage: session checks, then each item's."""
        self.checks.run(self.facts(now), items)

    # -- the PIN and the signature ------------------------------------------------------
    def log_in(self, interaction: Interaction) -> None:
        """Session checks once more, then one login; the PIN is never retried or kept."""
        self.check_session()
        for warning in self.warnings:  # seen before the PIN is asked (CLI, GUI, services)
            interaction.notify(f"warning: {warning}")
        log_in(self.ts, interaction)

    def sign(self, document: bytes, now: datetime | None = None) -> bytes:
        """A detached CMS signature over *document*, verified before it is returned."""
        if self._cms is None:
            self._cms = CmsSigner(self._token_signer(), self.identity.certificate_der, self.chain)
        signature = self._cms.sign(document, self.clock() if now is None else now)
        if not signature_valid(parse_signed_data(signature)):
            raise SignatureSelfCheckFailed(
                "The token produced a signature that does not verify; nothing was signed "
                "or kept. Check that the certificate on the token belongs to its key."
            )
        return signature

    def _token_signer(self) -> TokenSigner:
        if self._signer is None:
            self._signer = TokenSigner(self.ts, self.identity.key_id)
        return self._signer

    def sign_bare(self, data: bytes) -> bytes:
        """A bare SHA-256 signature over *data* (PKCS#1 v1.5 or DER ECDSA), for formats
        that carry their own signature element; verified before it is returned."""
        signature = self._token_signer().sign_digest(hashlib.sha256(data).digest())
        if not bare_signature_valid(self.identity.certificate_der, data, signature):
            raise SignatureSelfCheckFailed(
                "The token produced a signature that does not verify; nothing was signed "
                "or kept. Check that the certificate on the token belongs to its key."
            )
        return signature
