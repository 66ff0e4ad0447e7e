"""The DEA controlled-substance codes of 21 CFR 1308.11-1308.15 for the common ingredients."""

from __future__ import annotations

import pytest

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.dea_codes import (
    DEA_CODES,
    code_of_ingredient,
    code_of_product,
    is_controlled_code,
)
from csos_desktop.domain.schedule import Schedule

COMMON = {
    "OXYCODONE HYDROCHLORIDE": 9143,
    "HYDROCODONE BITARTRATE": 9193,
    "MORPHINE SULFATE": 9300,
    "FENTANYL CITRATE": 9801,
    "METHADONE HYDROCHLORIDE": 9250,
    "HYDROMORPHONE HYDROCHLORIDE": 9150,
    "OXYMORPHONE HYDROCHLORIDE": 9652,
    "CODEINE PHOSPHATE": 9050,
    "TAPENTADOL HYDROCHLORIDE": 9780,
    "AMPHETAMINE SULFATE": 1100,
    "DEXTROAMPHETAMINE SACCHARATE": 1100,
    "METHYLPHENIDATE HYDROCHLORIDE": 1724,
    "DEXMETHYLPHENIDATE HYDROCHLORIDE": 1724,
    "LISDEXAMFETAMINE DIMESYLATE": 1205,
    "ALPRAZOLAM": 2882,
    "DIAZEPAM": 2765,
    "LORAZEPAM": 2885,
    "CLONAZEPAM": 2737,
    "ZOLPIDEM TARTRATE": 2783,
    "TRAMADOL HYDROCHLORIDE": 9752,
    "BUPRENORPHINE HYDROCHLORIDE": 9064,
    "TESTOSTERONE CYPIONATE": 4000,
    "PREGABALIN": 2782,
    "CARISOPRODOL": 8192,
    "PHENOBARBITAL": 2285,
    "KETAMINE HYDROCHLORIDE": 7285,
    "MIDAZOLAM HYDROCHLORIDE": 2884,
    "ESZOPICLONE": 2784,
    "ARMODAFINIL": 1680,
}


@pytest.mark.parametrize(("substance", "code"), sorted(COMMON.items()))
def test_common_ingredients_have_their_dea_code(substance: str, code: int) -> None:
    assert code_of_ingredient(substance) == code


def test_schedules_follow_the_cfr() -> None:
    assert DEA_CODES[9143].schedule is Schedule.II
    assert DEA_CODES[1100].schedule is Schedule.II_NON_NARCOTIC
    assert DEA_CODES[9064].schedule is Schedule.III
    assert DEA_CODES[4000].schedule is Schedule.III_NON_NARCOTIC
    assert DEA_CODES[2882].schedule is Schedule.IV
    assert DEA_CODES[2782].schedule is Schedule.V


def test_the_sandbox_catalogue_agrees_with_the_table() -> None:
    for code, family in bundled_catalogue().families.items():
        assert is_controlled_code(code)
        assert DEA_CODES[code].schedule is family.schedule, family.label


def test_products_of_several_ingredients() -> None:
    apap_codeine = ["ACETAMINOPHEN", "CODEINE PHOSPHATE"]
    assert code_of_product(apap_codeine, Schedule.III) == 9804
    assert code_of_product(
        ["BUTALBITAL", "ACETAMINOPHEN", "CAFFEINE", "CODEINE"], Schedule.III
    ) == (9804)
    assert code_of_product(["ACETAMINOPHEN", "HYDROCODONE BITARTRATE"], Schedule.II) == 9193
    assert code_of_product(["BUPRENORPHINE HCL", "NALOXONE HCL"], Schedule.III) == 9064
    assert code_of_product(["ACETAMINOPHEN", "CAFFEINE"], Schedule.III) is None
    assert code_of_ingredient("NALOXONE HYDROCHLORIDE") is None
    assert not is_controlled_code(1234)
