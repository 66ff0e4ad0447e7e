"""An unexpected failure in `csos` is one sentence, never a traceback.

Run as the installed program runs (a fresh interpreter), on a real fault: the
data directory's path is taken by a file, which no command expects.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _csos(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSOS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "csos_desktop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_unexpected_error_is_a_sentence_and_the_traceback_is_logged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "data").write_text("not a directory")
    result = _csos(home, "order", "list")
    assert result.returncode == 70
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert "FileExistsError" in result.stderr
    assert "csos support-bundle" in result.stderr
    log = (home / "logs" / "csos.log").read_text()
    assert "Traceback" in log and "FileExistsError" in log


def test_without_a_log_file_the_sentence_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("the whole home is a file")
    result = _csos(home, "order", "list")
    assert result.returncode == 70
    assert "Traceback" not in result.stderr
    assert "no log file" in result.stderr


def test_a_trust_file_that_only_parses_shallowly_is_an_input_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shallow = tmp_path / "root.pem"
    # A SEQUENCE that loads as a Certificate until its fields are read.
    shallow.write_text("-----BEGIN CERTIFICATE-----\nMAowAwIBATAAAwEA\n-----END CERTIFICATE-----\n")
    doc, sig = tmp_path / "o.json", tmp_path / "o.p7s"
    doc.write_text("{}")
    sig.write_bytes(b"\x30\x00")
    result = _csos(home, "order", "verify", str(doc), str(sig), "--trust", str(shallow))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "does not contain valid certificates" in result.stderr
