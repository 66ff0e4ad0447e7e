"""One configuration for distributor sync: the GUI timer and `csos sync` read the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from csos_desktop.config import set_value
from csos_desktop.domain.errors import InputError
from csos_desktop.services.sync.service import DEFAULT_INTERVAL_MINUTES, settings_from_config

URL = "https://csos.distributor.example/api"


def test_the_interval_defaults_to_the_settings_default_everywhere() -> None:
    settings = settings_from_config()
    assert settings.interval_minutes == DEFAULT_INTERVAL_MINUTES == 15
    assert settings.interval_seconds == 900.0
    with pytest.raises(InputError, match="csos config set distributor_url"):
        settings.require_url()


def test_configured_values_apply_and_arguments_override_them(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    set_value("sync_interval_minutes", "7")
    set_value("distributor_url", URL)
    set_value("ca_bundle", str(bundle))
    settings = settings_from_config()
    assert (settings.url, settings.ca_bundle, settings.interval_minutes) == (URL, bundle, 7)
    other = settings_from_config("https://other.example/api", tmp_path / "x.pem")
    assert other.url == "https://other.example/api" and other.ca_bundle == tmp_path / "x.pem"
    assert other.interval_seconds == 7 * 60
