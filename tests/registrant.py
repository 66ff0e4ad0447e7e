"""Record the registrant (21 CFR 1305.05) the way a pharmacy does, before schedule II orders.

A schedule I/II order is signed only once the registrant is recorded. Tests that sign
such orders record the token holder as the registrant through the product's own use
case (``services.orders.poa.record_registrant``, audited), not around the rule.
"""

from __future__ import annotations

from pathlib import Path

from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.services.orders import poa as poa_svc
from csos_desktop.store import open_store
from csos_desktop.store.local_store import Store
from csos_desktop.store.poa import Registrant
from csos_desktop.token.identity import SigningIdentity
from tests.conftest import PURCHASER_DEA, Provisioned

REGISTRANT_NAME = "Jane Registrant"


def identity_of(prov: Provisioned) -> SigningIdentity:
    """The signing identity on *prov*'s token (its key id and CSOS certificate)."""
    info = read_csos_profile(asn1_x509.Certificate.load(prov.certificate_der))
    return SigningIdentity(prov.key.key_id, prov.certificate_der, info, prov.label)


def record_registrant(
    store: Store, prov: Provisioned, *, name: str = REGISTRANT_NAME, dea: str = PURCHASER_DEA
) -> Registrant:
    """*prov*'s certificate holder is the registrant of *dea* (as `csos poa registrant`)."""
    return poa_svc.record_registrant(store, identity_of(prov), name, dea_number=dea)


def record_registrant_at(db: Path, prov: Provisioned, **kwargs: str) -> Registrant:
    """The same in the store at *db* (a test home's ``data/csos.db``)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open_store(db) as store:
        return record_registrant(store, prov, **kwargs)
