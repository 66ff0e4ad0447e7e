"""Importing the FDA NDC Directory (product.txt, package.txt) into the store's catalogue.

The fixture is in the FDA's layout — tab-separated, the full column set, CRLF,
Windows-1252 — with made-up products: tablets in bottles and blister cartons,
liquids, vials, a kit, a product without a schedule, one not controlled, an
ingredient without a DEA code in our table, and a malformed package NDC.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.domain.fda_ndc import (
    PACKAGE_COLUMNS,
    PRODUCT_COLUMNS,
    DirectoryInvalid,
    PackageSize,
    package_size,
    read_directory,
)
from csos_desktop.domain.schedule import Schedule
from csos_desktop.services.orders.catalogue import active_catalogue, decode, import_directory
from csos_desktop.store import open_store
from csos_desktop.store.audit import AuditEvent

FIXTURE = Path(__file__).parents[3] / "docs" / "samples" / "fda-ndc"
PRODUCT, PACKAGE = FIXTURE / "product.txt", FIXTURE / "package.txt"


def _directory():  # type: ignore[no-untyped-def]
    return read_directory(
        decode(PRODUCT.read_bytes()).splitlines(), decode(PACKAGE.read_bytes()).splitlines()
    )


def test_the_fixture_has_exactly_the_fda_columns_and_encoding() -> None:
    product, package = PRODUCT.read_bytes(), PACKAGE.read_bytes()
    assert product.split(b"\r\n")[0].decode().split("\t") == list(PRODUCT_COLUMNS)
    assert package.split(b"\r\n")[0].decode().split("\t") == list(PACKAGE_COLUMNS)
    with pytest.raises(UnicodeDecodeError):
        product.decode("utf-8")  # Windows-1252, as the FDA's files sometimes are
    assert "Névrax" in decode(product)


def test_controlled_packages_are_imported_with_code_schedule_and_size() -> None:
    d = _directory()
    products = {p.ndc.digits: p for p in d.products}
    oxy = products["99901010101"]
    assert (oxy.drug_code, oxy.schedule, oxy.package_size) == (9143, Schedule.II, 100)
    assert (oxy.strength, oxy.dosage_form) == ("10 mg", "tablet")
    assert products["99901010105"].package_size == 500
    # Two ingredients: the controlled one gives family and strength; blister cartons multiply.
    hydrocodone = products["99901020210"]
    assert (hydrocodone.drug_code, hydrocodone.strength, hydrocodone.package_size) == (
        9193,
        "10 mg",
        100,
    )
    # A schedule III codeine product is a codeine combination product (9804).
    assert (products["99901030301"].drug_code, products["99901030301"].schedule) == (
        9804,
        Schedule.III,
    )
    # Four amphetamine salts are one family, schedule II non-narcotic; the name keeps its accent.
    amph = products["99906011101"]
    assert (amph.drug_code, amph.schedule) == (1100, Schedule.II_NON_NARCOTIC)
    assert amph.item_name == "Névrax 2.5 mg tablet"
    # 4-4-2 NDCs become 5-4-2.
    assert (
        products["09908444410"].drug_code == 2885 and products["09908444410"].package_size == 1000
    )
    assert products["99907033318"].drug_code == 2012  # sodium oxybate, salt written first


def test_liquids_vials_and_kits_get_their_measure_or_count() -> None:
    d = _directory()
    products = {p.ndc.digits: p for p in d.products}
    syrup = products["99902040416"]
    assert (syrup.package_size, d.package_units["99902040416"]) == (473, "ml")
    assert (syrup.drug_code, syrup.schedule, syrup.strength) == (9050, Schedule.V, "10 mg/5mL")
    assert (products["99902050530"].package_size, d.package_units["99902050530"]) == (30, "ml")
    assert (products["99903060625"].package_size, d.package_units["99903060625"]) == (25, "VIAL")
    assert (products["99903060601"].package_size, d.package_units["99903060601"]) == (2, "ml")
    kit = products["99904070701"]
    assert (kit.package_size, d.package_units["99904070701"], kit.drug_code) == (1, "KIT", 4000)
    assert kit.schedule is Schedule.III_NON_NARCOTIC


def test_what_is_left_out_is_said() -> None:
    d = _directory()
    ndcs = {p.ndc.digits for p in d.products}
    assert "99905080801" not in ndcs  # alprazolam with no DEASCHEDULE: not imported
    assert "99905090901" not in ndcs  # ibuprofen: not controlled
    assert d.not_controlled == 2
    assert d.unknown_ingredients == {"CENOBAMATE": 1}
    reasons = {s.ndc: s.reason for s in d.skipped}
    assert "no whole package size" in reasons["99903-606-03"]  # 2.5 mL
    assert "9908-4444-1X" in reasons and "only digits and hyphens" in reasons["9908-4444-1X"]
    assert len(d.products) == 12


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("100 TABLET in 1 BOTTLE (0093-0058-01) ", PackageSize(100, "TABLET")),
        ("100 TABLET, FILM COATED in 1 BOTTLE, PLASTIC (1-2-3)", PackageSize(100, "TABLET")),
        ("1 BOTTLE in 1 CARTON (x)  > 60 CAPSULE in 1 BOTTLE", PackageSize(60, "CAPSULE")),
        ("5 POUCH in 1 CARTON > 1 PATCH in 1 POUCH", PackageSize(5, "PATCH")),
        ("473 mL in 1 BOTTLE (0121-0903-16)", PackageSize(473, "ml")),
        ("30 g in 1 TUBE", PackageSize(30, "g")),
        ("10 VIAL in 1 TRAY > 20 mL in 1 VIAL", PackageSize(10, "VIAL")),
        ("0.5 mL in 1 SYRINGE", None),
        ("see insert", None),
        ("", None),
    ],
)
def test_package_sizes(description: str, expected: PackageSize | None) -> None:
    assert package_size(description) == expected


def test_a_file_that_is_not_the_directory_is_refused(tmp_path: Path) -> None:
    not_fda = tmp_path / "orders.csv"
    not_fda.write_text("order_id,ndc\n1,2\n", encoding="utf-8")
    with pytest.raises(DirectoryInvalid, match="lacks the column"):
        read_directory(not_fda.read_text().splitlines(), PACKAGE.read_text("cp1252").splitlines())


def test_import_replaces_the_store_catalogue_with_its_audit_entry(tmp_path: Path) -> None:
    with open_store(tmp_path / "csos.db") as store:
        assert store.catalogue.load() is None
        assert active_catalogue(store).synthetic  # the sandbox catalogue until an import
        outcome = import_directory(store, PRODUCT, PACKAGE)
        cat = active_catalogue(store)
        assert not cat.synthetic and len(cat.products) == outcome.record.products == 12
        assert cat.families[9143].label == "Oxycodone (9143)"
        assert cat.families[1100].is_schedule_ii
        assert cat.product("99901010101").package_size == 100  # type: ignore[union-attr]
        entry = list(store.audit.entries())[-1]
        assert entry.event == AuditEvent.CATALOGUE_IMPORTED
        assert entry.details["products"] == 12
        assert store.integrity_errors() == []
        # A second import of a file with nothing usable changes nothing.
        empty = tmp_path / "product.txt"
        empty.write_text("\t".join(PRODUCT_COLUMNS) + "\n", encoding="utf-8")
        with pytest.raises(Exception, match="the catalogue was not changed"):
            import_directory(store, empty, PACKAGE)
        assert len(active_catalogue(store).products) == 12


def test_csos_catalogue_import_and_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path))
    runner = CliRunner()
    before = runner.invoke(main, ["catalogue", "show"])
    assert before.exit_code == 0 and "No product catalogue is imported" in before.output
    r = runner.invoke(main, ["catalogue", "import", str(PRODUCT), str(PACKAGE)])
    assert r.exit_code == 0, r.output
    assert "Imported 12 controlled packages in 10 drug families" in r.output
    assert "CENOBAMATE (1 product)" in r.output
    assert "skipped 99903-606-03" in r.output
    after = runner.invoke(main, ["catalogue", "show"])
    assert "FDA NDC Directory (product.txt, package.txt)" in after.output
    missing = runner.invoke(main, ["catalogue", "import", str(tmp_path / "nope.txt"), str(PACKAGE)])
    assert missing.exit_code != 0 and "cannot read" in missing.output
