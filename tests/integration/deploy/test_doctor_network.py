"""Distributor reachability over verified TLS and clock skew, against a real local server."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from csos_desktop.doctor import MAX_SKEW, clock_skew_allows_signing
from csos_desktop.doctor.network import network_checks
from csos_desktop.doctor.result import CheckResult, Status
from tests.integration.deploy.conftest import Distributor


def _by_check(url: str | None, ca: str | None) -> dict[str, CheckResult]:
    return {r.check: r for r in network_checks(url, ca, timeout=5)}


def test_reachable_distributor_with_a_trusted_certificate_and_a_good_clock(
    distributor: Distributor,
) -> None:
    found = _by_check(distributor.url, str(distributor.ca_bundle))
    reach, clock = found["distributor"], found["clock"]
    assert reach.status is Status.OK, reach.summary
    assert reach.details["http_status"] == 200
    assert str(reach.details["tls_version"]).startswith("TLSv1.")
    assert clock.status is Status.OK
    assert abs(clock.details["skew_seconds"]) <= 2


def test_certificate_not_in_the_trust_store_is_an_error_never_ignored(
    distributor: Distributor,
) -> None:
    found = _by_check(distributor.url, None)  # system store: does not know our test CA
    reach = found["distributor"]
    assert reach.status is Status.ERROR
    assert "not trusted" in reach.summary and "ca_bundle" in reach.fix
    assert found["clock"].status is Status.SKIPPED


def test_skew_over_two_minutes_warns(distributor: Distributor) -> None:
    distributor.set_skew(timedelta(minutes=3))
    clock = _by_check(distributor.url, str(distributor.ca_bundle))["clock"]
    assert clock.status is Status.WARNING
    assert "behind" in clock.summary
    assert clock.details["signing_allowed"] is True


def test_skew_over_five_minutes_refuses_signing_per_1311_55(distributor: Distributor) -> None:
    distributor.set_skew(timedelta(minutes=-6))
    clock = _by_check(distributor.url, str(distributor.ca_bundle))["clock"]
    assert clock.status is Status.ERROR
    assert "1311.55(b)(8)" in clock.summary
    assert "ahead of" in clock.summary
    assert clock.details["signing_allowed"] is False


def test_nothing_listening_is_an_error_with_a_hint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reach = _by_check(f"https://127.0.0.1:{port}/", None)["distributor"]
    assert reach.status is Status.ERROR and "cannot be reached" in reach.summary


def test_missing_ca_bundle_file_is_reported(distributor: Distributor) -> None:
    reach = _by_check(distributor.url, "/nonexistent/ca.pem")["distributor"]
    assert reach.status is Status.ERROR and "does not exist" in reach.summary


def test_no_distributor_configured_is_skipped_not_failed() -> None:
    found = _by_check(None, None)
    assert found["distributor"].status is Status.SKIPPED
    assert "not" in found["clock"].summary.lower()


@pytest.mark.parametrize(
    "seconds, allowed",
    [
        (0, True),
        (299.9, True),
        (300, True),
        (-300, True),
        (300.1, False),
        (-301, False),
        (3600, False),
    ],
)
def test_clock_skew_allows_signing_within_five_minutes(seconds: float, allowed: bool) -> None:
    assert clock_skew_allows_signing(seconds) is allowed
    assert clock_skew_allows_signing(timedelta(seconds=seconds)) is allowed
    assert timedelta(minutes=5) == MAX_SKEW
