"""A token holding two locations' CSOS certificates: one key pair per DEA registration.

Both keys are generated on the SoftHSM2 token and certified by the sandbox CA for two DEA
numbers (21 CFR 1311.35: one certificate per registered location), as a pharmacist who
orders for two pharmacies holds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.enrol.flow import new_key_and_csr
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token, token_by_label
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.provisioning import install_certificate
from csos_desktop.token.session import TokenSession
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA, TEST_PIN
from tests.unit.domain.samples import sample_order_input

#: The second location's registration (a valid DEA check digit).
SECOND_DEA = "BS2468139"
LABEL = "csos-locations"


@dataclass(frozen=True)
class Location:
    dea: str
    name: str
    city: str
    key_id: bytes
    certificate_der: bytes


@dataclass(frozen=True)
class LocationsToken:
    hsm: SoftHsmToken
    main: Location
    north: Location

    @property
    def label(self) -> str:
        return self.hsm.label


_made: dict[Path, LocationsToken] = {}


def locations_token(hsm_dir: Path, ca: TestCa) -> LocationsToken:
    """The token, made once per test session (a new SoftHSM2 token re-initialises the
    module, so callers make it from a session fixture that runs after ``tokens``)."""
    if hsm_dir not in _made:
        hsm = create_token(hsm_dir, LABEL, TEST_PIN)
        ts = TokenSession(token_by_label(hsm.module, hsm.label), rw=True)
        ts.login(TEST_PIN)
        with ts:
            main = _certify(ts, ca, PURCHASER_DEA, "Main Street Pharmacy", "Springfield")
            north = _certify(ts, ca, SECOND_DEA, "Northside Pharmacy", "Peoria")
        _made[hsm_dir] = LocationsToken(hsm, main, north)
    return _made[hsm_dir]


def _certify(
    ts: TokenSession,
    ca: TestCa,
    dea: str,
    name: str,
    city: str,
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048,
    days: int = 365,
) -> Location:
    subject = {
        "common_name": "Dana Whitfield",
        "organization_name": name,
        "locality_name": city,
        "state_or_province_name": "IL",
    }
    pending = new_key_and_csr(ts, algorithm, subject, name)
    cert = ca.issue(pending.csr_der, dea_number=dea, schedules=ALL_SCHEDULES, days=days)
    der = cert.public_bytes(Encoding.DER)
    install_certificate(ts, pending.key, der, [ca.issuing_certificate.public_bytes(Encoding.DER)])
    return Location(dea, name, city, pending.key.key_id, der)


@contextmanager
def extra_certificate(tok: LocationsToken, ca: TestCa, dea: str) -> Iterator[Location]:
    """A further key and certificate for *dea* on the token (a renewal kept next to the old
    one), removed again after: two certificates then match that purchaser."""
    ts = TokenSession(token_by_label(tok.hsm.module, tok.label), rw=True)
    ts.login(TEST_PIN)
    with ts:  # logged out again before use: PKCS#11 login is per application
        # A day longer, as a renewal runs: "expiring last" must not hang on issuing within
        # the same second as the session's first certificate.
        made = _certify(
            ts, ca, dea, "Main Street Pharmacy", "Springfield", KeyAlgorithm.P256, days=366
        )
    try:
        yield made
    finally:
        ts = TokenSession(token_by_label(tok.hsm.module, tok.label), rw=True)
        ts.login(TEST_PIN)
        with ts:
            for obj in ts.session.get_objects({pkcs11.Attribute.ID: made.key_id}):
                obj.destroy()


def order_for(location: Location, number: str) -> dict[str, Any]:
    """Order input whose purchaser is *location*."""
    data = sample_order_input()
    data["order_number"] = number
    data["purchaser"]["dea_number"] = location.dea
    data["purchaser"]["name"] = location.name
    data["purchaser"]["address"]["city"] = location.city
    return data
