"""Fuzz targets for `archive verify`: the service function and the CLI.

The property: every mutated bundle ends in a report (verdict and problem list) or
:class:`ArchiveUnusable`; on the command line in exit 0/1 with JSON, or `error:` and
exit 2. Never a traceback, and never the verifier's last-resort "cannot be checked"
problem (it hides an exception type nobody named). A bundle reported INTACT must hold
the exported members: byte for byte, or for a signature exactly what was signed.

The bundle is a real export (orders and manifest signed on a SoftHSM2 token), made
once: under pytest from the session's token and CA, under `make fuzz` from a token,
CA and CSOS_HOME of the run's own.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.cli import main
from csos_desktop.config.policy import use_policy_file
from csos_desktop.pki.cms_parse import parse_signed_data
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.container import ArchiveUnusable
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.trust_anchors import TrustMaterial
from csos_desktop.token.keys import KeyAlgorithm
from tests.conftest import Provisioned, _provision, trust_sandbox_root
from tests.fuzz.archive_strategies import Members
from tests.fuzz.targets import count
from tests.integration.store.bundles import export_sample_bundle
from tests.unit.store.archive_forgery import roots

_LAST_RESORT = ": cannot be checked ("


@dataclass(frozen=True)
class BundleMaterial:
    # Not in the repr: Hypothesis prints the fixture's value with every failure.
    members: Members = field(repr=False)  # the exported bundle's members, in zip order
    trust: TrustMaterial = field(repr=False)
    root_pem: Path
    workdir: Path

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"BundleMaterial({self.workdir})")  # Hypothesis' failure report


def bundle_material(token: Provisioned, ca: TestCa, directory: Path) -> BundleMaterial:
    """Export a bundle with *token* under *directory* and keep what the targets need."""
    summary = export_sample_bundle(token, ca, directory)
    with zipfile.ZipFile(summary.path) as zf:
        members = Members((info.filename, zf.read(info)) for info in zf.infolist())
    root_pem = directory / "root.pem"
    root_pem.write_bytes(ca.root_certificate.public_bytes(Encoding.PEM))
    return BundleMaterial(members, roots(ca), root_pem, directory)


@functools.cache
def standalone_bundle_material() -> BundleMaterial:
    """For `make fuzz` outside pytest: a CSOS_HOME, test CA and SoftHSM2 token of its own."""
    base = Path(tempfile.mkdtemp(prefix="csos-fuzz-archive-"))
    policy = base / "machine-policy.toml"
    policy.write_text("[settings]\nallow_software_tokens = true\n", encoding="utf-8")
    os.environ["CSOS_HOME"] = str(base / "home")
    use_policy_file(policy)
    ca = TestCa.init(base / "ca")
    trust_sandbox_root(ca)  # signing refuses a certificate no configured anchor vouches for
    token = _provision(base / "softhsm", ca, "csos-fuzz", KeyAlgorithm.P256)
    return bundle_material(token, ca, base)


def _write(m: BundleMaterial, blob: bytes) -> Path:
    path = m.workdir / "fuzzed.zip"
    path.write_bytes(blob)
    return path


def _members_of(path: Path) -> list[tuple[str, bytes]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path) as zf:
            return sorted((info.filename, zf.read(info)) for info in zf.infolist())


def check_archive(m: BundleMaterial, blob: bytes) -> None:
    count("verify_archive")
    path = _write(m, blob)
    try:
        report = verify_archive(path, m.trust)
    except ArchiveUnusable as exc:
        assert str(exc).strip(), "ArchiveUnusable without a message"
        return
    hidden = [p for p in report.problems if _LAST_RESORT in p]
    assert not hidden, f"archive verify fell back to its last resort: {hidden}"
    if report.verdict is Verdict.INTACT:
        _assert_unchanged(dict(_members_of(path)), dict(m.members))


def _assert_unchanged(got: dict[str, bytes], exported: dict[str, bytes]) -> None:
    """INTACT means the exported files, byte for byte; for a signature, what was signed.

    A CMS outside the signer's signed attributes is not signed (the certificates it
    carries as chain hints, for one): a mutation there may still verify, as for orders
    (targets.check_order). What was signed, and by whom, must be exactly the original.
    """
    assert got.keys() == exported.keys(), "INTACT, but files were added or removed"
    for name, data in got.items():
        if data == exported[name]:
            continue
        assert name.endswith(".p7s"), f"INTACT, but {name} was changed"
        mutated, original = parse_signed_data(data), parse_signed_data(exported[name])
        assert (mutated.signed_attrs_der, mutated.signature, mutated.signer.dump()) == (
            original.signed_attrs_der,
            original.signature,
            original.signer.dump(),
        ), f"INTACT, but what {name} signs changed"


def check_archive_cli(m: BundleMaterial, blob: bytes) -> None:
    count("csos archive verify")
    path = _write(m, blob)
    args = ["archive", "verify", str(path), "--trust", str(m.root_pem), "--json"]
    result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-2000:])
    if result.exit_code == 2:
        assert result.stderr.startswith("error: "), result.stderr[-2000:]
        assert "Traceback" not in result.output
    else:
        verdict = json.loads(result.stdout)["verdict"]
        assert (verdict == "intact") == (result.exit_code == 0), result.stdout[-2000:]
