"""Importing the FDA NDC Directory into the store, and the catalogue the program uses.

The imported catalogue is the one the order editor and SOM use; until one is
imported they fall back on the bundled synthetic catalogue, which exists for
the sandbox and the demo.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.catalogue import Catalogue, bundled_catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.fda_ndc import DirectoryImport, read_directory
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.catalogue import CatalogueImport
from csos_desktop.store.db import default_path
from csos_desktop.store.local_store import Store, open_store

# The FDA publishes its text files in Windows-1252 at times; UTF-8 is tried first.
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


@dataclass(frozen=True)
class ImportOutcome:
    """What the import kept and why it left the rest."""

    record: CatalogueImport
    directory: DirectoryImport


def decode(data: bytes) -> str:
    """Text of a directory file: UTF-8 if it is, else Windows-1252, else Latin-1 (never fails)."""
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
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


def active_catalogue(store: Store | None) -> Catalogue:
    """The imported catalogue if there is one, else the bundled synthetic (sandbox) one."""
    imported = store.catalogue.load() if store is not None else None
    return imported or bundled_catalogue()


def installed_catalogue() -> Catalogue:
    """The active catalogue of the default store, without creating a store that is not there."""
    path = default_path()
    if not path.exists():
        return bundled_catalogue()
    with open_store(path) as store:
        return active_catalogue(store)
