"""A short schemathesis run of the live sandbox against the committed spec.

`make fuzz-api` runs a long one.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csos_desktop.sandbox.distributor.openapi import committed_path
from tests.integration.distributor.conftest import StartSandbox

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import (  # noqa: E402
    negative_data_rejection,
    positive_data_acceptance,
)

EXAMPLES = int(os.environ.get("CSOS_FUZZ_EXAMPLES", "8"))
#: `make fuzz-api` adds negative cases (invalid requests must get a 4xx problem).
MODES = [schemathesis.GenerationMode.POSITIVE] + (
    [schemathesis.GenerationMode.NEGATIVE] if os.environ.get("CSOS_FUZZ_NEGATIVE") else []
)


def test_sandbox_conforms_to_the_committed_spec(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    schema = schemathesis.openapi.from_path(committed_path())
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    verify = str(sandbox.running.tls.ca_bundle)
    operations = [result.ok() for result in schema.get_all_operations()]
    # 10 order-side operations (lost-order statements too), 2 for the pharmacy inbox, 4 SCRIPT
    assert len(operations) == 16

    @settings(
        max_examples=EXAMPLES * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy(generation_mode=data.draw(st.sampled_from(MODES))))
        # Schema-valid is not content-valid: a receipt that is not a signed csos-receipt/1
        # document is refused with a 422 problem, which the first check calls a failure.
        # Unknown query parameters are ignored (as HTTP APIs do), which the second does.
        case.call_and_validate(
            base_url=sandbox.url,
            headers=headers,
            verify=verify,
            excluded_checks=[positive_data_acceptance, negative_data_rejection],
        )

    run()
