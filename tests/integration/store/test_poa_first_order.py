"""Power of attorney from the first order (21 CFR 1305.05, 1305.21(a)).

A schedule I/II order cannot be signed until the registrant is recorded: the app
cannot tell the registrant's or an attorney's certificate from anyone's before that.
The refusal comes before the PIN and says how to record the registrant; an order of
schedules III-V alone is not held back. (The attorney's acceptance of a grant:
test_poa_acceptance.py.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import PURCHASER_DEA, Provisioned, trust_sandbox_root
from tests.integration.store.cli import csos, signing
from tests.unit.store.helpers import order_input


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa) -> Path:
    trust_sandbox_root(test_ca, tmp_path / "home")
    return tmp_path / "home"


def draft(home: Path, prov: Provisioned, tmp: Path, data: dict[str, Any]) -> str:
    (tmp / "o.json").write_text(json.dumps(data))
    done = csos(home, prov, "order", "import", str(tmp / "o.json"), "--json")
    assert done.exit_code == 0, done.output
    return str(json.loads(done.stdout)[0]["order_id"])


def schedule_iv_only() -> dict[str, Any]:
    data = order_input()
    data["lines"] = [dict(line, line_no=1) for line in data["lines"] if line["schedule"] == "4"]
    return data


def test_a_schedule_ii_order_before_a_registrant_is_recorded_is_refused_before_the_pin(
    home: Path, chain: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    ii = draft(home, rsa_token, tmp_path, order_input())
    refused = signing(home, rsa_token, chain, "order", "sign", "--draft", ii)
    assert refused.exit_code == 1
    assert "No registrant is recorded for DEA AB1234563" in refused.output
    assert "csos poa registrant --name" in refused.output and "1305.05" in refused.output
    assert "PIN" not in refused.output  # refused before the PIN was asked
    from_file = tmp_path / "file.json"
    from_file.write_text(json.dumps(order_input(number=f"{datetime.now(UTC):%y}X000901")))
    as_file = signing(
        home, rsa_token, chain, "order", "sign", str(from_file), "--out", str(tmp_path / "out")
    )
    assert as_file.exit_code == 1 and "No registrant is recorded" in as_file.output
    assert not (tmp_path / "out").exists()

    # Schedules III-V need no power of attorney: such an order signs without a registrant.
    iv = draft(home, rsa_token, tmp_path, schedule_iv_only())
    signed_iv = signing(home, rsa_token, chain, "order", "sign", "--draft", iv)
    assert signed_iv.exit_code == 0, signed_iv.output

    recorded = csos(
        home, rsa_token, "poa", "registrant", "--name", "Jane Registrant",
        "--dea", PURCHASER_DEA, "--token", rsa_token.label,
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    signed = signing(home, rsa_token, chain, "order", "sign", "--draft", ii)
    assert signed.exit_code == 0, signed.output
    with open_store(home / "data" / "csos.db") as store:
        assert store.orders.get(ii).state is OrderState.SIGNED
        assert store.orders.get(iv).state is OrderState.SIGNED
        trail = [(e.event, e.order_id) for e in store.audit.entries()]
    assert trail.index(("poa.registrant-recorded", None)) < trail.index(("order.signed", ii))
