"""1305.22(f): the sandbox distributor ships only to the certificate's registered location.

Orders signed on the SoftHSM2 token with certificates from the test CA whose DEA
postal-address extension (``2.16.840.1.101.3.5.6``) names an address, sent over TLS
to the running sandbox distributor.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order import Address
from csos_desktop.sandbox.distributor.ship_to import check_ship_to
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox, signed
from tests.integration.signing import issue_for_token

#: The sample order's purchaser: 120 Main Street, Springfield, IL 62701.
REGISTERED = ("120 MAIN ST.", "SPRINGFIELD, IL 62701-1234")


def _submit(start_sandbox: StartSandbox, prov: Provisioned, address: tuple[str, ...]) -> object:
    sandbox = start_sandbox()
    cert = issue_for_token(sandbox.ca, prov, postal_address=address)
    document, signature, key = signed(
        prov, sandbox.ca, certificate_der=cert.public_bytes(Encoding.DER)
    )
    with sandbox.client() as client:
        return client.submit_order(key, document, signature)


def test_an_order_to_the_certificates_registered_location_is_accepted(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    # Case, punctuation, "Street"/"ST" and a ZIP+4 on one side are the same place.
    record = _submit(start_sandbox, rsa_token, REGISTERED)
    assert record.status == "accepted", record.reasons  # type: ignore[attr-defined]
    assert not [w for w in record.warnings if "ship-to" in w]  # type: ignore[attr-defined]


def test_an_order_shipping_elsewhere_is_refused_as_not_the_registered_location(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    record = _submit(start_sandbox, rsa_token, ("48 Elm Street", "Springfield, IL 62704"))
    assert record.status == "rejected"  # type: ignore[attr-defined]
    assert [r.code for r in record.reasons] == ["ship-to-not-registered-location"]  # type: ignore[attr-defined]
    [reason] = record.reasons  # type: ignore[attr-defined]
    assert "street '120 Main Street'" in reason.message and "ZIP code" in reason.message
    assert "1305.22(f)" in reason.message
    assert record.statement is not None and "1305.22(f)" in record.statement  # type: ignore[attr-defined]


def test_a_certificate_without_a_registered_address_is_accepted_with_a_warning(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    # The test CA's default extension says only "TEST ONLY": no location to compare.
    record = _submit(start_sandbox, rsa_token, ("TEST ONLY",))
    assert record.status == "accepted", record.reasons  # type: ignore[attr-defined]
    assert any("ship-to was not compared" in w for w in record.warnings)  # type: ignore[attr-defined]


def test_the_comparison_rule() -> None:
    ship = Address("120 Main Street", "Springfield", "IL", "62701")
    assert check_ship_to(ship, REGISTERED).mismatch is None
    assert check_ship_to(ship, ("120 Main St, Springfield IL 62701",)).mismatch is None
    wrong_city = check_ship_to(ship, ("120 Main St", "Springfield Gardens, IL 62701"))
    assert wrong_city.mismatch is None  # the city's words appear: a known leniency
    other_state = check_ship_to(ship, ("120 Main St", "Springfield, MO 62701")).mismatch
    assert other_state is not None and "state 'IL'" in other_state
    other_number = check_ship_to(ship, ("1200 Main St", "Springfield, IL 62701")).mismatch
    assert other_number is not None and "street" in other_number
    assert check_ship_to(ship, ()).unverified is not None
    assert "no postal-address extension" in str(check_ship_to(ship, ()).unverified)
