"""Trust anchors: the user's store, and IT's `trust_anchors` policy key that can lock it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.config import load_config
from csos_desktop.config.policy import write_policy
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.context import RunContext
from csos_desktop.trust.anchors import (
    TrustStoreLocked,
    add_anchor,
    list_anchors,
    remove_anchor,
)
from tests.conftest import machine_policy_at

NOW = datetime.now(UTC)


@pytest.fixture()
def roots(tmp_path: Path) -> tuple[bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        TestCa.init(tmp_path / name, name_prefix=name).root_certificate.public_bytes(Encoding.PEM)
        for name in ("Store", "Policy")
    )


def test_the_user_store_adds_lists_and_removes(
    roots: tuple[bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    (added,) = add_anchor(roots[0], "root.pem", now=NOW)
    assert [a.fingerprint for a in list_anchors()] == [added.fingerprint]
    assert list_anchors()[0].to_json()["subject"].startswith("Common Name: Store Root CA")
    with pytest.raises(InputError, match="8 hex digits"):
        remove_anchor("abc")
    assert remove_anchor(added.fingerprint[:12]).fingerprint == added.fingerprint
    assert list_anchors() == []


def test_a_subscriber_certificate_is_not_an_anchor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    ca = TestCa.init(tmp_path / "ca")
    tls = ca.issue_tls_server(
        ca.issuing_certificate.public_key(),  # type: ignore[arg-type]
        hosts=("localhost",),
    )
    with pytest.raises(InputError, match="not a CA certificate"):
        add_anchor(tls.public_bytes(Encoding.PEM), "leaf.pem", now=NOW)


def test_a_locked_policy_is_the_only_source_and_the_store_cannot_change(
    roots: tuple[bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    add_anchor(roots[0], "root.pem", now=NOW)  # before IT locked it
    it_file = tmp_path / "dea-anchors.pem"
    it_file.write_bytes(roots[1])
    policy = tmp_path / "policy.toml"
    machine_policy_at(monkeypatch, policy)
    write_policy(policy, {"trust_anchors": str(it_file)}, [])
    assert {a.source for a in list_anchors()} == {"store", "policy"}
    write_policy(policy, {"trust_anchors": str(it_file)}, ["trust_anchors"])
    (only,) = list_anchors()
    assert only.source == "policy" and "Policy Root CA" in str(only.to_json()["subject"])
    with pytest.raises(TrustStoreLocked):
        add_anchor(roots[0], "root.pem", now=NOW)


def test_the_run_context_carries_the_trust_store_of_its_configuration(
    roots: tuple[bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    add_anchor(roots[0], "root.pem", now=NOW)  # the user's own store
    it_root = tmp_path / "it-root.pem"
    it_root.write_bytes(roots[1])
    locked = tmp_path / "locked-policy.toml"
    write_policy(locked, {"trust_anchors": str(it_root)}, ["trust_anchors"])

    def subjects(context: RunContext) -> list[str]:
        return [c.subject.native["common_name"] for c in context.trust_anchors()]

    # Each context answers from the configuration it holds, whatever the process reads now.
    home = tmp_path / "home"
    assert subjects(RunContext(home, load_config(policy_path=locked))) == ["Policy Root CA"]
    assert subjects(RunContext(home, load_config())) == ["Store Root CA"]
