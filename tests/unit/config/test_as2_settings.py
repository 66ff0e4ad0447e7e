"""The AS2 connection from the configuration: REST by default, every missing setting named,
the key files read and checked, compression on the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from csos_desktop.config import load_config, set_value
from csos_desktop.pki.as2_message import build_message, open_message
from csos_desktop.services.sync.as2_settings import As2NotConfigured, as2_settings
from csos_desktop.services.sync.service import settings_from_config
from tests.integration.as2_files import as2_config
from tests.integration.test_as2 import DISTRIBUTOR, NOW, PAYLOAD, PHARMACY

URL = "https://as2.distributor.example/as2"


def test_rest_is_the_default_and_asks_for_no_as2_setting() -> None:
    assert as2_settings(load_config()) is None
    settings = settings_from_config()
    assert settings.as2 is None and settings.as2_problem is None


def test_an_as2_connection_with_settings_missing_names_each() -> None:
    set_value("distributor_connection", "as2")  # choices are taken in any case
    set_value("as2_url", URL)
    with pytest.raises(As2NotConfigured) as e:
        as2_settings(load_config())
    for key in ("as2_id", "as2_partner_id", "as2_partner_certificate", "as2_key"):
        assert key in e.value.message
    assert "as2_url" not in e.value.message
    assert settings_from_config().as2_problem == e.value.message


def test_the_configured_connection_reads_its_key_files(tmp_path: Path) -> None:
    as2_config(tmp_path / "as2", URL, PHARMACY, DISTRIBUTOR, encrypt=False, compress=True)
    settings = settings_from_config()
    assert settings.as2 is not None and settings.as2_problem is None
    conn = settings.as2.connection(None)
    assert (conn.url, conn.as2_from, conn.as2_to) == (URL, "PHARMACY", "DISTRIBUTOR")
    assert (conn.encrypt, conn.compress) == (False, True)
    assert conn.ours.certificate == PHARMACY.certificate
    assert conn.partner == DISTRIBUTOR.certificate


def test_a_key_file_that_is_not_a_key_is_named(tmp_path: Path) -> None:
    as2_config(tmp_path / "as2", URL, PHARMACY, DISTRIBUTOR)
    set_value("as2_key", str(tmp_path / "as2" / "pharmacy.pem"))  # the certificate instead
    settings = settings_from_config()
    assert settings.as2 is not None
    with pytest.raises(As2NotConfigured, match=r"as2_key: .*pharmacy\.pem"):
        settings.as2.party()


def test_the_as2_url_must_be_https() -> None:
    from csos_desktop.config.settings import SettingInvalid

    with pytest.raises(SettingInvalid, match="https"):
        set_value("as2_url", "http://as2.distributor.example/as2")


@pytest.mark.parametrize("encrypt", [True, False])
def test_a_compressed_message_opens_to_the_same_payload_and_mic(encrypt: bool) -> None:
    plain = build_message(PAYLOAD * 50, PHARMACY, DISTRIBUTOR.certificate, NOW,
                          message_id="<c@csos>", encrypt=False)  # fmt: skip
    ctype, body, mic = build_message(
        PAYLOAD * 50, PHARMACY, DISTRIBUTOR.certificate, NOW,
        message_id="<c@csos>", encrypt=encrypt, compress=True,
    )  # fmt: skip
    if not encrypt:
        assert "compressed-data" in ctype and len(body) < len(plain[1])
    opened = open_message(ctype, body, DISTRIBUTOR, PHARMACY.certificate)
    assert opened.payload == PAYLOAD * 50 and opened.mic == mic == plain[2]
