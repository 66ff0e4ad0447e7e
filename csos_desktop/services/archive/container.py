"""The archive's zip container: a writer whose memory stays flat, a reader that refuses bombs.

Writing: stdlib ``zipfile`` keeps one ``ZipInfo`` per member on the heap until it writes
the central directory at close (~1.7 KB per order). :class:`StreamingZipWriter` spools
those records to a temporary file instead and reads them back one at a time at close.

Reading: a bundle is hostile input. Names must be unique, each member's size in the zip
directory must be under a cap before a byte is read, and reading stops at that size;
damage (CRC, truncation, corrupt deflate/bzip2/LZMA data, unsupported compression,
encryption) becomes
:class:`MemberUnreadable` with the member's name, never a traceback.

Zip bombs are refused from the directory, before anything is inflated: members whose
compressed data overlap (several names sharing one deflate stream) make the bundle
unusable, a member compressed beyond :attr:`ReadLimits.max_ratio` is unreadable, and the
manifest's cap follows the number of members. Whatever gets through, the bytes inflated
over one whole check are bounded in proportion to the bundle's size
(:attr:`ReadLimits.budget_factor`): past that, the bundle is unusable.
"""

from __future__ import annotations

import hashlib
import lzma
import pickle
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from csos_desktop.domain.errors import InputError
from csos_desktop.fileio import create_private

#: Anything parsed whole (a document, a signature, a certificate, record.json).
MAX_PARSED_BYTES = 16 * 2**20
#: manifest.json lists every file (~200 bytes each): room for millions of files.
MAX_MANIFEST_BYTES = 512 * 2**20
#: The manifest's own cap: its header, and this much per member the zip holds.
MANIFEST_BYTES_PER_MEMBER = 512
MANIFEST_HEADER_BYTES = 64 * 2**10
#: Members only hashed, in chunks (audit.jsonl, index.csv).
MAX_HASHED_BYTES = 8 * 2**30
#: How many members a bundle may have (a directory of millions is a bomb of its own).
MAX_MEMBERS = 5_000_000
_CHUNK = 1 << 20


class ArchiveUnusable(InputError):
    """The file is not an archive bundle this program can read."""


@dataclass(frozen=True)
class ReadLimits:
    """How much inflating a bundle may cost (the defaults leave exported bundles far below).

    JSON, CSV and CMS compress 2 to 30 times; a run of zeros or spaces a thousand times.
    """

    #: Largest uncompressed:compressed ratio of one member...
    max_ratio: int = 200
    #: ...once it is larger than this (a tiny file's ratio says nothing).
    ratio_floor: int = 64 * 2**10
    #: Bytes inflated over one whole check, per byte of the bundle file...
    budget_factor: int = 400
    #: ...and at least this many.
    min_budget: int = 256 * 2**20


DEFAULT_READ_LIMITS = ReadLimits()


class Bundle(zipfile.ZipFile):
    """A bundle opened for reading: its directory checked, its inflating budgeted."""

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        super().__init__(path)
        self.limits = limits
        self.budget = max(limits.min_budget, limits.budget_factor * path.stat().st_size)
        self.spent = 0

    @property
    def manifest_cap(self) -> int:
        """The manifest lists every member: its size follows their number."""
        per_member = MANIFEST_BYTES_PER_MEMBER * len(self.filelist)
        return min(MAX_MANIFEST_BYTES, MANIFEST_HEADER_BYTES + per_member)

    def spend(self, count: int) -> None:
        self.spent += count
        if self.spent > self.budget:
            raise ArchiveUnusable(
                f"{self.filename} inflates to more than {self.budget} bytes, far more than "
                "an archive of its size holds: it is refused as a zip bomb."
            )


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


def open_bundle(path: Path, limits: ReadLimits = DEFAULT_READ_LIMITS) -> Bundle:
    """Open a bundle for reading after checking its directory: member count, unique names,
    no two members sharing compressed data."""
    try:
        zf = Bundle(path, limits)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ArchiveUnusable(f"{path} is not a readable zip archive ({exc}).") from exc
    try:
        _check_directory(zf, path)
    except ArchiveUnusable:
        zf.close()
        raise
    return zf


def _check_directory(zf: zipfile.ZipFile, path: Path) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArchiveUnusable(f"{path} has {len(infos)} files, more than an archive can hold.")
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise ArchiveUnusable(
                f"{path} holds two files named {info.filename!r}: a bundle with duplicate "
                "names is refused, since a reader could show either one."
            )
        seen.add(info.filename)
    # Each member's local header (30 bytes at least) and compressed data must end before
    # the next member starts and before the directory: overlapping members let one
    # deflate stream inflate once per name (a zip bomb).
    end, previous = 0, None
    for info in sorted(infos, key=lambda i: i.header_offset):
        if previous is not None and info.header_offset < end:
            raise ArchiveUnusable(
                f"{path}: the files {previous!r} and {info.filename!r} overlap in the zip "
                "(they share compressed data): the bundle is refused as a zip bomb."
            )
        end, previous = info.header_offset + 30 + info.compress_size, info.filename
    if previous is not None and end > getattr(zf, "start_dir", end):
        raise ArchiveUnusable(
            f"{path}: the file {previous!r} runs into the zip directory: the bundle is refused."
        )


def _chunks(zf: zipfile.ZipFile, name: str, cap: int) -> Iterator[bytes]:
    try:
        info = zf.getinfo(name)
    except KeyError as exc:
        raise MemberUnreadable("not in the bundle") from exc
    if info.file_size > cap:
        raise MemberUnreadable(
            f"{info.file_size} bytes uncompressed, over the {cap}-byte limit for this file"
        )
    bundle = zf if isinstance(zf, Bundle) else None
    if bundle is not None:
        _check_ratio(info, bundle.limits)
    try:
        with zf.open(info) as src:
            total = 0
            while chunk := src.read(_CHUNK):
                total += len(chunk)
                if total > info.file_size:  # zipfile stops at file_size; never trust it alone
                    raise MemberUnreadable("longer than the zip directory says")
                if bundle is not None:
                    bundle.spend(len(chunk))
                yield chunk
    except (MemberUnreadable, ArchiveUnusable):
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


def _check_ratio(info: zipfile.ZipInfo, limits: ReadLimits) -> None:
    if info.file_size <= limits.ratio_floor:
        return
    if info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        raise MemberUnreadable(
            f"compressed {ratio}:1, beyond the {limits.max_ratio}:1 an archived file can be "
            "(a zip bomb); it is not inflated"
        )


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
