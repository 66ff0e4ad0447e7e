"""Session checks of the ``pre_pin_checks`` stage for the DEA PKI: clock, anchor, revocation.

The rules are :mod:`csos_desktop.pki.signing_rules` (one place); this module measures
what they judge: the clock against its reference, the path to a configured trust anchor,
and fetched or cached revocation data. Network work runs on a thread of its own: the GUI
calls checks on the token thread, where SoftHSM2 leaves OpenSSL errors that break TLS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

from asn1crypto import x509 as asn1_x509

from csos_desktop.config import load_config
from csos_desktop.domain.errors import SessionRefused
from csos_desktop.pki.chain import validate_chain
from csos_desktop.pki.signing_rules import Decision, Ruling, judge_chain, judge_clock
from csos_desktop.services.context import current
from csos_desktop.services.signing.checks import SigningFacts, SigningPurpose
from csos_desktop.services.signing.clock_reference import read_clock
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.trust.revocation import RevocationSource, path_to_anchor

T = TypeVar("T")


class ClockNotTrusted(SessionRefused):
    """This computer's clock is more than five minutes off, or could not be checked and the
    policy refuses (21 CFR 1311.55(b)(8))."""


class CertificateNotTrusted(SessionRefused):
    """The certificate is revoked, or does not chain to a configured trust anchor."""


def _off_thread(fn: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pre-pin-network") as pool:
        return pool.submit(fn).result()


def clock_ruling() -> Ruling:
    refuse = load_config().text("clock_unverifiable") == "REFUSE"
    return judge_clock(_off_thread(read_clock), refuse_unverified=refuse)


#: The preview and the batch check the same path: its ruling is kept this long per
#: identity, measured on the signing clock (a batch older than that gathers it again).
RULING_KEPT_SECONDS = 60.0
_rulings: dict[tuple[bytes, ...], tuple[datetime, Ruling]] = {}
_rulings_lock = threading.Lock()


def chain_ruling(
    identity: SigningIdentity, chain_der: Sequence[bytes], *, now: datetime, offline: bool = False
) -> Ruling:
    anchors = current().trust_anchors()
    key = (
        identity.certificate_der,
        *chain_der,
        *(a.sha256 for a in anchors),
        b"offline" if offline else b"",
    )
    with _rulings_lock:
        held = _rulings.get(key)
    if held is not None and abs((now - held[0]).total_seconds()) < RULING_KEPT_SECONDS:
        return held[1]
    ruling = _chain_ruling(identity, chain_der, anchors, now=now, offline=offline)
    with _rulings_lock:
        _rulings[key] = (now, ruling)
    return ruling


def _chain_ruling(
    identity: SigningIdentity,
    chain_der: Sequence[bytes],
    anchors: list[asn1_x509.Certificate],
    *,
    now: datetime,
    offline: bool,
) -> Ruling:
    signer = asn1_x509.Certificate.load(identity.certificate_der)
    intermediates = [asn1_x509.Certificate.load(d) for d in chain_der]
    path, anchor = path_to_anchor(signer, intermediates, anchors)
    missing = None if anchor is not None else str(path[-1].issuer.human_friendly)
    source = RevocationSource()
    data = _off_thread(
        lambda: source.for_path(signer, intermediates, anchors, now=now, offline=offline)
    )
    result = validate_chain(
        signer,
        trust_roots=anchors,
        intermediates=intermediates,
        crls=data.crls,
        ocsps=data.ocsps,
        moment=now,
        require_revocation=True,
    )
    return judge_chain(result, missing)


def _apply(ruling: Ruling, facts: SigningFacts, refusal: type[SessionRefused]) -> None:
    if ruling.decision is Decision.REFUSE:
        raise refusal(f"Nothing can be signed: {ruling.message}.")
    if ruling.decision is Decision.WARN and ruling.message not in facts.warnings:
        facts.warnings.append(ruling.message)


def clock_within_five_minutes(facts: SigningFacts) -> None:
    """1311.55(b)(8): the clock within five minutes of the reference, for every purpose."""
    _apply(clock_ruling(), facts, ClockNotTrusted)


def chains_to_an_anchor_and_not_revoked(facts: SigningFacts) -> None:
    """Purchaser side: a chain to a configured anchor; revoked refuses, unknown warns.
    Renewal and revocation requests are exempt (the CA judges its own certificate)."""
    if facts.purpose is SigningPurpose.CERTIFICATE:
        return
    _apply(chain_ruling(facts.identity, facts.chain, now=facts.now), facts, CertificateNotTrusted)
