"""Which certificate signs: one, or the one for each order's purchaser (several locations).

:func:`signing_session` opens the token and finds the identities without a PIN. For one
certificate it gives a :class:`~.session.SigningSession`; when each order's purchaser
chooses the certificate (``by_purchaser``) it gives an :class:`IdentityChoice`, which does
not sign: ``for_order`` gives the ``SigningSession`` of the certificate chosen for the
order, on the same token session, under the same login, sharing one warnings list.
Services take either (:data:`Signing`); both answer ``for_order``, ``usable_for``,
``choose``, ``mixes_locations``, ``token_info``, ``log_in``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal, overload

from csos_desktop import paths
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import Order
from csos_desktop.services.interaction import Interaction, log_in
from csos_desktop.services.signing.checks import PrePinChecks, SigningPurpose, default_checks
from csos_desktop.services.signing.locations import choose_for_purchaser, order_schedules_covered
from csos_desktop.services.signing.session import SigningSession
from csos_desktop.token.identity import SigningIdentity, TokenTarget, open_identity
from csos_desktop.token.session import TokenSession
from csos_desktop.token.slots import TokenInfo, describe, refreshed


@dataclass(frozen=True)
class Locations:
    """What a choice needs to pick a certificate per order (several locations)."""

    identities: tuple[SigningIdentity, ...]
    chain_of: Callable[[SigningIdentity], list[bytes]]
    #: The signer's explicit choice (``--cert-id``, the dialog's picker), hex CKA_ID.
    cert_id: str | None = None
    #: The DEA number the app knows for a certificate, given the purchaser's number.
    known: Callable[[SigningIdentity, str], str | None] = lambda _i, _dea: None
    #: Purchaser DEA number → hex CKA_ID chosen in the dialog's picker.
    chosen: Mapping[str, str] = field(default_factory=dict)


class IdentityChoice:
    """The certificates on one token session, each order signed by its purchaser's."""

    def __init__(
        self,
        ts: TokenSession,
        identity: SigningIdentity,
        chain: Sequence[bytes],
        purpose: SigningPurpose,
        locations: Locations,
        *,
        checks: PrePinChecks | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.ts = ts
        #: The certificate shown when none is chosen yet (the token's status line).
        self.identity = identity
        self.chain = list(chain)
        self.purpose = purpose
        self.locations = locations
        self.checks = default_checks() if checks is None else checks
        self.clock = clock
        #: One list for every certificate's session: all are shown before the PIN.
        self.warnings: list[str] = []
        self._sessions: dict[bytes, SigningSession] = {}

    @property
    def mixes_locations(self) -> bool:
        """Several certificates, none chosen: a certificate that cannot sign now refuses
        only its own location's orders, not the batch."""
        loc = self.locations
        return loc.cert_id is None and len(loc.identities) > 1

    def session_of(self, identity: SigningIdentity) -> SigningSession:
        """The signer for *identity*: same token session, same login, same warnings."""
        if identity.key_id not in self._sessions:
            self._sessions[identity.key_id] = SigningSession(
                self.ts,
                identity,
                self.locations.chain_of(identity),
                self.purpose,
                checks=self.checks,
                clock=self.clock,
                warnings=self.warnings,
            )
        return self._sessions[identity.key_id]

    def for_order(self, order: Order, now: datetime | None = None) -> SigningSession:
        """The session of the certificate for *order*'s purchaser. Raises an
        ``ItemRefused`` before the PIN when no certificate, or several, fit
        (``locations.choose_for_purchaser``)."""
        when = self.clock() if now is None else now
        dea = order.purchaser.dea_number.value
        loc = self.locations

        def usable(identity: SigningIdentity) -> str | None:
            try:
                self.session_of(identity).check_session(when)
            except CsosError as exc:
                return exc.message
            return order_schedules_covered(identity, order)

        chosen = choose_for_purchaser(
            loc.identities,
            dea,
            cert_id=loc.cert_id or loc.chosen.get(dea),
            usable=usable,
            known=lambda i: loc.known(i, dea),
        )
        return self.session_of(chosen)

    def usable_for(self, orders: Sequence[Order], now: datetime) -> list[SigningIdentity]:
        """The certificates that match the purchaser of *orders* (one purchaser) and can
        sign all of them now: the signing dialog's picker offers these."""
        if not orders:
            return [self.identity]
        dea = orders[0].purchaser.dea_number.value
        out = []
        for identity in self.locations.identities:
            if not identity.info.matches_dea(dea):
                continue
            try:
                self.session_of(identity).check_session(now)
            except CsosError:
                continue
            if all(order_schedules_covered(identity, o) is None for o in orders):
                out.append(identity)
        return out

    def choose(self, choices: Mapping[str, str]) -> None:
        """The signer's choice per purchaser DEA number (hex CKA_ID), e.g. the dialog's."""
        self.locations = replace(self.locations, chosen=dict(choices))

    def token_info(self) -> TokenInfo:
        """The token's label, model and current PIN state (flags read afresh)."""
        return describe(refreshed(self.ts.token))

    def check_session(self, now: datetime | None = None) -> None:
        """The session checks of every certificate chosen so far."""
        for session in self._sessions.values():
            session.check_session(now)

    def log_in(self, interaction: Interaction) -> None:
        """The chosen certificates' session checks once more, then one login for all."""
        self.check_session()
        for warning in self.warnings:  # seen before the PIN is asked (CLI, GUI, services)
            interaction.notify(f"warning: {warning}")
        log_in(self.ts, interaction)


#: What a signing service takes: one certificate, or the choice per purchaser.
Signing = SigningSession | IdentityChoice


def known_number(identity: SigningIdentity, dea: str) -> str | None:
    """The DEA number the app knows for *identity* (purchaser, enrolment, settings), only
    when its hash matches: a number that does not match says nothing about the location."""
    from csos_desktop.enrol.known_dea import known_dea  # enrolment records

    known = known_dea(identity, dea)
    return known.number if known is not None and known.matches else None


@overload
def signing_session(
    target: TokenTarget,
    purpose: SigningPurpose,
    *,
    checks: PrePinChecks | None = ...,
    clock: Clock = ...,
    rw: bool = ...,
    stored_chain: Path | None = ...,
    by_purchaser: Literal[False] = ...,
) -> AbstractContextManager[SigningSession]: ...


@overload
def signing_session(
    target: TokenTarget,
    purpose: SigningPurpose,
    *,
    checks: PrePinChecks | None = ...,
    clock: Clock = ...,
    rw: bool = ...,
    stored_chain: Path | None = ...,
    by_purchaser: Literal[True],
) -> AbstractContextManager[IdentityChoice]: ...


def signing_session(
    target: TokenTarget,
    purpose: SigningPurpose,
    *,
    checks: PrePinChecks | None = None,
    clock: Clock = utc_now,
    rw: bool = False,
    stored_chain: Path | None = None,
    by_purchaser: bool = False,
) -> AbstractContextManager[Signing]:
    """Open the token and find the identity and chain without a PIN; closes on exit.

    ``stored_chain`` defaults to the chain saved at enrolment (``paths.chain_file()``);
    ``rw`` is for renewal, which writes a new key and certificate. ``by_purchaser``
    (orders, receipts): an ``IdentityChoice``, the certificate chosen per order.
    """
    return _opened(target, purpose, checks, clock, rw, stored_chain, by_purchaser)


@contextmanager
def _opened(
    target: TokenTarget,
    purpose: SigningPurpose,
    checks: PrePinChecks | None,
    clock: Clock,
    rw: bool,
    stored_chain: Path | None,
    by_purchaser: bool,
) -> Iterator[Signing]:
    chain_path = paths.chain_file() if stored_chain is None else stored_chain
    # Prescriptions and grant approvals may use a CSP certificate without DEA extensions.
    epcs = purpose in (SigningPurpose.PRESCRIPTION, SigningPurpose.GRANT_APPROVAL)
    with open_identity(
        target, stored_chain=chain_path, rw=rw, epcs=epcs, by_purchaser=by_purchaser
    ) as opened:
        if by_purchaser:
            locations = Locations(opened.identities, opened.chain_of, target.cert_id, known_number)
            yield IdentityChoice(
                opened.session,
                opened.identity,
                opened.chain,
                purpose,
                locations,
                checks=checks,
                clock=clock,
            )
        else:
            yield SigningSession(
                opened.session, opened.identity, opened.chain, purpose, checks=checks, clock=clock
            )
