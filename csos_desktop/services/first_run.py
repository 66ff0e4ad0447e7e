"""The getting-started checklist Home shows until each step is done."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from csos_desktop.config import load_config
from csos_desktop.domain.errors import CsosError
from csos_desktop.services.tokens.status import TokenStatus


class FirstRunStep(Enum):
    """A step, and the action its button takes (the GUI maps it to a screen or wizard)."""

    TOKEN = "token"
    CERTIFICATE = "certificate"
    TRUST_ANCHORS = "trust-anchors"
    DISTRIBUTOR = "distributor"
    CATALOGUE = "catalogue"
    REGISTRANT = "registrant"


@dataclass(frozen=True)
class ChecklistItem:
    step: FirstRunStep
    done: bool
    text: str
    button: str


def checklist(
    status: TokenStatus,
    *,
    trust_anchors: bool,
    distributor: bool,
    catalogue: bool = True,
    registrant: bool = True,
) -> tuple[ChecklistItem, ...]:
    """The six steps and whether each is done (pure: the caller reads the facts)."""
    if status.token is not None:
        token_text = f"Token '{status.token.label}' found ({status.token.kind_text})."
    elif status.module is None:
        token_text = (
            f"No token driver found: {status.problem or ''} Install your token's driver "
            "(most smart cards: OpenSC) or set it in Settings."
        )
    else:
        token_text = "Driver found; insert your USB token or smart card."
    cert = status.certificate
    return (
        ChecklistItem(FirstRunStep.TOKEN, status.token is not None, token_text, "Settings…"),
        ChecklistItem(
            FirstRunStep.CERTIFICATE,
            cert is not None,
            f"CSOS certificate for {cert.subject} on the token."
            if cert is not None
            else "Get a CSOS certificate. From the DEA's CSOS CA: apply with the DEA forms, "
            "retrieve the certificate in a browser at the DEA's site with the two activation "
            "codes (e-mail and post), then move the .p12 onto the token "
            "(`csos cert import-p12`). Enrol (EST) only with a CA that offers it.",
            "Certificates…",
        ),
        ChecklistItem(
            FirstRunStep.TRUST_ANCHORS,
            trust_anchors,
            "The DEA's CA certificates (trust anchors) are installed."
            if trust_anchors
            else "Add the DEA's CA certificates (trust anchors: `csos trust add`, or IT's "
            "trust_anchors policy), so certificates and signatures can be checked.",
            "Settings…",
        ),
        ChecklistItem(
            FirstRunStep.DISTRIBUTOR,
            distributor,
            "Distributor account connected."
            if distributor
            else "Connect your distributor account (its CSOS address and credential).",
            "Settings…",
        ),
        ChecklistItem(
            FirstRunStep.CATALOGUE,
            catalogue,
            "A product catalogue is in use for SOM."
            if catalogue
            else "Import the FDA product catalogue (`csos catalogue import product.txt "
            "package.txt`): without it SOM places order lines by history only.",
            "Settings…",
        ),
        ChecklistItem(
            FirstRunStep.REGISTRANT,
            registrant,
            "The registrant (who signed the DEA registration application) is recorded."
            if registrant
            else "Record the registrant before the first schedule I/II order (21 CFR 1305.05): "
            "the person who signed the DEA registration application, with their token "
            '(`csos poa registrant --name "FULL NAME" --dea DEA`, or Power of attorney).',
            "Power of attorney…",
        ),
    )


@dataclass(frozen=True)
class SetupFacts:
    """The steps this machine's files decide (the token's come with its status)."""

    trust_anchors: bool
    distributor: bool
    catalogue: bool = True
    registrant: bool = True


def read_setup_facts() -> SetupFacts:
    """Read the trust store and the configuration (files, and the certificate parser)."""
    from csos_desktop.trust.anchors import list_anchors  # asn1crypto: not before first paint

    try:
        anchors = bool(list_anchors())
    except CsosError:
        anchors = False  # an unreadable trust_anchors file: doctor says why
    from csos_desktop.services.orders.catalogue import catalogue_in_use  # opens the store

    distributor = bool(load_config().text("distributor_url"))
    return SetupFacts(anchors, distributor, catalogue_in_use(), registrant_recorded())


def registrant_recorded() -> bool:
    """Whether a registrant is recorded in this machine's store (1305.05), without making
    a store that is not there."""
    from csos_desktop.store.db import default_path
    from csos_desktop.store.local_store import open_store

    path = default_path()
    if not path.exists():
        return False
    with open_store(path) as store:
        return bool(store.poa.registrant_deas())


def current_checklist(
    status: TokenStatus, facts: SetupFacts | None = None
) -> tuple[ChecklistItem, ...]:
    """The checklist with the facts read from this machine (now, unless *facts* are given)."""
    facts = read_setup_facts() if facts is None else facts
    return checklist(
        status,
        trust_anchors=facts.trust_anchors,
        distributor=facts.distributor,
        catalogue=facts.catalogue,
        registrant=facts.registrant,
    )
