"""The imported product catalogue (FDA NDC Directory): replaced whole, read whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.catalogue import Catalogue, DrugFamily, Product
from csos_desktop.domain.dea_codes import DEA_CODES
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.timestamps import format_timestamp


@dataclass(frozen=True)
class CatalogueImport:
    """One import: when, from what (file hashes), how many products kept and skipped."""

    import_id: int
    imported_at: str
    source: str
    product_sha256: str
    package_sha256: str
    products: int
    skipped: int


class CatalogueRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def replace(
        self,
        products: tuple[Product, ...],
        units: Mapping[str, str],
        *,
        source: str,
        product_sha256: str,
        package_sha256: str,
        skipped: int,
        at: datetime,
    ) -> CatalogueImport:
        """Put ``products`` in place of the catalogue (call inside the caller's transaction)."""
        self._conn.execute("DELETE FROM catalogue_products")
        self._conn.executemany(
            "INSERT INTO catalogue_products (ndc, item_name, strength, dosage_form,"
            " package_size, package_unit, drug_code, schedule) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    p.ndc.digits,
                    p.item_name,
                    p.strength,
                    p.dosage_form,
                    p.package_size,
                    units.get(p.ndc.digits, ""),
                    p.drug_code,
                    p.schedule.value,
                )
                for p in products
            ],
        )
        cur = self._conn.execute(
            "INSERT INTO catalogue_imports (imported_at, source, product_sha256, package_sha256,"
            " products, skipped) VALUES (?, ?, ?, ?, ?, ?)",
            (format_timestamp(at), source, product_sha256, package_sha256, len(products), skipped),
        )
        return CatalogueImport(
            int(cur.lastrowid or 0),
            format_timestamp(at),
            source,
            product_sha256,
            package_sha256,
            len(products),
            skipped,
        )

    def latest_import(self) -> CatalogueImport | None:
        row = self._conn.execute(
            "SELECT import_id, imported_at, source, product_sha256, package_sha256, products,"
            " skipped FROM catalogue_imports ORDER BY import_id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else CatalogueImport(*row)

    def load(self) -> Catalogue | None:
        """The imported catalogue, or None when nothing was imported."""
        last = self.latest_import()
        if last is None:
            return None
        products: dict[str, Product] = {}
        for r in self._conn.execute(
            "SELECT ndc, item_name, strength, dosage_form, package_size, drug_code, schedule"
            " FROM catalogue_products ORDER BY item_name, ndc"
        ):
            products[str(r[0])] = Product(
                Ndc(str(r[0])),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                int(r[4]),
                int(r[5]),
                Schedule(str(r[6])),
            )
        codes = sorted({p.drug_code for p in products.values()})
        families = {
            c: DrugFamily(c, DEA_CODES[c].name, DEA_CODES[c].schedule)
            for c in codes
            if c in DEA_CODES
        }
        return Catalogue(f"fda-ndc-{last.import_id}", last.imported_at, False, families, products)
