"""DEA controlled-substance codes (21 CFR 1308.12–1308.15) and the active ingredients they cover.

SOM groups orders by drug family, the 4-digit "DEA controlled substances code
number" of the schedules (e.g. 9143 oxycodone). A distributor's history carries
the code on every row; the FDA NDC Directory does not, so an imported product
gets its code from its active ingredients through this table.

Salts, esters and isomers share the base substance's code (dextroamphetamine is
an isomer of amphetamine, 1100; testosterone cypionate is testosterone, an
anabolic steroid, 4000). Narcotic combination products in schedule III have
codes of their own (codeine with acetaminophen, 9804). The table holds the
substances a pharmacy orders; a substance missing here is reported by the
import, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from csos_desktop.domain.schedule import Schedule

S1, S2, S2N, S3, S3N, S4, S5 = (
    Schedule.I,
    Schedule.II,
    Schedule.II_NON_NARCOTIC,
    Schedule.III,
    Schedule.III_NON_NARCOTIC,
    Schedule.IV,
    Schedule.V,
)


@dataclass(frozen=True)
class DeaCode:
    """One controlled-substance code: number, name and schedule as listed in 21 CFR 1308."""

    code: int
    name: str
    schedule: Schedule


# code, name, schedule, and the ingredient names (FDA SUBSTANCENAME stems) that map to it.
_TABLE: tuple[tuple[int, str, Schedule, tuple[str, ...]], ...] = (
    # 1308.12 schedule II: opium, opiates and derivatives.
    (9050, "Codeine", S2, ("CODEINE",)),
    (9120, "Dihydrocodeine", S2, ("DIHYDROCODEINE",)),
    (9143, "Oxycodone", S2, ("OXYCODONE",)),
    (9150, "Hydromorphone", S2, ("HYDROMORPHONE",)),
    (9193, "Hydrocodone", S2, ("HYDROCODONE",)),
    (9300, "Morphine", S2, ("MORPHINE",)),
    (9630, "Opium tincture", S2, ("OPIUM",)),
    (9652, "Oxymorphone", S2, ("OXYMORPHONE",)),
    (9041, "Cocaine", S2, ("COCAINE",)),
    (9737, "Alfentanil", S2, ("ALFENTANIL",)),
    (9739, "Remifentanil", S2, ("REMIFENTANIL",)),
    (9740, "Sufentanil", S2, ("SUFENTANIL",)),
    (9743, "Carfentanil", S2, ("CARFENTANIL",)),
    (9801, "Fentanyl", S2, ("FENTANYL",)),
    (9220, "Levorphanol", S2, ("LEVORPHANOL",)),
    (9230, "Meperidine", S2, ("MEPERIDINE", "PETHIDINE")),
    (9250, "Methadone", S2, ("METHADONE",)),
    (9780, "Tapentadol", S2, ("TAPENTADOL",)),
    (9170, "Diphenoxylate", S2, ("DIPHENOXYLATE",)),
    # 1308.12 schedule II: stimulants and depressants (non-narcotic).
    (1100, "Amphetamine", S2N, ("AMPHETAMINE", "DEXTROAMPHETAMINE", "LEVOAMPHETAMINE")),
    (1105, "Methamphetamine", S2N, ("METHAMPHETAMINE",)),
    (1205, "Lisdexamfetamine", S2N, ("LISDEXAMFETAMINE",)),
    (1631, "Phenmetrazine", S2N, ("PHENMETRAZINE",)),
    (1724, "Methylphenidate", S2N, ("METHYLPHENIDATE", "DEXMETHYLPHENIDATE")),
    (2125, "Amobarbital", S2N, ("AMOBARBITAL",)),
    (2270, "Pentobarbital", S2N, ("PENTOBARBITAL",)),
    (2315, "Secobarbital", S2N, ("SECOBARBITAL",)),
    (2550, "Glutethimide", S2N, ("GLUTETHIMIDE",)),
    (7379, "Nabilone", S2N, ("NABILONE",)),
    # 1308.13 schedule III.
    (9064, "Buprenorphine", S3, ("BUPRENORPHINE",)),
    (9804, "Codeine combination product", S3, ()),
    (9807, "Dihydrocodeine combination product", S3, ()),
    (9809, "Opium combination product", S3, ()),
    (9810, "Morphine combination product", S3, ()),
    (1228, "Benzphetamine", S3N, ("BENZPHETAMINE",)),
    (1615, "Phendimetrazine", S3N, ("PHENDIMETRAZINE",)),
    (2012, "Gamma hydroxybutyric acid in an FDA-approved product", S3N, ("OXYBATE",)),
    (2100, "Barbituric acid derivative", S3N, ("BUTALBITAL", "BUTABARBITAL")),
    (2261, "Perampanel", S3N, ("PERAMPANEL",)),
    (7285, "Ketamine", S3N, ("KETAMINE", "ESKETAMINE")),
    (7295, "Tiletamine and zolazepam", S3N, ("TILETAMINE",)),
    (7369, "Dronabinol in an FDA-approved product", S3N, ("DRONABINOL",)),
    (
        4000,
        "Anabolic steroids",
        S3N,
        (
            "TESTOSTERONE",
            "METHYLTESTOSTERONE",
            "NANDROLONE",
            "OXANDROLONE",
            "OXYMETHOLONE",
            "STANOZOLOL",
            "FLUOXYMESTERONE",
        ),
    ),
    # 1308.14 schedule IV.
    (2882, "Alprazolam", S4, ("ALPRAZOLAM",)),
    (2744, "Chlordiazepoxide", S4, ("CHLORDIAZEPOXIDE",)),
    (2751, "Clobazam", S4, ("CLOBAZAM",)),
    (2737, "Clonazepam", S4, ("CLONAZEPAM",)),
    (2768, "Clorazepate", S4, ("CLORAZEPATE",)),
    (2765, "Diazepam", S4, ("DIAZEPAM",)),
    (2756, "Estazolam", S4, ("ESTAZOLAM",)),
    (2767, "Flurazepam", S4, ("FLURAZEPAM",)),
    (2885, "Lorazepam", S4, ("LORAZEPAM",)),
    (2884, "Midazolam", S4, ("MIDAZOLAM",)),
    (2835, "Oxazepam", S4, ("OXAZEPAM",)),
    (2881, "Quazepam", S4, ("QUAZEPAM",)),
    (2925, "Temazepam", S4, ("TEMAZEPAM",)),
    (2887, "Triazolam", S4, ("TRIAZOLAM",)),
    (2781, "Zaleplon", S4, ("ZALEPLON",)),
    (2783, "Zolpidem", S4, ("ZOLPIDEM",)),
    (2784, "Zopiclone", S4, ("ESZOPICLONE", "ZOPICLONE")),
    (2223, "Suvorexant", S4, ("SUVOREXANT",)),
    (2285, "Phenobarbital", S4, ("PHENOBARBITAL",)),
    (2264, "Methohexital", S4, ("METHOHEXITAL",)),
    (2820, "Meprobamate", S4, ("MEPROBAMATE",)),
    (8192, "Carisoprodol", S4, ("CARISOPRODOL",)),
    (2465, "Chloral hydrate", S4, ("CHLORAL HYDRATE",)),
    (9720, "Butorphanol", S4, ("BUTORPHANOL",)),
    (9709, "Pentazocine", S4, ("PENTAZOCINE",)),
    (9752, "Tramadol", S4, ("TRAMADOL",)),
    (9725, "Eluxadoline", S4, ("ELUXADOLINE",)),
    (1640, "Phentermine", S4, ("PHENTERMINE",)),
    (1610, "Diethylpropion", S4, ("DIETHYLPROPION",)),
    (1680, "Modafinil", S4, ("MODAFINIL", "ARMODAFINIL")),
    (1684, "Solriamfetol", S4, ("SOLRIAMFETOL",)),
    # 1308.15 schedule V.
    (2782, "Pregabalin", S5, ("PREGABALIN",)),
    (2746, "Lacosamide", S5, ("LACOSAMIDE",)),
    (2710, "Brivaracetam", S5, ("BRIVARACETAM",)),
    (2779, "Ezogabine", S5, ("EZOGABINE",)),
)

#: Every code in the table, by number.
DEA_CODES: Mapping[int, DeaCode] = {c: DeaCode(c, n, s) for c, n, s, _ in _TABLE}

# Ingredient stem -> code, longest stems first so DEXTROAMPHETAMINE wins over AMPHETAMINE.
_STEMS = sorted(
    ((stem, code) for code, _, _, stems in _TABLE for stem in stems),
    key=lambda sc: -len(sc[0]),
)
# A schedule III narcotic combination product has a code of its own (1308.13(e)).
_COMBINATION = {9050: 9804, 9120: 9807, 9630: 9809, 9300: 9810}
_WORD = re.compile(r"[A-Z]+")


def is_controlled_code(code: int) -> bool:
    """True for a code in the table (every code a pharmacy's history is expected to carry)."""
    return code in DEA_CODES


def code_of_ingredient(substance: str) -> int | None:
    """The code of one active ingredient as the FDA writes it (``OXYCODONE HYDROCHLORIDE``)."""
    words = " ".join(_WORD.findall(substance.upper()))
    for stem, code in _STEMS:
        if words == stem or words.startswith(stem + " "):
            return code
    # Salts written first ("SODIUM OXYBATE", "CALCIUM OXYBATE"): any word may be the stem.
    for stem, code in _STEMS:
        if f" {stem} " in f" {words} ":
            return code
    return None


def code_of_product(substances: Iterable[str], level: Schedule) -> int | None:
    """The family of a product with these ingredients, listed in schedule ``level``.

    A schedule III product with a schedule II narcotic (codeine with
    acetaminophen, or with butalbital) is that narcotic's combination product;
    otherwise, of several controlled ingredients, the one whose schedule matches
    the product's is taken.
    """
    codes = [c for c in (code_of_ingredient(s) for s in substances) if c is not None]
    if not codes:
        return None
    rank = _LEVEL[level]
    if rank == _LEVEL[Schedule.III]:
        narcotic = [_COMBINATION[c] for c in codes if c in _COMBINATION]
        if narcotic:
            return narcotic[0]
    matching = [c for c in codes if _LEVEL[DEA_CODES[c].schedule] == rank]
    return matching[0] if matching else codes[0]


_LEVEL = {S1: 1, S2: 2, S2N: 2, S3: 3, S3N: 3, S4: 4, S5: 5}


def schedule_level(schedule: Schedule) -> int:
    """1 .. 5: the schedule without the narcotic/non-narcotic distinction."""
    return _LEVEL[schedule]
