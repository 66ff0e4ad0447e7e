"""Zip bombs in an archive bundle are refused from the zip directory, before inflating.

The bundles are built byte by byte as an attacker would: members whose local headers
are quoted inside one another's deflate data so that every name inflates the same
stream (D. Fifield's overlapping-file construction), a member of zeros at a ratio no
archived file has, a manifest of whitespace. Each ends as a clear refusal, quickly.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from csos_desktop.services.archive.container import ArchiveUnusable, ReadLimits
from csos_desktop.services.archive.verify import verify_archive
from tests.integration.store.test_archive_hostile import csos
from tests.unit.store.archive_forgery import read_members, write_members


def _local_header(name: bytes, method: int, crc: int = 0, size: int = 0) -> bytes:
    return (
        struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, size, size, len(name), 0
        )
        + name
    )


def _central_header(
    name: bytes, method: int, crc: int, compressed: int, size: int, offset: int
) -> bytes:
    return (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            method,
            0,
            0x21,
            crc,
            compressed,
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + name
    )


def overlapping_bomb(path: Path, *, members: int, kernel_bytes: int) -> None:
    """A bundle whose *members* files all inflate one deflate stream of *kernel_bytes*
    zeros, listed in a plain manifest.json so that a reader goes on to hash each."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = squeeze.compress(b"\0" * kernel_bytes) + squeeze.flush()
    names = [f"orders/bomb/{i:03d}.json".encode() for i in range(members)]
    headers = [_local_header(n, zipfile.ZIP_DEFLATED) for n in names]
    sizes = [sum(len(h) for h in headers[i + 1 :]) + kernel_bytes for i in range(members)]
    manifest = json.dumps(
        {
            "format": "csos-archive/2",
            "files": [
                {"name": n.decode(), "sha256": "0" * 64, "bytes": s}
                for n, s in zip(names, sizes, strict=True)
            ],
        }
    ).encode()
    crc = zlib.crc32(manifest)
    blob = bytearray(_local_header(b"manifest.json", 0, crc, len(manifest)) + manifest)
    directory = [_central_header(b"manifest.json", 0, crc, len(manifest), len(manifest), 0)]
    offsets = []
    for i, header in enumerate(headers):
        if i:  # a stored, non-final deflate block quoting this header in the previous data
            blob += b"\x00" + struct.pack("<HH", len(header), len(header) ^ 0xFFFF)
        offsets.append(len(blob))
        blob += header
    blob += kernel
    for i, name in enumerate(names):
        compressed = len(blob) - offsets[i] - len(headers[i])
        directory.append(
            _central_header(name, zipfile.ZIP_DEFLATED, 0, compressed, sizes[i], offsets[i])
        )
    start = len(blob)
    blob += b"".join(directory)
    count = len(directory)
    blob += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(blob) - start, start, 0)
    path.write_bytes(bytes(blob))


def test_members_sharing_one_deflate_stream_are_refused(tmp_path: Path) -> None:
    """Before: each of the 100 names inflated the whole stream (3.2 GB here) to hash it."""
    bomb = tmp_path / "bomb.zip"
    overlapping_bomb(bomb, members=100, kernel_bytes=32 * 2**20)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ArchiveUnusable, match="overlap in the zip"):
        verify_archive(bomb)
    done = csos("archive", "verify", str(bomb), "--integrity-only")
    assert done.returncode == 2 and done.stderr.startswith("error: "), done.stderr
    assert "zip bomb" in done.stderr and "Traceback" not in done.stderr


def test_a_member_beyond_any_archived_ratio_is_not_inflated(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    zeros = b"\0" * (16 * 2**20)
    manifest = {
        "format": "csos-archive/2",
        "files": [{"name": "audit.jsonl", "sha256": "0" * 64, "bytes": len(zeros)}],
    }
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("audit.jsonl", zeros)
    problems = verify_archive(bundle).problems
    assert any(p.startswith("audit.jsonl: ") and "zip bomb" in p for p in problems), problems


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_manifest_of_whitespace_is_refused_for_its_size(tmp_path: Path, compression: int) -> None:
    """Before: the whole manifest was read and parsed (500 MiB of spaces took 1.1 GB)."""
    bundle = tmp_path / "bundle.zip"
    padding = b" " * (4 * 2**20 if compression == zipfile.ZIP_STORED else 64 * 2**20)
    with zipfile.ZipFile(bundle, "w", compression=compression) as zf:
        zf.writestr("manifest.json", b'{"format": "csos-archive/2", "files": []' + padding + b"}")
    with pytest.raises(ArchiveUnusable, match=r"manifest\.json"):
        verify_archive(bundle)


def test_inflating_more_than_the_budget_ends_the_check(bundle: Path) -> None:
    """Whatever the directory says, the bytes inflated over one check are bounded."""
    with pytest.raises(ArchiveUnusable, match="zip bomb"):
        verify_archive(bundle, limits=ReadLimits(budget_factor=1, min_budget=0))


def test_an_exported_bundle_stays_well_inside_the_limits(bundle: Path) -> None:
    items = read_members(bundle)
    write_members(bundle, items)  # re-written by zipfile: still no overlap, no bomb
    report = verify_archive(bundle, limits=ReadLimits(budget_factor=20, min_budget=0))
    assert report.problems == [] and report.signatures == 5
