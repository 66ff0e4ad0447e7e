"""The archive's zip container: a writer whose memory stays flat, a reader that refuses bombs.

Writing: stdlib ``zipfile`` keeps one ``ZipInfo`` per member on the heap until it writes
the central directory at close (~1.7 KB per order). :class:`StreamingZipWriter` spools
those records to a temporary file instead and reads them back one at a time at close.

Reading: a bundle is hostile input. Names must be unique, each member's size in the zip
directory must be under a cap before a byte is read, and reading stops at that size;
damage (CRC, truncation, corrupt deflate/bzip2/LZMA data, unsupported compression,
encryption) becomes
:class:`MemberUnreadable` with the member's name, never a traceback.
"""

from __future__ import annotations

import hashlib
import lzma
import pickle
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from csos_desktop.domain.errors import InputError
from csos_desktop.fileio import create_private

#: Anything parsed whole (a document, a signature, a certificate, record.json).
MAX_PARSED_BYTES = 16 * 2**20
#: manifest.json lists every file (~120 bytes each): room for millions of files.
MAX_MANIFEST_BYTES = 512 * 2**20
#: Members only hashed, in chunks (audit.jsonl, index.csv).
MAX_HASHED_BYTES = 8 * 2**30
#: How many members a bundle may have (a directory of millions is a bomb of its own).
MAX_MEMBERS = 5_000_000
_CHUNK = 1 << 20


class ArchiveUnusable(InputError):
    """The file is not an archive bundle this program can read."""


class MemberUnreadable(Exception):
    """One member cannot be read safely; the message says why, for the report."""


class _SpooledInfos:
    """The writer's member list, pickled to a temporary file instead of kept in memory.

    Only ``zipfile`` itself reads it back, at close, from our own temporary file.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._count = 0

    def append(self, info: zipfile.ZipInfo) -> None:
        self._file.seek(0, 2)
        pickle.dump(info, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        self._file.seek(0)
        for _ in range(self._count):
            yield pickle.load(self._file)  # our own spool file, written above

    def close(self) -> None:
        self._file.close()


class _NoNames(dict[str, zipfile.ZipInfo]):
    """zipfile's name index, not kept: the exporter writes each name once by construction."""

    def __setitem__(self, key: str, value: zipfile.ZipInfo) -> None:
        pass


class StreamingZipWriter(zipfile.ZipFile):
    """A write-only ZipFile (created 0600) whose central directory waits on disk, not the heap."""

    def __init__(self, path: Path) -> None:
        create_private(path)
        super().__init__(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self._spooled = _SpooledInfos()
        self.filelist = self._spooled  # type: ignore[assignment]
        self.NameToInfo = _NoNames()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._spooled.close()


def open_bundle(path: Path) -> zipfile.ZipFile:
    """Open a bundle for reading after checking its directory: member count, unique names."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ArchiveUnusable(f"{path} is not a readable zip archive ({exc}).") from exc
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        zf.close()
        raise ArchiveUnusable(f"{path} has {len(infos)} files, more than an archive can hold.")
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            zf.close()
            raise ArchiveUnusable(
                f"{path} holds two files named {info.filename!r}: a bundle with duplicate "
                "names is refused, since a reader could show either one."
            )
        seen.add(info.filename)
    return zf


def _chunks(zf: zipfile.ZipFile, name: str, cap: int) -> Iterator[bytes]:
    try:
        info = zf.getinfo(name)
    except KeyError as exc:
        raise MemberUnreadable("not in the bundle") from exc
    if info.file_size > cap:
        raise MemberUnreadable(
            f"{info.file_size} bytes uncompressed, over the {cap}-byte limit for this file"
        )
    try:
        with zf.open(info) as src:
            total = 0
            while chunk := src.read(_CHUNK):
                total += len(chunk)
                if total > info.file_size:  # zipfile stops at file_size; never trust it alone
                    raise MemberUnreadable("longer than the zip directory says")
                yield chunk
    except MemberUnreadable:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,  # a corrupt LZMA member (zipfile passes it on unwrapped)
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:
        raise MemberUnreadable(f"damaged in the zip ({exc})") from exc


def read_member(zf: zipfile.ZipFile, name: str, cap: int = MAX_PARSED_BYTES) -> bytes:
    """The member's bytes, if its declared size is under *cap* and it reads cleanly."""
    return b"".join(_chunks(zf, name, cap))


def hash_member(zf: zipfile.ZipFile, name: str, cap: int = MAX_HASHED_BYTES) -> tuple[str, int]:
    """(SHA-256 hex, size) of a member, read in chunks."""
    digest, size = hashlib.sha256(), 0
    for chunk in _chunks(zf, name, cap):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
