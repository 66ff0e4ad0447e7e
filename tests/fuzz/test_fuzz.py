"""Fuzz targets: a few examples each in `make test`, minutes in `make fuzz`.

`make fuzz` runs these same tests through tests/fuzz/run.py for a fixed time with the
"fuzz" settings profile; every crash it finds is added below as an @example so it
stays in `make test` for good.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.verify import Verdict, verify_archive
from tests.conftest import Provisioned
from tests.fuzz import archive_strategies as fa
from tests.fuzz import archive_targets, fetch_strategies, fetch_targets, targets
from tests.fuzz import strategies as fs

settings.register_profile(
    "fast",
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "fuzz",
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    # No "explain" phase: it re-runs failures under a tracer, minutes on a busy machine.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
#: `make fuzz` sets CSOS_FUZZ_PROFILE=fuzz before importing this module.
FAST = settings.get_profile(os.environ.get("CSOS_FUZZ_PROFILE", "fast"))
#: An archive example writes a zip and checks five signatures with their chains: about
#: ten times a single verify, so fewer per call keeps the round-robin's time split even.
ARCHIVE = settings(FAST, max_examples=max(8, FAST.max_examples // 4))


def _m() -> targets.Material:
    return targets.material()


@settings(parent=FAST)
@given(st.data())
def test_verify_order_with_a_mutated_certificate(data: st.DataObject) -> None:
    m = _m()
    targets.check_order(m.order, data.draw(fs.cms_with_mutated_certificate(m.order_sig)))


@settings(parent=FAST)
@given(st.data())
def test_verify_order_with_mutated_cms_bytes(data: st.DataObject) -> None:
    m = _m()
    targets.check_order(m.order, data.draw(fs.byte_mutations(m.order_sig)))


@settings(parent=FAST)
@given(st.data())
def test_verify_order_with_a_mutated_document(data: st.DataObject) -> None:
    m = _m()
    targets.check_order(data.draw(fs.mutated_documents(targets.order_dict())), m.order_sig)


@settings(parent=FAST)
@given(st.data())
def test_verify_prescription_with_mutations(data: st.DataObject) -> None:
    m = _m()
    if data.draw(st.booleans()):
        targets.check_prescription(m.rx, data.draw(fs.cms_with_mutated_certificate(m.rx_sig)))
    else:
        targets.check_prescription(data.draw(fs.mutated_documents(targets.rx_dict())), m.rx_sig)


@settings(parent=FAST)
@given(st.data())
def test_document_reader_with_mutated_documents(data: st.DataObject) -> None:
    source = targets.order_dict() if data.draw(st.booleans()) else targets.rx_dict()
    targets.check_document(data.draw(fs.mutated_documents(source)))


@settings(parent=FAST)
@given(st.data())
def test_csv_import_with_mutated_rows(data: st.DataObject) -> None:
    targets.check_csv(data.draw(fs.mutated_csv(_m().csv)))


@pytest.fixture(scope="module")
def bundle_material(
    ec_token: Provisioned, test_ca: TestCa, tmp_path_factory: pytest.TempPathFactory
) -> archive_targets.BundleMaterial:
    """A bundle exported on the session's token (`make fuzz` passes its own; see run.py)."""
    return archive_targets.bundle_material(ec_token, test_ca, tmp_path_factory.mktemp("fuzz"))


# The fixture comes first: @given fills the rightmost parameter. Each bundle goes to the
# service function and to the command line, so the two are held to the same inputs.
@settings(ARCHIVE)
@given(st.data())
def test_archive_verify_with_a_mutated_bundle(
    bundle_material: archive_targets.BundleMaterial, data: st.DataObject
) -> None:
    blob = data.draw(fa.mutated_bundles(bundle_material.members))
    archive_targets.check_archive(bundle_material, blob)
    archive_targets.check_archive_cli(bundle_material, blob)


def test_the_unmutated_bundle_is_intact(bundle_material: archive_targets.BundleMaterial) -> None:
    """The harness itself: the exported bundle, re-zipped unchanged, verifies INTACT."""
    blob = fa.zip_of(bundle_material.members)
    archive_targets.check_archive(bundle_material, blob)
    archive_targets.check_archive_cli(bundle_material, blob)
    path = bundle_material.workdir / "fuzzed.zip"
    assert verify_archive(path, bundle_material.trust).verdict is Verdict.INTACT


def test_the_splice_keeps_an_unmutated_signature_valid() -> None:
    """The harness itself: splicing a certificate back unchanged is byte-identical."""
    from tests.fuzz import der_tree

    m = _m()
    for path in fs.CERTIFICATE_PATHS:
        node = der_tree.at(der_tree.parse(m.order_sig), path)[-1]
        same = der_tree.splice(m.order_sig, path, m.order_sig[node.start : node.end])
        assert same == m.order_sig
    targets.check_order(m.order, m.order_sig)


@settings(parent=FAST)
@given(answer=fetch_strategies.hostile_answers(), ocsp=st.booleans())
def test_the_revocation_fetcher_with_hostile_http_answers(
    answer: fetch_targets.Script, ocsp: bool
) -> None:
    fetch_targets.check_fetch(answer, ocsp=ocsp)
