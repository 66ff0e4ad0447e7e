"""The order database (integrity, schema, audit chain) and free disk space."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from csos_desktop import paths
from csos_desktop.doctor.result import CheckResult, Status
from csos_desktop.domain.errors import CsosError

DB_NAME = "csos.db"
MIN_FREE_BYTES = 200 * 1024 * 1024
WARN_FREE_BYTES = 1024 * 1024 * 1024
_KEEP = (
    "Do not delete or edit the database: it holds the signed records you must keep "
    "for two years (21 CFR 1305.27). Keep a copy and contact support."
)


def database_check(path: Path | None = None) -> CheckResult:
    """Open the database as the app does (migrating with a backup if needed) and verify it."""
    title = "Order database"
    path = paths.data_dir() / DB_NAME if path is None else path
    if not path.exists():
        return CheckResult(
            "database",
            title,
            Status.SKIPPED,
            f"Not initialised yet: {path} is created when the first order is saved.",
            "",
            {"path": str(path)},
        )
    try:
        from csos_desktop.store import open_store
    except ImportError:
        return CheckResult(
            "database",
            title,
            Status.SKIPPED,
            "Not checked: this build has no local order store.",
            "",
            {"path": str(path)},
        )
    try:
        with open_store(path) as store:
            problems = store.integrity_errors()
            audit = store.audit.verify()
            report = store.migration
            orders = int(store.conn.execute("SELECT count(*) FROM orders").fetchone()[0])
            version = int(store.conn.execute("PRAGMA user_version").fetchone()[0])
    except CsosError as exc:
        return CheckResult("database", title, Status.ERROR, exc.message, _KEEP, {"path": str(path)})
    details: dict[str, object] = {
        "path": str(path),
        "schema_version": version,
        "orders": orders,
        "audit": audit.to_json(),
    }
    migrated = ""
    if report is not None and report.from_version != report.to_version:
        details["migrated_from"] = report.from_version
        details["backup"] = None if report.backup is None else str(report.backup)
        migrated = f" Updated from schema {report.from_version} to {report.to_version}" + (
            f"; backup {report.backup.name}." if report.backup else "."
        )
    if problems:
        details["integrity"] = problems[:10]
        return CheckResult(
            "database",
            title,
            Status.ERROR,
            f"{path} is damaged: {'; '.join(problems[:3])}.",
            _KEEP,
            details,
        )
    if audit.broken is not None:
        return CheckResult(
            "database",
            title,
            Status.ERROR,
            f"The audit log is broken at entry {audit.broken.entry_id}: {audit.broken.problem}.",
            _KEEP,
            details,
        )
    return CheckResult(
        "database",
        title,
        Status.OK,
        f"{path}: intact, schema {version}, {orders} order(s), audit chain of "
        f"{audit.entries} entries verified.{migrated}",
        "",
        details,
    )


def filesystem_check(
    path: Path | None = None, mounts: Callable[[], str | None] | None = None
) -> CheckResult:
    """Whether the database's folder is on a local disk (WAL is unsafe on a network share)."""
    from csos_desktop.store.filesystem import network_reason, read_mountinfo, store_mount

    title = "Database location"
    path = paths.data_dir() / DB_NAME if path is None else path
    mount = store_mount(path, (mounts or read_mountinfo)())
    details: dict[str, object] = {"path": str(path)}
    if mount is None:
        return CheckResult(
            "database_location",
            title,
            Status.SKIPPED,
            "Not checked: this system does not list its mounts (/proc/self/mountinfo).",
            "",
            details,
        )
    details.update(
        {"mount_point": mount.mount_point, "fs_type": mount.fs_type, "source": mount.source}
    )
    if mount.is_network:
        return CheckResult(
            "database_location",
            title,
            Status.ERROR,
            network_reason(path, mount) + " CSOS Desktop refuses to open it there.",
            "Move the data folder to a local disk: set CSOS_HOME to a local folder, "
            "copy the data folder there with CSOS Desktop closed, and start it again.",
            details,
        )
    return CheckResult(
        "database_location",
        title,
        Status.OK,
        f"{path.parent} is on a local file system ({mount.fs_type}, mounted at "
        f"{mount.mount_point}).",
        "",
        details,
    )


def disk_check(path: Path | None = None) -> CheckResult:
    title = "Free disk space"
    path = paths.data_dir() if path is None else path
    usage = shutil.disk_usage(path)
    free_mb = usage.free // (1024 * 1024)
    details = {"path": str(path), "free_mb": free_mb, "total_mb": usage.total // (1024 * 1024)}
    fix = "Free disk space (empty the recycle bin, remove old downloads); do not delete csos.db."
    if usage.free < MIN_FREE_BYTES:
        return CheckResult(
            "disk",
            title,
            Status.ERROR,
            f"Only {free_mb} MB free on the disk holding {path}: signed orders may fail to save.",
            fix,
            details,
        )
    if usage.free < WARN_FREE_BYTES:
        return CheckResult(
            "disk",
            title,
            Status.WARNING,
            f"{free_mb} MB free on the disk holding {path}.",
            fix,
            details,
        )
    return CheckResult(
        "disk", title, Status.OK, f"{free_mb} MB free on the disk holding {path}.", "", details
    )
