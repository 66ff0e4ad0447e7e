"""A zip for support: logs, doctor output, versions, configuration; never secrets.

Every text put in the zip goes through :func:`csos_desktop.logs.redact`, even
log files (an older version, or a crash, might have written something it should
not have). The order database and token contents are never included.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from csos_desktop import __version__
from csos_desktop.config.effective import load_config
from csos_desktop.doctor.result import DoctorReport
from csos_desktop.domain.errors import InputError
from csos_desktop.logs import log_files, redact

#: Environment variables worth knowing about; values are redacted all the same.
_ENV_PREFIXES = ("CSOS_", "SOFTHSM2_", "QT_", "PKCS11")
_ENV_NAMES = (
    "LANG",
    "LC_ALL",
    "TZ",
    "XDG_SESSION_TYPE",
    "WAYLAND_DISPLAY",
    "DISPLAY",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
)
MAX_LOG_BYTES = 5_000_000


@dataclass(frozen=True)
class BundleResult:
    path: Path
    members: tuple[str, ...]


def _env() -> dict[str, str]:
    return {
        k: redact(v)
        for k, v in sorted(os.environ.items())
        if k.startswith(_ENV_PREFIXES) or k in _ENV_NAMES
    }


def _json(data: object) -> str:
    return redact(json.dumps(data, indent=2, default=str)) + "\n"


def write_bundle(
    out: Path, *, doctor: Callable[[], DoctorReport] | None = None, overwrite: bool = False
) -> BundleResult:
    """Write the bundle to *out* (a .zip), atomically; *doctor* None leaves its output out."""
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists; choose another name or pass --force.")
    if not out.parent.is_dir():
        raise InputError(f"The folder {out.parent} does not exist.")
    cfg = load_config()
    manifest = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "csos_desktop": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "frozen": bool(getattr(sys, "frozen", False)),
        "note": "PINs, one-time codes and credentials are removed from every file here.",
    }
    texts: dict[str, str] = {"config.json": _json(cfg.to_json()), "environment.json": _json(_env())}
    for label, path in (("user-config.toml", cfg.user_file), ("policy.toml", cfg.policy.path)):
        try:
            texts[label] = redact(path.read_text("utf-8", errors="replace"))
        except OSError:
            continue
    if doctor is not None:
        try:
            texts["doctor.json"] = _json(doctor().to_json())
        except Exception as exc:  # the bundle is most needed when things are broken
            texts["doctor.json"] = _json({"error": f"{type(exc).__name__}: {exc}"})
    for log in log_files():
        data = log.read_bytes()[-MAX_LOG_BYTES:]
        texts[f"logs/{log.name}"] = redact(data.decode("utf-8", errors="replace"))
    texts["manifest.json"] = _json({**manifest, "files": sorted(texts)})
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(texts):
                zf.writestr(f"csos-support/{name}", texts[name])
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return BundleResult(out, tuple(f"csos-support/{n}" for n in sorted(texts)))
