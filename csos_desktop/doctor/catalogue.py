"""Whether a product catalogue is imported: without one SOM places lines by history only."""

from __future__ import annotations

from pathlib import Path

from csos_desktop import paths
from csos_desktop.doctor.result import CheckResult, Status
from csos_desktop.doctor.storage import DB_NAME

IMPORT_COMMAND = "csos catalogue import product.txt package.txt"
_FIX = (
    "Download the FDA NDC Directory (product.txt and package.txt, from the FDA's National "
    f"Drug Code Directory page) and run `{IMPORT_COMMAND}`."
)


def catalogue_check(path: Path | None = None) -> CheckResult:
    """The catalogue SOM uses, or a warning with the import command when there is none."""
    path = paths.data_dir() / DB_NAME if path is None else path
    last = None
    if path.exists():
        from csos_desktop.store import open_store

        with open_store(path) as store:
            last = store.catalogue.latest_import()
    if last is None:
        return CheckResult(
            "catalogue",
            "Product catalogue",
            Status.WARNING,
            "No product catalogue is imported: SOM places each order line by the "
            "distributor's history or the DEA code table only, and asks for a justification "
            "for a line it cannot place.",
            _FIX,
            {"imported": False, "command": IMPORT_COMMAND},
        )
    return CheckResult(
        "catalogue",
        "Product catalogue",
        Status.OK,
        f"{last.source}, imported {last.imported_at}: {last.products} products.",
        "",
        {"imported": True, "source": last.source, "products": last.products},
    )
