"""The check stage is a value: every session check runs for every certificate that will sign.

Whatever chose the certificate (one certificate matching the purchaser, several, a batch
mixing locations), the stage before the PIN runs the session checks of each certificate
that will sign, and returns their warnings with the orders; nothing depends on which
helper happened to be called first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csos_desktop.gui.jobs.signing import OrderBatch
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    TokenTarget,
    default_checks,
    signing_session,
)
from csos_desktop.store import Store, open_store
from tests.conftest import Provisioned
from tests.integration.locations import LocationsToken, order_for
from tests.registrant import record_location_registrants, record_registrant
from tests.unit.domain.samples import sample_order_input

OTHER_DEA = "AC3456781"
SEEN = "session check ran for this certificate"


class Counting:
    """A session check that records which certificate it judged, and warns once."""

    def __init__(self) -> None:
        self.runs: list[bytes] = []

    def __call__(self, facts: SigningFacts) -> None:
        self.runs.append(facts.identity.key_id)
        if SEEN not in facts.warnings:
            facts.warnings.append(SEEN)

    def checks(self) -> PrePinChecks:
        return default_checks().extended(session=(self,))


@pytest.fixture()
def store(tmp_path: Path, rsa_token: Provisioned) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        record_registrant(s, rsa_token)  # the sample orders carry schedule II (1305.05)
        yield s


def _drafts(store: Store, orders: list[dict[str, object]]) -> list[str]:
    year = f"{datetime.now(UTC):%y}"
    ids = []
    for n, data in enumerate(orders, start=1):
        data["order_number"] = f"{year}X{700 + n:06d}"
        ids.append(svc.import_orders(store, data, source="test")[0].order_id)
    return ids


def _check(target: TokenTarget, store: Store, ids: list[str]) -> tuple[svc.CheckedBatch, Counting]:
    """The check stage as the CLI and the GUI run it: certificates chosen by purchaser."""
    counting = Counting()
    with signing_session(
        target, SigningPurpose.ORDER, checks=counting.checks(), by_purchaser=True
    ) as choice:
        return svc.check_drafts(store, ids, choice, datetime.now(UTC)), counting


def test_one_certificate_chosen_by_purchaser_runs_the_session_checks(
    rsa_token: Provisioned, store: Store
) -> None:
    ids = _drafts(store, [sample_order_input() for _ in range(5)])
    checked, counting = _check(TokenTarget(rsa_token.hsm.module, rsa_token.label), store, ids)

    assert [o.order_id for o in checked.ready] == ids
    assert [s.key_id for s in checked.signers] == [rsa_token.key.key_id]
    # Once for the one certificate that signs, not once per order and not zero times.
    assert counting.runs == [rsa_token.key.key_id]
    assert SEEN in checked.warnings
    # The default checks' warnings come with it (no time reference in this home).
    assert len(checked.warnings) > 1


def test_several_certificates_each_run_their_session_checks(
    two_locations: LocationsToken, store: Store
) -> None:
    main, north = two_locations.main, two_locations.north
    record_location_registrants(store, two_locations)
    ids = _drafts(store, [order_for(main, ""), order_for(north, ""), order_for(main, "")])
    target = TokenTarget(two_locations.hsm.module, two_locations.label)
    checked, counting = _check(target, store, ids)

    assert len(checked.ready) == 3
    assert {s.key_id for s in checked.signers} == {main.key_id, north.key_id}
    assert set(counting.runs) == {main.key_id, north.key_id}
    assert SEEN in checked.warnings


def test_a_mixed_batch_checks_the_certificates_that_sign_and_refuses_the_rest(
    two_locations: LocationsToken, store: Store
) -> None:
    north = two_locations.north
    record_location_registrants(store, two_locations)
    elsewhere = order_for(north, "")
    elsewhere["purchaser"]["dea_number"] = OTHER_DEA
    ids = _drafts(store, [order_for(north, ""), elsewhere, order_for(north, "")])
    target = TokenTarget(two_locations.hsm.module, two_locations.label)
    checked, counting = _check(target, store, ids)

    assert [o.order_id for o in checked.ready] == [ids[0], ids[2]]
    assert [u.order_id for u in checked.refused] == [ids[1]]
    assert [s.key_id for s in checked.signers] == [north.key_id]
    assert north.key_id in counting.runs
    assert SEEN in checked.warnings


def test_gui_preview_shows_the_session_checks_warnings_for_one_certificate(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    path = tmp_path / "gui.db"
    with open_store(path) as store:
        record_registrant(store, rsa_token)
        ids = _drafts(store, [sample_order_input() for _ in range(5)])
    target = TokenTarget(rsa_token.hsm.module, rsa_token.label)
    preview = OrderBatch(path, ids, target).preview(lambda _event: None)

    assert len(preview.orders) == 5
    assert preview.warnings  # no time reference, revocation unknown: shown before the PIN
    assert preview.certificate.key_id == rsa_token.key.key_id.hex()
