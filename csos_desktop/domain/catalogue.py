"""The product catalogue: which NDC is which drug family (DEA controlled-substance code).

SOM works per drug family ("base code", e.g. 9143 oxycodone), so every NDC on
an order or in the history must map to one. The sandbox distributor publishes
its catalogue; the bundled one (``resources/catalogue/products.json``) is
synthetic: its NDC labeler codes (991xx) identify no real product.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.schedule import Schedule

SCHEMA = "csos-catalogue/1"


class CatalogueInvalid(InputError):
    """A catalogue document that cannot be used."""


@dataclass(frozen=True)
class DrugFamily:
    """A DEA controlled-substance code ("drug family"), e.g. 9143 Oxycodone, schedule II."""

    drug_code: int
    name: str
    schedule: Schedule

    @property
    def label(self) -> str:
        """``Oxycodone (9143)``: how a compliance officer reads a family."""
        return f"{self.name} ({self.drug_code})"

    @property
    def is_schedule_ii(self) -> bool:
        """Schedule II, narcotic or not: the families whose share of the mix SOM watches."""
        return self.schedule in (Schedule.II, Schedule.II_NON_NARCOTIC)


@dataclass(frozen=True)
class Product:
    """One NDC: item name, strength, dosage form, units per package, family and schedule."""

    ndc: Ndc
    item_name: str
    strength: str
    dosage_form: str
    package_size: int
    drug_code: int
    schedule: Schedule

    @property
    def variant(self) -> str:
        """Strength and form, e.g. ``10 mg tablet``: what a strength/form change compares."""
        return f"{self.strength} {self.dosage_form}"


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Products by 11-digit NDC and drug families by code."""

    catalogue_id: str
    version: str
    synthetic: bool
    families: Mapping[int, DrugFamily]
    products: Mapping[str, Product]

    def product(self, ndc_digits: str) -> Product | None:
        """The product with this 11-digit NDC, or None."""
        return self.products.get(ndc_digits)

    def family(self, drug_code: int) -> DrugFamily | None:
        return self.families.get(drug_code)

    def products_of(self, drug_code: int) -> tuple[Product, ...]:
        """Products of one family, in catalogue order."""
        return tuple(p for p in self.products.values() if p.drug_code == drug_code)

    @classmethod
    def from_document(cls, doc: Mapping[str, object]) -> Catalogue:
        """Read a ``csos-catalogue/1`` document; raise CatalogueInvalid naming the bad entry."""
        if doc.get("schema") != SCHEMA:
            raise CatalogueInvalid(f'a product catalogue must have "schema": "{SCHEMA}"')
        try:
            families: dict[int, DrugFamily] = {}
            for f in _list(doc, "families"):
                family = DrugFamily(
                    int(f["drug_code"]), str(f["name"]), Schedule.parse(f["schedule"])
                )
                if family.drug_code in families:
                    raise CatalogueInvalid(f"drug code {family.drug_code} is listed twice")
                families[family.drug_code] = family
            products: dict[str, Product] = {}
            for p in _list(doc, "products"):
                product = Product(
                    Ndc(str(p["ndc"])),
                    str(p["item_name"]),
                    str(p["strength"]),
                    str(p["dosage_form"]),
                    int(p["package_size"]),
                    int(p["drug_code"]),
                    Schedule.parse(p["schedule"]),
                )
                _check_product(product, families, products)
                products[product.ndc.digits] = product
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogueInvalid(f"product catalogue entry is malformed: {exc}") from exc
        return cls(
            str(doc.get("catalogue_id", "")),
            str(doc.get("version", "")),
            bool(doc.get("synthetic", False)),
            families,
            products,
        )


def _list(doc: Mapping[str, object], key: str) -> list[dict[str, str]]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise CatalogueInvalid(f"a product catalogue needs a list of {key}")
    return value


def _check_product(
    product: Product, families: Mapping[int, DrugFamily], seen: Mapping[str, Product]
) -> None:
    ndc = product.ndc.digits
    if ndc in seen:
        raise CatalogueInvalid(f"NDC {product.ndc} is listed twice")
    family = families.get(product.drug_code)
    if family is None:
        raise CatalogueInvalid(f"NDC {product.ndc} names unknown drug code {product.drug_code}")
    if family.schedule is not product.schedule:
        raise CatalogueInvalid(
            f"NDC {product.ndc} is schedule {product.schedule.value} but drug code"
            f" {product.drug_code} is schedule {family.schedule.value}"
        )
    if product.package_size <= 0:
        raise CatalogueInvalid(f"NDC {product.ndc} has a package size of {product.package_size}")


@lru_cache(maxsize=1)
def bundled_catalogue() -> Catalogue:
    """The synthetic catalogue shipped with the program (read once, from package data)."""
    text = resources.files("csos_desktop").joinpath("resources/catalogue/products.json")
    return Catalogue.from_document(json.loads(text.read_text(encoding="utf-8")))
