"""Record the registrant (21 CFR 1305.05) the way a pharmacy does, before schedule II orders.

A schedule I/II order is signed only once the registrant is recorded. Tests that sign
such orders record the token holder as the registrant through the product's own use
case (``services.orders.poa.record_registrant``, audited), not around the rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.services.orders import poa as poa_svc
from csos_desktop.store import open_store
from csos_desktop.store.local_store import Store
from csos_desktop.store.poa import Registrant
from csos_desktop.token.identity import SigningIdentity
from tests.conftest import PURCHASER_DEA, Provisioned

if TYPE_CHECKING:  # it imports tests.conftest too
    from tests.integration.locations import Location, LocationsToken

REGISTRANT_NAME = "Jane Registrant"


def identity_of(key_id: bytes, certificate_der: bytes, label: str = "") -> SigningIdentity:
    """The signing identity of a key on a test token and its CSOS certificate."""
    info = read_csos_profile(asn1_x509.Certificate.load(certificate_der))
    return SigningIdentity(key_id, certificate_der, info, label)


def record_registrant(
    store: Store, prov: Provisioned, *, name: str = REGISTRANT_NAME, dea: str = PURCHASER_DEA
) -> Registrant:
    """*prov*'s certificate holder is the registrant of *dea* (as `csos poa registrant`)."""
    identity = identity_of(prov.key.key_id, prov.certificate_der, prov.label)
    return poa_svc.record_registrant(store, identity, name, dea_number=dea)


def record_identity(
    store: Store, identity: SigningIdentity, *, dea: str = PURCHASER_DEA
) -> Registrant:
    """*identity*'s certificate holder is the registrant of *dea*."""
    return poa_svc.record_registrant(store, identity, REGISTRANT_NAME, dea_number=dea)


def record_location_registrants(store: Store, token: LocationsToken) -> None:
    """Each location's certificate holder is the registrant of its DEA number."""
    place: Location
    for place in (token.main, token.north):
        identity = identity_of(place.key_id, place.certificate_der, token.label)
        poa_svc.record_registrant(store, identity, REGISTRANT_NAME, dea_number=place.dea)


def record_registrant_at(db: Path, prov: Provisioned, **kwargs: str) -> Registrant:
    """The same in the store at *db* (a test home's ``data/csos.db``)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open_store(db) as store:
        return record_registrant(store, prov, **kwargs)
