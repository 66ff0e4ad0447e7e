"""The Group Policy templates (ADMX/ADML) match the settings and what the reader accepts.

No Windows here: the templates are read as the XML they are, and the registry data each
policy writes when enabled is given to our registry-policy reader.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from csos_desktop.config.registry_policy import POLICY_KEY, read_registry_policy
from csos_desktop.config.settings import SETTINGS, Kind

ROOT = Path(__file__).resolve().parents[3] / "installers" / "windows" / "policy"
NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
ADMX = ET.parse(ROOT / "csos-desktop.admx").getroot()
ADML = ET.parse(ROOT / "en-US" / "csos-desktop.adml").getroot()
POLICIES = ADMX.findall("p:policies/p:policy", NS)


def _value_name(policy: ET.Element) -> str:
    name = policy.get("valueName") or policy.find("p:elements/*", NS).get("valueName")  # type: ignore[union-attr]
    assert name is not None
    return name


BY_VALUE = {_value_name(p): p for p in POLICIES}


class OsRegistry:
    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def read_values(self, key: str) -> Mapping[str, object] | None:
        return self._values if key == POLICY_KEY else None


def test_every_setting_has_one_machine_policy_under_the_policy_key() -> None:
    assert sorted(BY_VALUE) == sorted(s.key for s in SETTINGS)
    assert len(POLICIES) == len(SETTINGS)
    for policy in POLICIES:
        assert (policy.get("class"), policy.get("key")) == ("Machine", POLICY_KEY)


def test_each_policy_writes_the_registry_type_the_reader_expects() -> None:
    for s in SETTINGS:
        policy = BY_VALUE[s.key]
        element = policy.find("p:elements/*", NS)
        if s.kind is Kind.BOOLEAN:
            assert element is None
            assert policy.find("p:enabledValue/p:decimal", NS).get("value") == "1"  # type: ignore[union-attr]
            assert policy.find("p:disabledValue/p:decimal", NS).get("value") == "0"  # type: ignore[union-attr]
        elif s.kind is Kind.INTEGER:
            assert element is not None and element.tag.endswith("decimal")
            assert (element.get("minValue"), element.get("maxValue")) == (
                str(s.minimum),
                str(s.maximum),
            )
        elif s.kind is Kind.CHOICE:
            assert element is not None and element.tag.endswith("enum")
            values = [v.text for v in element.findall("p:item/p:value/p:string", NS)]
            assert tuple(values) == s.choices
        else:
            assert element is not None and element.tag.endswith("text")


def test_what_the_enabled_policies_write_is_accepted_as_locked_settings() -> None:
    written: dict[str, object] = {
        "distributor_url": "https://csos.distributor.example/api",
        "pkcs11_module": r"C:\Windows\System32\eTPKCS11.dll",
        "ca_bundle": r"C:\ProgramData\Distributor\ca.pem",
        "token_label": "Main Street Pharmacy",
        "rx_pharmacy_id": "main-street-pharmacy",
        "trust_anchors": r"C:\ProgramData\CSOS Desktop\dea-csos-anchors.pem",
        "time_zone": "America/Chicago",
        "ntp_server": "time.windows.com",
        "clock_unverifiable": "REFUSE",
        "dea_number": "AB1234563",
        "log_level": "WARNING",  # an enum item's <string>
        "sync_interval_minutes": 1440,  # REG_DWORD from <decimal>, at maxValue
        "som_warnings": 0,  # disabledValue
        "pin_min_length": 8,
        "allow_software_tokens": 0,
        "allow_private_revocation_urls": 0,
        "dea_registration_expiry": "2027-06-30",
        "distributor_connection": "AS2",
        "as2_url": "https://as2.distributor.example/as2",
        "as2_id": "MAINSTREETRX",
        "as2_partner_id": "KEYSTONEDRUG",
        "as2_partner_certificate": r"C:\ProgramData\CSOS Desktop\as2\distributor.pem",
        "as2_key": r"C:\ProgramData\CSOS Desktop\as2\pharmacy-key.pem",
        "as2_certificate": r"C:\ProgramData\CSOS Desktop\as2\pharmacy.pem",
        "as2_encrypt": 1,  # enabledValue
        "as2_compress": 0,
    }
    assert sorted(written) == sorted(BY_VALUE)
    found = read_registry_policy(OsRegistry(written))
    assert found.problems == ()
    assert found.values["som_warnings"] is False and found.values["sync_interval_minutes"] == 1440
    assert found.values["as2_encrypt"] is True and found.values["distributor_connection"] == "AS2"


def test_every_text_and_presentation_the_admx_names_is_in_the_adml() -> None:
    strings = {s.get("id") for s in ADML.findall("p:resources/p:stringTable/p:string", NS)}
    presentations = {
        p.get("id"): {c.get("refId") for c in p}
        for p in ADML.findall("p:resources/p:presentationTable/p:presentation", NS)
    }
    text = (ROOT / "csos-desktop.admx").read_text(encoding="utf-8")
    assert set(re.findall(r"\$\(string\.(\w+)\)", text)) <= strings
    for policy in POLICIES:
        ref = re.fullmatch(r"\$\(presentation\.(\w+)\)", policy.get("presentation") or "")
        elements = {e.get("id") for e in policy.findall("p:elements/*", NS)}
        if elements:
            assert ref is not None and presentations[ref.group(1)] == elements
