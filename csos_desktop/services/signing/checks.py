"""The ``pre_pin_checks`` stage: what must hold before anyone is asked for a PIN.

Every signing path (orders, receipts, prescriptions, grant approvals, certificate
renewal and revocation requests) goes through :class:`~.session.SigningSession`,
which runs these checks before it asks the PIN and again for each item it signs.
A check is a plain function that returns nothing when all is well and raises a
typed error whose message says what to do:

- a *session check* ``(facts) -> None`` raises a :class:`SessionRefused` subclass
  (nothing can be signed with this certificate/token now: the whole job stops);
- an *item check* ``(facts, item) -> None`` raises an :class:`ItemRefused` subclass
  (this order or prescription is refused; a batch goes on without it). Items are
  domain values (``Order``, ``Prescription``, ...): check with ``isinstance`` and
  return for the kinds a check is not about.

To add a check, write the function here (or in its own module) and add it to
:func:`default_checks`. See docs/signing.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from csos_desktop.domain.errors import ItemRefused
from csos_desktop.domain.order import Order
from csos_desktop.domain.prescription import Prescription
from csos_desktop.services.tokens.assurance import software_tokens_allowed
from csos_desktop.token.assurance import require_hard_token
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.slots import TokenInfo


class SigningPurpose(Enum):
    """What a signing session signs; checks may apply to some purposes only."""

    ORDER = "order"
    RECEIPT = "receipt"
    PRESCRIPTION = "prescription"
    GRANT_APPROVAL = "grant-approval"
    #: A renewal request or revocation request signed with the certificate's own key.
    CERTIFICATE = "certificate"
    #: The manifest of an archive bundle, signed by the exporting pharmacist.
    ARCHIVE_MANIFEST = "archive-manifest"
    #: The audit chain's head, signed at the end of a signing session.
    AUDIT_CHECKPOINT = "audit-checkpoint"


@dataclass(frozen=True)
class SigningFacts:
    """What a check may look at: known without a PIN, nothing secret."""

    purpose: SigningPurpose
    identity: SigningIdentity
    chain: tuple[bytes, ...]
    #: None only where no token is involved (software-key tests).
    token: TokenInfo | None
    now: datetime
    #: What the signer must see but that does not stop signing (checks append to it).
    warnings: list[str] = field(default_factory=list)


SessionCheck = Callable[[SigningFacts], None]
ItemCheck = Callable[[SigningFacts, object], None]


@dataclass(frozen=True)
class PrePinChecks:
    """The checks a signing session runs before the PIN, in order; the first refusal wins."""

    session: tuple[SessionCheck, ...] = ()
    items: tuple[ItemCheck, ...] = ()

    def extended(
        self, session: tuple[SessionCheck, ...] = (), items: tuple[ItemCheck, ...] = ()
    ) -> PrePinChecks:
        return PrePinChecks((*self.session, *session), (*self.items, *items))

    def run_session(self, facts: SigningFacts) -> None:
        """Raises the first session check's ``SessionRefused``."""
        for check in self.session:
            check(facts)

    def run_item(self, facts: SigningFacts, item: object) -> None:
        """Raises the first item check's ``ItemRefused`` for *item*."""
        for check in self.items:
            check(facts, item)

    def run(self, facts: SigningFacts, items: Sequence[object] = ()) -> None:
        """The whole stage: session checks, then each item's."""
        self.run_session(facts)
        for item in items:
            self.run_item(facts, item)


class OrderNotSignable(ItemRefused):
    """The order cannot be signed with this certificate (checked before the PIN is asked)."""


class NotReadyToSign(ItemRefused):
    """Nothing is marked ready, or the practitioner may not sign these prescriptions."""


# -- session checks ----------------------------------------------------------------------


def certificate_in_validity(facts: SigningFacts) -> None:
    """21 CFR 1311.30/1311.55: an expired or not-yet-valid certificate signs nothing.

    Renewal and revocation requests are exempt: they have their own rules about expiry
    (``enrol.renewal``), and a holder must be able to ask for revocation at any time.
    """
    if facts.purpose is not SigningPurpose.CERTIFICATE:
        facts.identity.check_usable(facts.now)


#: What 21 CFR 1311.115's hard-token rule covers: signing prescriptions and the approvals
#: that let someone sign them. CSOS orders on a software token stay allowed (labelled).
EPCS_PURPOSES = frozenset({SigningPurpose.PRESCRIPTION, SigningPurpose.GRANT_APPROVAL})


def hard_token_for_epcs(allowed: bool) -> SessionCheck:
    """1311.115: EPCS on a software token is refused unless the machine policy allows it."""

    def check(facts: SigningFacts) -> None:
        if facts.purpose in EPCS_PURPOSES and facts.token is not None:
            require_hard_token(facts.token.label, facts.token.software, allowed=allowed)

    return check


# -- item checks -------------------------------------------------------------------------


def order_matches_certificate(facts: SigningFacts, item: object) -> None:
    """1305.21: the purchaser is the certificate's registrant (its DEA-number hash), for
    schedules it covers."""
    if not isinstance(item, Order):
        return
    info = facts.identity.info
    dea = item.purchaser.dea_number.value
    problems = []
    if not info.matches_dea(dea):
        problems.append(
            f"your certificate was issued for another DEA number than the purchaser's {dea} "
            "(its DEA number hash does not match)"
        )
    unauthorised = sorted(
        {
            line.schedule.value
            for line in item.lines
            if line.schedule is not None and line.schedule not in info.schedules
        }
    )
    if unauthorised:
        problems.append(
            "your certificate does not authorise schedule(s) "
            + ", ".join(unauthorised)
            + " (remove those lines or use a certificate that covers them)"
        )
    if problems:
        raise OrderNotSignable("This order cannot be signed: " + "; ".join(problems) + ".")


def prescription_matches_certificate(facts: SigningFacts, item: object) -> None:
    """1311.140: only the practitioner named on the prescription signs it, within schedule.

    A credential service provider's certificate without the DEA extensions (1311.105) is
    bound to the practitioner by the access-control grant (1311.125), checked by the
    prescription services; one with them must carry the hash of the practitioner's number.
    """
    if not isinstance(item, Prescription):
        return
    info = facts.identity.info
    if not info.has_dea_extensions:
        return
    dea = item.practitioner.dea_number.value
    if not info.matches_dea(dea):
        raise NotReadyToSign(
            f"The prescription names DEA number {dea}, but the certificate on the token was "
            "issued for another DEA number (its DEA number hash does not match): only the "
            "practitioner named on the prescription may sign it."
        )
    if item.drug.schedule not in info.schedules:
        raise NotReadyToSign(
            f"Your certificate does not cover schedule {item.drug.schedule.value} "
            f"({item.drug.name}); it cannot be signed with it."
        )


def default_checks() -> PrePinChecks:
    """The checks every signing session runs. Add new checks here, in one place."""
    # Imported here: the PKI checks and the document rules import this module.
    from csos_desktop.services.signing.document_rules import (
        order_document_rules,
        prescription_document_rules,
    )
    from csos_desktop.services.signing.pki_checks import (
        chains_to_an_anchor_and_not_revoked,
        clock_within_five_minutes,
    )

    return PrePinChecks(
        session=(
            certificate_in_validity,
            hard_token_for_epcs(software_tokens_allowed()),
            clock_within_five_minutes,
            chains_to_an_anchor_and_not_revoked,
        ),
        items=(
            order_matches_certificate,
            prescription_matches_certificate,
            order_document_rules,
            prescription_document_rules,
        ),
    )
