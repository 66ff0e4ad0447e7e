"""A CA reply that is wrong, cut short or hostile is refused and nothing is written to the token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pkcs11 import Attribute, ObjectClass

from csos_desktop.enrol.errors import (
    CaReplyInvalid,
    CaUnavailable,
    CaUnreachable,
    EnrolmentError,
    IssuedCertificateRejected,
)
from csos_desktop.enrol.est_client import EstClient, OneTimeCodes
from csos_desktop.enrol.flow import enrol
from csos_desktop.enrol.records import Records
from csos_desktop.enrol.token_keys import PENDING_PREFIX, delete_key_pair, pending_keys
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.https import RunningServer, bind, start_in_thread, write_tls_files
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.session import TokenSession
from tests.integration.enrol.conftest import SandboxCa
from tests.integration.enrol.hostile import hostile_app


class HostileCa:
    def __init__(self, ca: TestCa, server: RunningServer, state: dict[str, str]) -> None:
        self.ca, self.server, self.state = ca, server, state

    def client(self) -> EstClient:
        return EstClient(self.server.url, ca_bundle=self.ca.directory / "root.pem")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileCa]:
    ca = TestCa.init(tmp_path_factory.mktemp("hostile") / "ca")
    app, state = hostile_app(ca)
    tls = write_tls_files(ca, ca.directory / "tls")
    server = start_in_thread(app, tls, bind("127.0.0.1", 0))
    yield HostileCa(ca, server, state)
    server.stop()


def _objects(ts: TokenSession) -> int:
    return len(list(ts.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})))


CODES = OneTimeCodes("0123456789", "SOME-CODE")


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("other-key", IssuedCertificateRejected, "different key"),
        ("wrong-dea", IssuedCertificateRejected, "DEA number hash is not that of AB1234563"),
        ("truncated", CaReplyInvalid, "cut short"),
        ("not-base64", CaReplyInvalid, "not base64"),
        ("empty-pkcs7", CaReplyInvalid, "PKCS#7"),
        ("huge", CaReplyInvalid, "far larger"),
        ("error-500", CaUnavailable, "HTTP 500"),
    ],
)
def test_bad_ca_reply_writes_nothing_and_leaves_a_labelled_pending_key(
    session: TokenSession,
    hostile: HostileCa,
    tmp_path: Path,
    mode: str,
    error: type[EnrolmentError],
    words: str,
) -> None:
    hostile.state["mode"] = mode
    certs_before = _objects(session)
    pending_before = {p.key_id for p in pending_keys(session)}
    with hostile.client() as client, pytest.raises(error, match=words) as err:
        enrol(session, client, CODES, algorithm=KeyAlgorithm.P256, records=Records(tmp_path))
    assert "Nothing was written" in err.value.message or mode == "error-500"
    assert _objects(session) == certs_before
    (left,) = [p for p in pending_keys(session) if p.key_id not in pending_before]
    assert left.label.startswith(PENDING_PREFIX)
    delete_key_pair(session, left.key_id)


def test_a_retry_after_a_failure_reuses_the_pending_key(
    session: TokenSession, hostile: HostileCa, tmp_path: Path
) -> None:
    records = Records(tmp_path)
    hostile.state["mode"] = "truncated"
    with hostile.client() as client, pytest.raises(CaReplyInvalid):
        enrol(session, client, CODES, algorithm=KeyAlgorithm.P256, records=records)
    pending = records.pending(CODES.reference_number)
    assert pending is not None
    hostile.state["mode"] = "other-key"
    with hostile.client() as client, pytest.raises(IssuedCertificateRejected):
        enrol(session, client, CODES, algorithm=KeyAlgorithm.P256, records=records)
    again = records.pending(CODES.reference_number)
    assert again is not None and again.key_id == pending.key_id
    delete_key_pair(session, pending.key_id)


class LosesTheReply(EstClient):
    """The CA issues, but the answer never arrives (network drop)."""

    def simpleenroll(self, csr_der: bytes, codes: OneTimeCodes) -> list[bytes]:
        super().simpleenroll(csr_der, codes)
        raise CaUnreachable("connection lost")


def test_a_lost_reply_is_recovered_with_the_same_codes_and_key(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    records = Records(tmp_path)
    codes = sandbox_ca.codes()
    with (
        LosesTheReply(sandbox_ca.url, ca_bundle=sandbox_ca.root_pem) as client,
        pytest.raises(CaUnreachable),
    ):
        enrol(session, client, codes, records=records)
    issued_before = len(sandbox_ca.ca.issued)
    with sandbox_ca.client() as client:
        done = enrol(session, client, codes, records=records)
    assert done.resumed
    assert len(sandbox_ca.ca.issued) == issued_before, "the CA sent the same certificate again"
    assert done.info.serial_number == sandbox_ca.ca.issued[-1].serial
    assert any(c.key_id == done.key_id for c in read_certificates(session))
