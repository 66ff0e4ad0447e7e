"""Two locations' certificates on one token: each signs only its own orders.

`csos order sign FILE` and `--all-drafts` choose the certificate whose DEA-number hash
matches the purchaser; refusals come before the PIN; a mixed batch signs under one login.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, trust_sandbox_root
from tests.integration.locations import Location, LocationsToken, order_for
from tests.integration.store.tokens import openssl_verify
from tests.launch import run_csos
from tests.registrant import record_location_registrants

#: A registration no certificate on the token is for (valid check digit).
OTHER_DEA = "AC3456781"
PIN_PROMPT = "PIN for token"


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa, two_locations: LocationsToken) -> Iterator[Path]:
    """A CSOS_HOME of its own: `--all-drafts` must see only this test's drafts. Each
    location's certificate holder is its recorded registrant (schedule II, 1305.05)."""
    home = tmp_path / "home"
    home.mkdir()
    trust_sandbox_root(test_ca, home)
    with open_store(home / "data" / "csos.db") as store:
        record_location_registrants(store, two_locations)
    yield home


def run(
    args: list[str], tok: LocationsToken, home: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_csos(
        [*args, "--token", tok.label] if args[:2] == ["order", "sign"] else args,
        tok.hsm,
        home,
        stdin,
    )


def write_order(tmp: Path, location: Location | str, number: str) -> Path:
    if isinstance(location, str):
        data = order_for(Location(location, "Elm Street Pharmacy", "Decatur", b"", b""), number)
    else:
        data = order_for(location, number)
    path = tmp / f"{number}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def signer_certificate(p7s: bytes) -> bytes:
    signed = cms.ContentInfo.load(p7s)["content"]
    serial = signed["signer_infos"][0]["sid"].chosen["serial_number"].native
    for cert in signed["certificates"]:
        if cert.chosen.serial_number == serial:
            return bytes(cert.chosen.dump())
    raise AssertionError("the signer's certificate is not in the signature")


def number(n: int) -> str:
    return f"{datetime.now(UTC):%y}X{n:06d}"


def test_each_location_signs_its_own_order_file(
    two_locations: LocationsToken, home: Path, tmp_path: Path, test_ca: TestCa
) -> None:
    for loc, n in ((two_locations.main, 801), (two_locations.north, 802)):
        out = tmp_path / f"signed-{n}"
        done = run(
            [
                "order",
                "sign",
                str(write_order(tmp_path, loc, number(n))),
                "--pin-stdin",
                "--out",
                str(out),
            ],
            two_locations,
            home,
            stdin=TEST_PIN + "\n",
        )
        assert done.returncode == 0, done.stderr
        assert f"DEA {loc.dea}" in done.stdout
        (p7s,) = out.glob("*.p7s")
        assert signer_certificate(p7s.read_bytes()) == loc.certificate_der

    # OpenSSL, not our code, checks the northside signature against the sandbox root.
    (p7s,) = (tmp_path / "signed-802").glob("*.p7s")
    verified = openssl_verify(tmp_path, test_ca, p7s.with_suffix(".json"), p7s)
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr


def test_an_order_for_no_location_on_the_token_is_refused_before_the_pin(
    two_locations: LocationsToken, home: Path, tmp_path: Path
) -> None:
    done = run(
        [
            "order",
            "sign",
            str(write_order(tmp_path, OTHER_DEA, number(803))),
            "--out",
            str(tmp_path / "out"),
        ],
        two_locations,
        home,
    )
    assert done.returncode != 0
    assert PIN_PROMPT not in done.stderr  # no PIN was asked
    message = " ".join((done.stdout + done.stderr).split())
    assert f"No certificate on this token is for DEA number {OTHER_DEA}" in message
    # What the token holds: CKA_IDs and locations (Northside's number is known: it matches
    # no setting or record here, so it shows as a hash only; its location is named).
    assert two_locations.main.key_id.hex() in message
    assert two_locations.north.key_id.hex() in message
    assert "Northside Pharmacy, Peoria" in message
    assert not (tmp_path / "out").exists()


def test_cert_id_of_another_location_is_refused_before_the_pin(
    two_locations: LocationsToken, home: Path, tmp_path: Path
) -> None:
    order = write_order(tmp_path, two_locations.main, number(804))
    done = run(
        [
            "order",
            "sign",
            str(order),
            "--out",
            str(tmp_path / "out"),
            "--cert-id",
            two_locations.north.key_id.hex(),
        ],
        two_locations,
        home,
    )
    assert done.returncode != 0
    assert PIN_PROMPT not in done.stderr
    message = " ".join((done.stdout + done.stderr).split())
    assert "is for another DEA number than the order's purchaser" in message
    assert two_locations.main.dea in message

    # The refused order was kept as a draft: it is signed from the store.
    chosen = run(
        [
            "order",
            "sign",
            "--draft",
            number(804),
            "--pin-stdin",
            "--cert-id",
            two_locations.main.key_id.hex(),
        ],
        two_locations,
        home,
        stdin=TEST_PIN + "\n",
    )
    assert chosen.returncode == 0, chosen.stderr


def test_a_mixed_batch_signs_each_location_with_its_own_certificate(
    two_locations: LocationsToken, home: Path, tmp_path: Path
) -> None:
    files = [
        write_order(tmp_path, two_locations.main, number(811)),
        write_order(tmp_path, two_locations.north, number(812)),
        write_order(tmp_path, OTHER_DEA, number(813)),
        write_order(tmp_path, two_locations.north, number(814)),
    ]
    imported = run(["order", "import", *map(str, files)], two_locations, home)
    assert imported.returncode == 0, imported.stderr

    done = run(
        ["order", "sign", "--all-drafts", "--pin-stdin", "--json"],
        two_locations,
        home,
        stdin=TEST_PIN + "\n",
    )
    assert done.returncode == 1, done.stderr  # one order was left unsigned
    result = json.loads(done.stdout)
    assert sorted(r["order_number"] for r in result["signed"]) == [
        number(811),
        number(812),
        number(814),
    ]
    (refused,) = result["unsigned"]
    assert refused["order_number"] == number(813)
    assert refused["code"] == "NoCertificateForPurchaser"
    assert OTHER_DEA in refused["reason"]

    with open_store(home / "data" / "csos.db") as store:
        by_number = {r.order_number: r for r in store.orders.list()}
        for n, loc in ((811, two_locations.main), (812, two_locations.north)):
            blob = store.signed.get(by_number[number(n)].order_id)
            assert blob.certificate_sha256 == hashlib.sha256(loc.certificate_der).hexdigest()
            assert blob.signer_dea == loc.dea
            assert signer_certificate(blob.signature) == loc.certificate_der
