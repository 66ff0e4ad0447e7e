"""Reading JSON input files and writing signed files safely."""

from __future__ import annotations

import json
from pathlib import Path

from csos_desktop.domain.canonical import MalformedDocument
from csos_desktop.errors import InputError
from csos_desktop.fileio import write_atomically


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise MalformedDocument(f"the file repeats the key(s) {', '.join(dupes)}")
    return dict(pairs)


def read_json_object(path: Path, what: str) -> dict[str, object]:
    """One JSON object from *path*; duplicate keys and non-objects are refused."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedDocument(f"{path} is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise MalformedDocument(f"{path} must hold one JSON object ({what}).")
    return data


def write_signed_pair(
    out_dir: Path, stem: str, document: bytes, signature: bytes
) -> tuple[Path, Path]:
    """``<stem>.json`` (the exact signed bytes) and ``<stem>.p7s`` (DER CMS) in *out_dir*."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc_path, sig_path = out_dir / f"{stem}.json", out_dir / f"{stem}.p7s"
    write_atomically(doc_path, document)
    write_atomically(sig_path, signature)
    return doc_path, sig_path
