"""The real client against a real server that fails: retries, then a clear error, nothing lost."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from sqlalchemy import func, select

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.db import orders
from csos_desktop.sync.client import DistributorClient
from csos_desktop.sync.errors import (
    DistributorUnavailable,
    DistributorUntrusted,
    ProtocolError,
)
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import FAST_RETRY, StartSandbox, signed
from tests.integration.distributor.faults import Faults


def _count(sandbox_engine: object) -> int:
    with sandbox_engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(orders)).scalar_one())


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_until_the_server_answers(
    start_sandbox: StartSandbox, rsa_token: Provisioned, status: int
) -> None:
    faults = Faults()
    sandbox = start_sandbox(wrap=faults.wrap)
    document, signature, key = signed(rsa_token, sandbox.ca)
    faults.add(f"status-{status}", 2, path="/v1/orders")
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
    assert record.status == "accepted" and not record.replayed
    assert _count(sandbox.running.distributor.engine) == 1


def test_persistent_503_ends_in_a_clear_unavailable_error(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    faults = Faults()
    sandbox = start_sandbox(wrap=faults.wrap)
    document, signature, key = signed(rsa_token, sandbox.ca)
    faults.add("status-503", 3, path="/v1/orders")
    with sandbox.client() as client, pytest.raises(DistributorUnavailable) as caught:
        client.submit_order(key, document, signature)
    assert caught.value.attempts == 3
    assert "503" in str(caught.value) and "retried later" in str(caught.value)
    assert _count(sandbox.running.distributor.engine) == 0
    with sandbox.client() as client:  # the outbox tries again later: accepted once
        assert client.submit_order(key, document, signature).status == "accepted"


def test_reply_lost_after_the_server_stored_the_order_replays_the_original(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    faults = Faults()
    sandbox = start_sandbox(wrap=faults.wrap)
    document, signature, key = signed(rsa_token, sandbox.ca)
    faults.add("lost-500", 1, path="/v1/orders")
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
    assert record.replayed and record.status == "accepted"
    assert _count(sandbox.running.distributor.engine) == 1


def test_timeout_is_retried(start_sandbox: StartSandbox, rsa_token: Provisioned) -> None:
    faults = Faults()
    sandbox = start_sandbox(wrap=faults.wrap)
    faults.add("slow", 1, path="/v1/changes", delay=1.0)
    with sandbox.client(timeout=0.3) as client:
        assert client.changes().changes == ()
    assert faults.requests == 2


def test_timeouts_every_time_end_in_unavailable(start_sandbox: StartSandbox) -> None:
    faults = Faults()
    sandbox = start_sandbox(wrap=faults.wrap)
    faults.add("slow", 3, path="/v1/changes", delay=1.0)
    with sandbox.client(timeout=0.3) as client, pytest.raises(DistributorUnavailable) as caught:
        client.changes()
    assert "did not answer" in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "words"), [("garbage", "malformed JSON"), ("html", "text/html instead of JSON")]
)
def test_garbled_replies_are_retried_then_a_protocol_error(
    start_sandbox: StartSandbox, kind: str, words: str
) -> None:
    faults = Faults()
    sandbox = start_sandbox(wrap=faults.wrap)
    faults.add(kind, 1, path="/v1/changes")
    with sandbox.client() as client:
        assert client.changes().has_more is False  # one bad reply, then a good one
    faults.add(kind, 3, path="/v1/changes")
    with sandbox.client() as client, pytest.raises(ProtocolError) as caught:
        client.changes()
    assert words in str(caught.value)


def test_unreachable_distributor_is_unavailable() -> None:
    from csos_desktop.sandbox.https import bind

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with (
        DistributorClient(f"https://127.0.0.1:{port}", "t", retry=FAST_RETRY) as client,
        pytest.raises(DistributorUnavailable) as caught,
    ):
        client.health()
    assert "cannot connect" in str(caught.value) and caught.value.attempts == 3


def test_untrusted_server_certificate_is_refused(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    # The system store does not know the sandbox CA...
    with (
        DistributorClient(sandbox.url, sandbox.token, retry=FAST_RETRY) as client,
        pytest.raises(DistributorUntrusted) as caught,
    ):
        client.health()
    assert caught.value.attempts == 1  # not retried: it cannot get better
    # ...nor does another CA's bundle.
    other = TestCa.init(tmp_path / "other-ca")
    with (
        DistributorClient(
            sandbox.url, sandbox.token, ca_bundle=other.directory / "root.pem", retry=FAST_RETRY
        ) as client,
        pytest.raises(DistributorUntrusted),
    ):
        client.health()


def test_client_never_speaks_plain_http() -> None:
    from csos_desktop.domain.errors import InputError

    with pytest.raises(InputError, match="https"):
        DistributorClient("http://127.0.0.1:8080", "t")
    assert ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED
