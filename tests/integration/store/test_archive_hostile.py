"""Archives an attacker made or damaged: forged signers, re-hashed manifests, zip bombs, junk.

Every case ends as a named problem (exit 1) or `error:` (exit 2), never INTACT and never
a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.container import MAX_PARSED_BYTES, ArchiveUnusable
from csos_desktop.services.archive.verify import Verdict, verify_archive
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA
from tests.fuzz import der_tree
from tests.unit.store.archive_forgery import (
    forged_signature,
    read_members,
    reseal,
    roots,
    write_members,
)


def csos(*args: str) -> subprocess.CompletedProcess[str]:
    # A home of its own: no trust store configured, whatever other tests installed.
    home = tempfile.mkdtemp(prefix="csos-home-")
    return subprocess.run(
        [sys.executable, "-m", "csos_desktop", *args],
        env={**os.environ, "CSOS_HOME": home},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def attacker(tmp_path_factory: pytest.TempPathFactory) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """The attacker's own CA and a certificate in the pharmacy's name and DEA number."""
    ca = TestCa.init(tmp_path_factory.mktemp("evil") / "ca")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_for_public_key(
        key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Main Street Pharmacy"),
        dea_number=PURCHASER_DEA,
        schedules=ALL_SCHEDULES,
    )
    return key, cert.public_bytes(Encoding.DER)


def forge_every_signature(
    bundle: Path, attacker: tuple[ec.EllipticCurvePrivateKey, bytes], quantity: bytes
) -> None:
    """Change each order's quantity, re-sign all with no signing-time, re-hash, re-seal."""
    key, cert = attacker
    items = read_members(bundle)
    for name in [n for n in items if n.startswith("orders/") and n.endswith(".p7s")]:
        doc = name[: -len(".p7s")] + ".json"
        items[doc] = items[doc].replace(b'"quantity":2', b'"quantity":' + quantity)
        items[name] = forged_signature(items[doc], key, cert)
    reseal(bundle, items, key, cert)


def test_a_forged_bundle_without_signing_times_fails_every_chain(
    bundle: Path, test_ca: TestCa, attacker: tuple[ec.EllipticCurvePrivateKey, bytes]
) -> None:
    """Before: the chain ran only when signing-time was present, so this was INTACT."""
    forge_every_signature(bundle, attacker, b"20")
    report = verify_archive(bundle, roots(test_ca))
    assert report.verdict is Verdict.PROBLEMS
    assert report.signatures == 5 and report.chains_checked == 5
    untrusted = [p for p in report.problems if "not trusted" in p]
    assert len(untrusted) == 5 and any(p.startswith("manifest.p7s") for p in untrusted)
    # Without anchors only what `order verify` asks of every signature shows: each one
    # lacks the signing time a CSOS signature carries.
    plain = verify_archive(bundle)
    assert plain.verdict is Verdict.PROBLEMS and len(plain.problems) == 5
    assert all("carries no signing time" in p for p in plain.problems)


def test_cli_integrity_only_needs_its_flag(bundle: Path) -> None:
    plain = csos("archive", "verify", str(bundle))
    assert plain.returncode == 1 and "INTEGRITY ONLY - signers not verified" in plain.stdout
    accepted = csos("archive", "verify", str(bundle), "--integrity-only", "--json")
    assert accepted.returncode == 0
    assert json.loads(accepted.stdout)["verdict"] == "integrity-only"


def test_a_rehashed_manifest_breaks_the_manifest_signature(bundle: Path, test_ca: TestCa) -> None:
    items = read_members(bundle)
    name = next(n for n in items if n.endswith(".json") and "record" not in n and "orders/" in n)
    items[name] = items[name].replace(b'"quantity":2', b'"quantity":9')
    manifest = json.loads(items["manifest.json"])
    for f in manifest["files"]:
        if f["name"] == name:
            f["sha256"] = hashlib.sha256(items[name]).hexdigest()
    items["manifest.json"] = json.dumps(manifest, indent=2).encode()
    write_members(bundle, items)
    problems = verify_archive(bundle, roots(test_ca)).problems
    assert problems[0] == "manifest.json: not the document that was signed (digest differs)"
    assert any("digest differs" in p and p.startswith(name) for p in problems)


def test_an_unsigned_manifest_is_a_problem(bundle: Path, test_ca: TestCa) -> None:
    items = read_members(bundle)
    del items["manifest.p7s"]
    write_members(bundle, items)
    assert "manifest.json: not signed (manifest.p7s is missing)" in (
        verify_archive(bundle, roots(test_ca)).problems
    )


def test_a_member_over_the_cap_is_not_read(bundle: Path) -> None:
    """A 17 MiB signature (a few KB compressed) is refused from the zip directory's size."""
    items = read_members(bundle)
    name = next(n for n in items if n.startswith("orders/") and n.endswith(".p7s"))
    items[name] = b"\0" * (MAX_PARSED_BYTES + 1)
    write_members(bundle, items)
    problems = verify_archive(bundle).problems
    assert any(p.startswith(name) and "over the" in p and "limit" in p for p in problems)


def test_a_crc_error_is_a_named_problem(bundle: Path) -> None:
    items = read_members(bundle)
    name = next(n for n in items if n.startswith("orders/") and n.endswith(".json"))
    with zipfile.ZipFile(bundle, "w") as zf:  # stored, so the bytes are findable
        for n, d in items.items():
            zf.writestr(n, d, compress_type=zipfile.ZIP_STORED)
    raw = bytearray(bundle.read_bytes())
    at = raw.index(items[name])
    raw[at + 10] ^= 0x01
    bundle.write_bytes(bytes(raw))
    problems = verify_archive(bundle).problems
    assert any(p.startswith(name) and "damaged in the zip" in p for p in problems)


