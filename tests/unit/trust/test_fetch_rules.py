"""The one fetcher's rules, against a real server on 127.0.0.1 that misbehaves: a total
deadline whatever the server trickles, a size cap, no redirect to another server, no
local address without the machine policy, and errors that name no HTTP status."""

from __future__ import annotations

from pathlib import Path

import pytest

from csos_desktop.trust.fetch import (
    AddressRefused,
    FetchFailed,
    FetchRules,
    UnsupportedScheme,
    UrlBudget,
    fetch_crl,
    post_ocsp,
)
from tests.unit.trust.http_server import Answer, http_server

LOCAL = FetchRules(allow_private=True, deadline=5.0)


def test_a_server_trickling_one_byte_at_a_time_is_cut_at_the_total_deadline() -> None:
    # Each byte arrives well within any per-read timeout; only a total deadline stops it.
    with (
        http_server({"/slow.crl": Answer(b"x" * 200, trickle=0.2)}) as server,
        pytest.raises(FetchFailed, match=r"did not answer within 0\.6 s|too slow"),
    ):
        fetch_crl(f"{server.url}/slow.crl", FetchRules(allow_private=True, deadline=0.6))


def test_a_body_over_the_size_cap_is_refused() -> None:
    with (
        http_server({"/huge.crl": Answer(flood=3 * 2**20)}) as server,
        pytest.raises(FetchFailed, match="more than 1 MB"),
    ):
        fetch_crl(f"{server.url}/huge.crl", FetchRules(allow_private=True, max_bytes=2**20))


def test_a_redirect_to_another_server_is_not_followed() -> None:
    with http_server({"/ca.crl": Answer(b"internal")}) as inside:
        with (
            http_server({"/crl": Answer(status=302, location=f"{inside.url}/ca.crl")}) as outside,
            pytest.raises(FetchFailed, match="sent us to another server"),
        ):
            fetch_crl(f"{outside.url}/crl", LOCAL)
        assert inside.requests == []


def test_a_redirect_on_the_same_server_is_followed() -> None:
    with http_server() as server:
        server.answers["/old.crl"] = Answer(status=301, location="/new.crl")
        server.answers["/new.crl"] = Answer(b"crl bytes")
        assert fetch_crl(f"{server.url}/old.crl", LOCAL) == b"crl bytes"


def test_a_loopback_address_is_refused_without_the_machine_policy() -> None:
    with http_server({"/ca.crl": Answer(b"x")}) as server:
        with pytest.raises(AddressRefused, match="allow_private_revocation_urls"):
            fetch_crl(f"{server.url}/ca.crl", FetchRules())
        assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/ca.crl",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://0.0.0.0/",
    ],
)
def test_private_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(AddressRefused):
        fetch_crl(url, FetchRules(deadline=2.0))


def test_the_error_names_no_http_status() -> None:
    with (
        http_server({"/gone.crl": Answer(status=503)}) as server,
        pytest.raises(FetchFailed) as caught,
    ):
        post_ocsp(f"{server.url}/gone.crl", b"request", LOCAL)
    assert "503" not in str(caught.value)
    assert "did not provide the revocation data" in str(caught.value)


def test_only_http_and_https_are_fetched() -> None:
    for url in ("file:///etc/passwd", "ftp://ca.example/crl", "gopher://x/"):
        with pytest.raises(UnsupportedScheme):
            fetch_crl(url, LOCAL)


def test_the_addresses_asked_in_one_verification_are_bounded() -> None:
    budget = UrlBudget(limit=2)
    budget.take("http://a.example/1")
    budget.take("http://a.example/2")
    with pytest.raises(FetchFailed, match="already tried"):
        budget.take("http://a.example/3")


def test_an_unusable_ca_bundle_is_said_at_once(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(FetchFailed, match="as the CA bundle"):
        fetch_crl("https://127.0.0.1:9/ca.crl", FetchRules(ca_bundle=bundle, allow_private=True))
