"""`csos order sign FILE` goes through the record, exactly like a stored draft.

The file is imported first (its order number checked against the store), then signed
as a draft: the same store rows, audit entries and archive members as the draft path;
a number already used is refused before the PIN; ``--out`` writes copies.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders.export import order_record_files
from csos_desktop.store import lifecycle, open_store
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.launch import run_csos
from tests.registrant import record_registrant_at
from tests.unit.domain.samples import sample_order_input


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa, rsa_token: Provisioned) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    trust_sandbox_root(test_ca, home)
    # The orders carry schedule II: the token's holder is the recorded registrant (1305.05).
    record_registrant_at(home / "data" / "csos.db", rsa_token)
    yield home


def run(
    args: list[str], prov: Provisioned, home: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_csos(args, prov.hsm, home, stdin)


def order_file(tmp_path: Path, seq: int) -> tuple[Path, str]:
    data = sample_order_input()
    data["order_id"] = str(uuid.uuid4())
    data["order_number"] = f"{datetime.now(UTC):%y}X{seq:06d}"
    path = tmp_path / f"order-{seq}-{data['order_id'][:8]}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, str(data["order_id"])


def test_a_signed_file_is_stored_audited_and_archived_like_a_draft(
    rsa_token: Provisioned, home: Path, tmp_path: Path
) -> None:
    as_file, file_id = order_file(tmp_path, 501)
    as_draft, draft_id = order_file(tmp_path, 502)
    out = tmp_path / "copies"
    signed = run(
        [
            "order",
            "sign",
            str(as_file),
            "--pin-stdin",
            "--out",
            str(out),
            "--token",
            rsa_token.label,
        ],
        rsa_token,
        home,
        TEST_PIN + "\n",
    )
    assert signed.returncode == 0, signed.stderr
    assert run(["order", "import", str(as_draft)], rsa_token, home).returncode == 0
    drafted = run(
        ["order", "sign", "--draft", draft_id, "--token", rsa_token.label, "--pin-stdin"],
        rsa_token,
        home,
        TEST_PIN + "\n",
    )
    assert drafted.returncode == 0, drafted.stderr

    with open_store(home / "data" / "csos.db") as store:
        by_file, by_draft = store.orders.get(file_id), store.orders.get(draft_id)
        assert by_file.state == by_draft.state
        assert by_file.state.value == "signed"
        blob = store.signed.get(file_id)
        # --out holds copies of exactly the bytes kept in the store.
        assert (out / f"{file_id}.json").read_bytes() == blob.document
        assert (out / f"{file_id}.p7s").read_bytes() == blob.signature

        def events(order_id: str) -> list[str]:
            return [e.event for e in store.audit.entries(order_id=order_id)]

        assert events(file_id) == events(draft_id)
        assert "order.signed" in events(file_id)
        queued = {m.record_id for m in store.outbox.pending()}
        assert {file_id, draft_id} <= queued
        # The archive takes each order's record files: the same members for both paths.
        members_file = {n.replace(file_id, "ID") for n in order_record_files(store, by_file)}
        members_draft = {n.replace(draft_id, "ID") for n in order_record_files(store, by_draft)}
        assert members_file == members_draft
        assert store.signed.find(file_id) is not None


def test_a_file_with_a_number_already_used_is_refused_before_the_pin(
    rsa_token: Provisioned, home: Path, tmp_path: Path
) -> None:
    first, first_id = order_file(tmp_path, 601)
    done = run(
        ["order", "sign", str(first), "--token", rsa_token.label, "--pin-stdin"],
        rsa_token,
        home,
        TEST_PIN + "\n",
    )
    assert done.returncode == 0, done.stderr
    with open_store(home / "data" / "csos.db") as store:  # sent and shipped, as in the issue
        msg = next(m for m in store.outbox.pending() if m.record_id == first_id)
        now = datetime.now(UTC)
        lifecycle.mark_submitted(store, first_id, msg.outbox_id, now=now)
        lifecycle.record_status(store, first_id, OrderState.SHIPPED, now=now)
    again, again_id = order_file(tmp_path, 601)  # another order, the same number
    refused = run(
        ["order", "sign", str(again), "--token", rsa_token.label, "--out", str(tmp_path / "x")],
        rsa_token,
        home,
    )
    assert refused.returncode == 2
    assert "already used" in refused.stderr
    assert "PIN" not in refused.stderr
    assert not (tmp_path / "x").exists()
    with open_store(home / "data" / "csos.db") as store:
        assert store.signed.find(first_id) is not None
        assert [r.order_id for r in store.orders.list()] == [first_id]
        assert store.signed.find(again_id) is None
