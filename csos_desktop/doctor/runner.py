"""Runs every doctor check in order; a check that crashes becomes an error result."""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata

from csos_desktop import __version__
from csos_desktop.config.effective import EffectiveConfig, load_config
from csos_desktop.doctor.as2 import as2_check
from csos_desktop.doctor.catalogue import catalogue_check
from csos_desktop.doctor.clock import last_reading_result
from csos_desktop.doctor.credentials import credential_check
from csos_desktop.doctor.network import TIMEOUT_SECONDS, network_checks
from csos_desktop.doctor.result import CheckResult, DoctorReport, Status
from csos_desktop.doctor.storage import database_check, disk_check, filesystem_check
from csos_desktop.doctor.token_checks import (
    certificate_check,
    module_check,
    smart_card_service_check,
    tokens_check,
)
from csos_desktop.logs import redact
from csos_desktop.services.context import current
from csos_desktop.services.signing.clock_reference import last_verified_reading


def config_check(cfg: EffectiveConfig) -> CheckResult:
    where = {
        "user_file": str(cfg.user_file),
        "policy_file": str(cfg.policy.path),
        "policy_present": cfg.policy.exists,
        "locked": sorted(k for k, v in cfg.values.items() if v.locked),
    }
    if cfg.problems:
        return CheckResult(
            "configuration",
            "Configuration",
            Status.WARNING,
            f"{len(cfg.problems)} problem(s): {' '.join(cfg.problems)}",
            "Fix the file named (IT owns the machine policy); `csos config show` "
            "lists what is in force.",
            {**where, "problems": list(cfg.problems)},
        )
    policy = "machine policy present" if cfg.policy.exists else "no machine policy"
    return CheckResult(
        "configuration", "Configuration", Status.OK, f"Settings readable ({policy}).", "", where
    )


def _crashed(check: str, title: str, exc: Exception) -> CheckResult:
    return CheckResult(
        check,
        title,
        Status.ERROR,
        f"The check itself failed: {type(exc).__name__}: {redact(str(exc))}",
        "Send a support bundle (`csos support-bundle --out FILE.zip`).",
    )


def _guard(check: str, title: str, fn: Callable[[], CheckResult]) -> CheckResult:
    try:
        return fn()
    except Exception as exc:  # a crashing check is a bug to report, not a reason to stop
        return _crashed(check, title, exc)


def versions() -> dict[str, str]:
    found = {
        "csos_desktop": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "frozen": str(bool(getattr(sys, "frozen", False))),
    }
    # Read from the installed distribution: importing PySide6 here would load Qt into a
    # diagnostics run and tie doctor to the GUI's toolkit. A frozen bundle may carry no
    # dist-info: then the GUI, if running, has Qt loaded already.
    try:
        found["pyside6"] = metadata.version("PySide6")
    except metadata.PackageNotFoundError:
        loaded = sys.modules.get("PySide6")
        found["pyside6"] = getattr(loaded, "__version__", "not installed")
    return found


def run_doctor(
    *,
    module: str | None = None,
    config: EffectiveConfig | None = None,
    now: datetime | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> DoctorReport:
    """All checks, in the order a support call would go through them."""
    cfg = load_config() if config is None else config
    now = datetime.now(UTC) if now is None else now
    # The driver in force: a lock in this configuration beats --module and the variable.
    configured = replace(current(), config=cfg).driver
    label = cfg.text("token_label")
    results = [_guard("configuration", "Configuration", lambda: config_check(cfg))]
    try:
        mod, loaded = module_check(module, configured)
    except Exception as exc:
        mod, loaded = _crashed("pkcs11_module", "PKCS#11 driver", exc), None
    results.append(mod)
    path = loaded[0].path if loaded else None
    lib = loaded[1] if loaded else None
    results.append(
        _guard("smart_card_service", "Smart-card service", lambda: smart_card_service_check(path))
    )
    results.append(_guard("tokens", "Tokens", lambda: tokens_check(lib, label)))
    results.append(
        _guard(
            "certificate",
            "CSOS certificate",
            lambda: certificate_check(module, label, configured, now),
        )
    )
    try:
        results.extend(
            network_checks(cfg.text("distributor_url"), cfg.text("ca_bundle"), timeout=timeout)
        )
    except Exception as exc:
        results.append(_crashed("distributor", "Distributor", exc))
    results.append(_guard("as2", "AS2 connection", lambda: as2_check(cfg, now, timeout=timeout)))
    results.append(_guard("database_location", "Database location", filesystem_check))
    results.append(
        _guard(
            "clock_reference",
            "Clock reference",
            lambda: last_reading_result(last_verified_reading()),
        )
    )
    results.append(_guard("database", "Order database", database_check))
    results.append(_guard("catalogue", "Product catalogue", catalogue_check))
    results.append(_guard("credentials", "Credential storage", credential_check))
    results.append(_guard("disk", "Free disk space", disk_check))
    return DoctorReport(results, versions(), now.isoformat(timespec="seconds"))
