"""Writing signed files safely (JSON input is read by `fileio.read_json`)."""

from __future__ import annotations

from pathlib import Path

from csos_desktop.fileio import write_atomically


def write_signed_pair(
    out_dir: Path, stem: str, document: bytes, signature: bytes
) -> tuple[Path, Path]:
    """``<stem>.json`` (the exact signed bytes) and ``<stem>.p7s`` (DER CMS) in *out_dir*."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc_path, sig_path = out_dir / f"{stem}.json", out_dir / f"{stem}.p7s"
    write_atomically(doc_path, document)
    write_atomically(sig_path, signature)
    return doc_path, sig_path
