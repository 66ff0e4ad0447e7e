"""Importing the FDA NDC Directory into the store, and the catalogue the program uses.

The imported catalogue is the one the order editor and SOM use. Until one is
imported there is none: SOM places each line by the distributor's history or the
DEA code table, and says so (Home, `csos doctor`). The bundled synthetic catalogue
belongs to the sandbox and the demo, which import it into their own store
(:func:`import_synthetic`); it never stands in for a real one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from csos_desktop.domain.catalogue import Catalogue, bundled_catalogue
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.fda_ndc import DirectoryImport, read_directory
from csos_desktop.domain.untrusted_input import decode_text
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.catalogue import CatalogueImport
from csos_desktop.store.db import default_path
from csos_desktop.store.local_store import Store, open_store


@dataclass(frozen=True)
class ImportOutcome:
    """What the import kept and why it left the rest."""

    record: CatalogueImport
    directory: DirectoryImport


def decode(data: bytes) -> str:
    """Text of a directory file (the FDA publishes in Windows-1252 at times)."""
    return decode_text(data)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def import_directory(
    store: Store,
    product_path: Path,
    package_path: Path,
    *,
    clock: Clock = utc_now,
) -> ImportOutcome:
    """Read both files and replace the store's catalogue with their controlled products."""
    product_bytes, package_bytes = _read(product_path), _read(package_path)
    directory = read_directory(
        decode(product_bytes).splitlines(), decode(package_bytes).splitlines()
    )
    if not directory.products:
        raise InputError(
            f"{product_path.name} and {package_path.name} hold no controlled product with a"
            " known DEA drug code and a package size; the catalogue was not changed."
        )
    now = clock()
    with store.transaction():
        record = store.catalogue.replace(
            directory.products,
            directory.package_units,
            source=f"FDA NDC Directory ({product_path.name}, {package_path.name})",
            product_sha256=hashlib.sha256(product_bytes).hexdigest(),
            package_sha256=hashlib.sha256(package_bytes).hexdigest(),
            skipped=len(directory.skipped),
            at=now,
        )
        store.audit.append(
            AuditEvent.CATALOGUE_IMPORTED,
            at=now,
            details={
                "source": record.source,
                "product_sha256": record.product_sha256,
                "package_sha256": record.package_sha256,
                "products": record.products,
                "skipped": record.skipped,
                "unknown_ingredients": len(directory.unknown_ingredients),
            },
        )
    return ImportOutcome(record, directory)


#: No products and no families: every line is placed by history or the DEA code table.
NO_CATALOGUE = Catalogue("none", "", False, {}, {})


def no_catalogue() -> Catalogue:
    return NO_CATALOGUE


#: The catalogue before any import: none. Only the test fixtures replace it (with the
#: synthetic one their orders name); no setting or environment variable reaches it.
_before_import: Callable[[], Catalogue] = no_catalogue

#: Shown by Home and `csos doctor` while nothing is imported.
IMPORT_HINT = (
    "No product catalogue is imported: SOM places each line by the distributor's history "
    "or the DEA code table only. Download the FDA NDC Directory (product.txt, package.txt) "
    "and run `csos catalogue import product.txt package.txt`."
)


def latest_import(store: Store) -> CatalogueImport | None:
    """Where the catalogue in use came from and when, or None if none was imported."""
    return store.catalogue.latest_import()


def active_catalogue(store: Store | None) -> Catalogue:
    """The imported catalogue if there is one, else none (see :data:`NO_CATALOGUE`)."""
    imported = store.catalogue.load() if store is not None else None
    return imported or _before_import()


def installed_catalogue() -> Catalogue:
    """The active catalogue of the default store, without creating a store that is not there."""
    path = default_path()
    if not path.exists():
        return _before_import()
    with open_store(path) as store:
        return active_catalogue(store)


def catalogue_in_use() -> bool:
    """Whether SOM has a catalogue (imported, or the test fixtures' one), without making
    a store that is not there."""
    path = default_path()
    if path.exists():
        with open_store(path) as store:
            if store.catalogue.latest_import() is not None:
                return True
    return bool(_before_import().products)


def import_synthetic(store: Store, *, at: datetime) -> CatalogueImport:
    """Put the bundled synthetic catalogue in a sandbox or demo store, recorded as such."""
    synthetic = bundled_catalogue()
    digest = hashlib.sha256(repr(sorted(synthetic.products)).encode()).hexdigest()
    with store.transaction():
        record = store.catalogue.replace(
            tuple(synthetic.products.values()),
            {},
            source=f"synthetic sandbox catalogue {synthetic.catalogue_id}",
            product_sha256=digest,
            package_sha256=digest,
            skipped=0,
            at=at,
        )
        store.audit.append(
            AuditEvent.CATALOGUE_IMPORTED,
            at=at,
            details={"source": record.source, "products": record.products, "skipped": 0},
        )
    return record
