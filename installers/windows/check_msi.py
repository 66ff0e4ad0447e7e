"""Check the built MSI's tables with msiinfo (msitools): what the WiX source promises.

Usage: python check_msi.py MSI BUNDLE_DIR. Prints the tables and one line per check;
exits 1 when a check fails. Run by `make msi` (and so by `make package-test`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PUBLIC = ("DISTRIBUTOR_URL", "PKCS11_MODULE", "CA_BUNDLE")
POLICY_KEYS = ("distributor_url", "pkcs11_module", "ca_bundle")
# CustomAction type: 18 (run an installed file) + 1024 (deferred) + 2048 (no impersonation).
DEFERRED_SYSTEM_EXE = 18 | 1024 | 2048


def msiinfo(*args: str) -> str:
    return subprocess.run(["msiinfo", *args], check=True, capture_output=True, text=True).stdout


def table(msi: Path, name: str) -> list[dict[str, str]]:
    """Rows of *name* as dicts (msiinfo export: header, column types, table name, rows)."""
    lines = msiinfo("export", str(msi), name).splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[3:]]


def checks(msi: Path, bundle: Path) -> list[tuple[str, bool]]:
    props = {r["Property"]: r["Value"] for r in table(msi, "Property")}
    shortcuts = table(msi, "Shortcut")
    dirs = {r["Directory"]: r for r in table(msi, "Directory")}
    actions = {r["Action"]: r for r in table(msi, "CustomAction")}
    sequence = {r["Action"]: r for r in table(msi, "InstallExecuteSequence")}
    files = table(msi, "File")
    write = actions.get("WritePolicy", {})
    secure = props.get("SecureCustomProperties", "").split(";")
    # The two programs and every regular file under _internal (a Linux bundle's symbolic
    # links have no Windows counterpart: build-msi.sh harvests files only).
    internal = bundle / "_internal"
    bundle_files = 2 + sum(1 for p in internal.rglob("*") if p.is_file() and not p.is_symlink())
    return [
        ("per-machine install (ALLUSERS=1)", props.get("ALLUSERS") == "1"),
        (
            "installs to Program Files (64-bit)",
            dirs.get("INSTALLDIR", {}).get("Directory_Parent") == "ProgramFiles64Folder",
        ),
        (
            "Start-menu shortcut to csos-gui.exe",
            any(
                s["Directory_"] == "ProgramMenuFolder" and s["Target"] == "[INSTALLDIR]csos-gui.exe"
                for s in shortcuts
            ),
        ),
        ("public properties are secure", all(p in secure for p in PUBLIC)),
        (
            "policy written by csos.exe, deferred, as LocalSystem",
            write.get("Source") == "CsosExe"
            and int(write.get("Type", "0")) & DEFERRED_SYSTEM_EXE == DEFERRED_SYSTEM_EXE,
        ),
        (
            "each public property goes to its locked policy key",
            all(
                f"{k}=[{p}]" in write.get("Target", "")
                for k, p in zip(POLICY_KEYS, PUBLIC, strict=True)
            )
            and "--lock-set" in write.get("Target", ""),
        ),
        (
            "policy written after the files, only when a property is given, not on removal",
            "WritePolicy" in sequence
            and all(p in sequence["WritePolicy"]["Condition"] for p in PUBLIC)
            and "NOT REMOVE" in sequence["WritePolicy"]["Condition"],
        ),
        (
            f"every bundle file is in the MSI ({bundle_files})",
            len(files) == bundle_files
            and {"csos.exe", "csos-gui.exe"} <= {f["FileName"] for f in files},
        ),
    ]


def main() -> int:
    msi, bundle = Path(sys.argv[1]), Path(sys.argv[2])
    print(f"{msi.name}: {msi.stat().st_size / 1e6:.1f} MB; tables:")
    print("  " + " ".join(sorted(msiinfo("tables", str(msi)).split())))
    failed = 0
    for what, ok in checks(msi, bundle):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
