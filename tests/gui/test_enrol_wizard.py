"""The enrolment wizard against the sandbox CA over real TLS, on a blank SoftHSM2 token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.enrol.errors import CaUnreachable
from csos_desktop.enrol.est_client import EstClient, OneTimeCodes
from csos_desktop.gui.dialogs.enrol_wizard import EnrolWizard
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ca_server import RunningServer, start_ca
from csos_desktop.sandbox.codes import CodeRejected, CodeStore, IssuedCodes
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token
from csos_desktop.services.tokens.status import read_token_status
from csos_desktop.token.keys import KeyAlgorithm
from tests.conftest import TEST_PIN, Provisioned
from tests.gui.conftest import on_token_thread

DEA = "AB1234563"


@pytest.fixture(scope="session")
def blank_token(tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path) -> SoftHsmToken:
    """Made after `tokens` and before any token thread: a new token re-initialises the module."""
    return create_token(hsm_dir, "csos-gui-enrol", TEST_PIN)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestCa, RunningServer]]:
    test_ca = TestCa.init(tmp_path_factory.mktemp("gui-ca") / "ca")
    server = start_ca(test_ca)
    yield test_ca, server
    server.stop()


def flaky(failures: int) -> object:
    """EST clients whose first *failures* certificate requests are lost on the network."""
    left = [failures]

    class Flaky(EstClient):
        def simpleenroll(self, csr_der: bytes, codes: OneTimeCodes) -> list[bytes]:
            if left[0] > 0:
                left[0] -= 1
                raise CaUnreachable(
                    "The CA did not answer (connection reset). Check the network and try again."
                )
            return super().simpleenroll(csr_der, codes)

    return lambda url, bundle: Flaky(url, ca_bundle=bundle)


def start_enrolment(
    qtbot: QtBot,
    wizard: EnrolWizard,
    token: SoftHsmToken,
    ca: tuple[TestCa, RunningServer],
    codes: IssuedCodes,
) -> None:
    """Fill the token and codes pages as a user does, type the PIN and press the button."""
    test_ca, server = ca
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.token_page
    qtbot.waitUntil(lambda: bool(page.tokens), timeout=5000)
    page.token.setCurrentIndex([t.label for t in page.tokens].index(token.label))
    page.ca_url.setText(server.url)
    page.ca_bundle.setText(str(test_ca.directory / "root.pem"))
    wizard.next()
    assert wizard.currentPage() is wizard.codes_page
    wizard.codes_page.reference.setText(codes.reference_number)
    wizard.codes_page.code.setText(codes.authorization_code)
    wizard.codes_page.dea.setText(DEA)
    wizard.next()
    assert wizard.currentPage() is wizard.key_page
    qtbot.keyClicks(wizard.pin, TEST_PIN)
    wizard.start.click()


def test_enrol_through_the_wizard_with_a_retry_after_a_network_error(
    qtbot: QtBot,
    blank_token: SoftHsmToken,
    ca: tuple[TestCa, RunningServer],
    token_worker: TokenWorker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    test_ca = ca[0]
    codes = CodeStore(test_ca.directory).issue(
        name="Main Street Pharmacy", dea_number=DEA, schedules=parse_schedule_list("2,2N,3,3N,4,5")
    )
    wizard = EnrolWizard(token_worker, client_factory=flaky(1))  # type: ignore[arg-type]
    start_enrolment(qtbot, wizard, blank_token, ca, codes)
    assert wizard.pin.text() == "" and wizard.codes_page.code.text() == ""
    retry = wizard.retrieval_page.retry
    qtbot.waitUntil(retry.isVisible, timeout=20_000)
    assert wizard.currentPage() is wizard.retrieval_page  # the key is made; only retrieval failed
    assert "did not answer" in wizard.retrieval_page.error.text()
    retry.click()
    qtbot.waitUntil(lambda: wizard.enrolled is not None, timeout=20_000)
    assert wizard.currentPage() is wizard.done_page
    assert wizard.enrolled is not None and wizard.enrolled.resumed  # the same key, no restart
    assert "Certificate installed" in wizard.summary.text()
    wizard.close()
    status = on_token_thread(
        qtbot, token_worker, lambda: read_token_status(blank_token.module, blank_token.label)
    )
    assert status.certificate is not None and status.certificate.dea_number == DEA
    assert len(status.certificates) == 1


def _lock(store: CodeStore, reference: str) -> None:
    with pytest.raises(CodeRejected):
        store.check(reference, "WRONG-WRONG-WRONG", source="127.0.0.1")  # the wizard's address


@pytest.mark.parametrize("spoilt", ["locked", "expired"])
def test_locked_or_expired_codes_get_no_retry_button(
    qtbot: QtBot,
    blank_token: SoftHsmToken,
    ca: tuple[TestCa, RunningServer],
    token_worker: TokenWorker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spoilt: str,
) -> None:
    """The CA says "Do not try again" for locked codes: no Retry that would reuse them."""
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    test_ca = ca[0]
    past = datetime.now(UTC) - timedelta(days=30)
    issuer = CodeStore(test_ca.directory, clock=(lambda: past) if spoilt == "expired" else None)
    codes = issuer.issue(
        name="Main Street Pharmacy",
        dea_number=DEA,
        schedules=parse_schedule_list("2,2N,3,3N,4,5"),
        valid_days=1,
        max_attempts=1,
    )
    if spoilt == "locked":
        _lock(CodeStore(test_ca.directory), codes.reference_number)
    wizard = EnrolWizard(token_worker)
    start_enrolment(qtbot, wizard, blank_token, ca, codes)
    error = wizard.key_page.error
    qtbot.waitUntil(lambda: bool(error.text()), timeout=20_000)
    expected = "Do not try again" if spoilt == "locked" else "expired"
    assert expected in error.text() and "Press Retry" not in error.text()
    assert not wizard.key_page.retry.isVisible() and not wizard.retrieval_page.retry.isVisible()
    assert wizard.model.problem is not None and not wizard.model.problem.retryable
    assert wizard.enrolled is None
    wizard.close()