def test_duplicate_member_names_are_refused(bundle: Path) -> None:
    items = read_members(bundle)
    name = next(n for n in items if n.startswith("orders/") and n.endswith(".json"))
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(bundle, "a") as zf:
        zf.writestr(name, b'{"quantity":99}')
    with pytest.raises(ArchiveUnusable, match="two files named"):
        verify_archive(bundle)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"format": "csos-archive/2", "files": 5}, "'files' is not a list"),
        ({"format": "csos-archive/2", "files": [{"sha256": "0" * 64}]}, "entry 1 has no name"),
        ({"format": "csos-archive/2", "files": [{"name": "a", "sha256": "x"}]}, "valid SHA-256"),
        ({"format": "csos-archive/1", "files": []}, "export it again"),
        ([[[]]], "not a csos-archive/2 archive"),
    ],
)
def test_a_malformed_manifest_is_error_exit_2(
    tmp_path: Path, manifest: object, message: str
) -> None:
    bundle = tmp_path / "bad.zip"
    write_members(bundle, {"manifest.json": json.dumps(manifest).encode()})
    done = csos("archive", "verify", str(bundle))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"format": "csos-archive/2", "n": ' + b"9" * 5000 + b"}"],
    ids=["deeply-nested", "huge-integer"],
)
def test_hostile_json_in_the_manifest_is_error_exit_2(tmp_path: Path, raw: bytes) -> None:
    bundle = tmp_path / "bad.zip"
    write_members(bundle, {"manifest.json": raw})
    done = csos("archive", "verify", str(bundle))
    assert done.returncode == 2 and done.stderr.startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr


def test_junk_under_certificates_is_a_problem_not_a_crash(bundle: Path, test_ca: TestCa) -> None:
    items = read_members(bundle)
    items["certificates/junk.pem"] = b"-----BEGIN CERTIFICATE-----\nnot base64\n"
    items["certificates/short.pem"] = b"\x30\x03\x02\x01\x01"
    key = ec.generate_private_key(ec.SECP256R1())  # an outsider re-seals: both problems show
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=Outsider"))
        .issuer_name(x509.Name.from_rfc4514_string("CN=Outsider"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    reseal(bundle, items, key, cert.public_bytes(Encoding.DER))
    report = verify_archive(bundle, roots(test_ca))
    assert any(p.startswith("certificates/junk.pem: not a readable") for p in report.problems)
    assert any(p.startswith("certificates/short.pem: not a readable") for p in report.problems)
    assert report.signatures == 5  # every signature still checked


def test_corrupt_lzma_data_is_a_named_problem(bundle: Path) -> None:
    """Found by `make fuzz`: zipfile let lzma.LZMAError out of a damaged LZMA member."""
    items = read_members(bundle)
    name = "audit.jsonl"
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_LZMA) as zf:
        for n, d in items.items():
            zf.writestr(n, d)
    raw = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo(name)
    # Past the local header, the name and zipfile's LZMA properties (4 + 5 bytes).
    data_at = info.header_offset + 30 + len(name.encode()) + len(info.extra) + 9
    raw[data_at + 100] ^= 0xFF
    bundle.write_bytes(bytes(raw))
    problems = verify_archive(bundle).problems
    assert any(p.startswith(name) and "damaged in the zip" in p for p in problems), problems


def test_a_malformed_extension_in_a_carried_certificate_is_a_named_problem(
    bundle: Path, test_ca: TestCa
) -> None:
    """Found by `make fuzz`: path building parsed the issuing CA's extensions lazily and the
    ValueError ended in the last-resort "cannot be checked" instead of a named problem."""
    items = read_members(bundle)
    sig = items["manifest.p7s"]
    path = (0, 1, 0, 3, 0)  # ContentInfo > [0] > SignedData > certificates > the issuing CA
    node = der_tree.at(der_tree.parse(sig), path)[-1]
    cert = sig[node.start : node.end]
    tbs = der_tree.parse(cert)[0].children[0]
    holder = next(i for i, c in enumerate(tbs.children) if c.tag == b"\xa3")
    # The first extension (basicConstraints) holds a SET where its SEQUENCE belongs.
    broken = der_tree.splice(cert, (0, 0, holder, 0, 0, -1), b"\x04\x02\x31\x00")
    items["manifest.p7s"] = der_tree.splice(sig, path, broken)
    write_members(bundle, items)
    problems = verify_archive(bundle, roots(test_ca)).problems
    assert any(
        p.startswith("manifest.p7s: a certificate in the signature has a malformed field")
        for p in problems
    ), problems
    assert not [p for p in problems if ": cannot be checked (" in p]


def test_a_manifest_signature_with_a_broken_frame_is_not_intact(
    bundle: Path, test_ca: TestCa
) -> None:
    """Found by `make fuzz`: SignedData's version INTEGER made 3 bytes long swallows the
    digestAlgorithms header; the signer's attributes still verified, so the bundle was
    INTACT with a manifest.p7s that is not valid CMS."""
    items = read_members(bundle)
    sig = bytearray(items["manifest.p7s"])
    sd = der_tree.at(der_tree.parse(bytes(sig)), (0, 1, 0))[-1]  # ContentInfo > [0] > SignedData
    version = der_tree.at(der_tree.parse(bytes(sig)), (0, 1, 0, 0))[-1]
    assert sig[version.start : version.end] == b"\x02\x01\x01" and sd.tag == b"\x30"
    sig[version.start + 1] = 0x03
    items["manifest.p7s"] = bytes(sig)
    write_members(bundle, items)
    report = verify_archive(bundle, roots(test_ca))
    assert report.verdict is Verdict.PROBLEMS
    assert any(p.startswith("manifest.p7s: ") and "version" in p for p in report.problems)
