"""Which file system the store is on: SQLite's write-ahead log is unsafe on a network share.

WAL needs every process using the database on one machine, sharing memory through the
``-shm`` file, and locks the file system honours. On NFS, SMB/CIFS, sshfs or 9p neither is
guaranteed (SQLite's documentation, "WAL mode" and "How To Corrupt An SQLite Database File"
§2.1): two computers opening one store can damage the signed records. The store refuses to
open there, and `csos doctor` says so.

The parsing is pure (tested on sample text); only :func:`read_mountinfo` reads a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from csos_desktop.store.db import StoreError

MOUNTINFO = Path("/proc/self/mountinfo")

#: File system types (as the kernel names them in mountinfo) reached over a network.
NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "sshfs",
        "fuse.sshfs",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "lustre",
        "gpfs",
        "ocfs2",
        "gfs2",
        "davfs",
        "fuse.davfs2",
        "fuse.rclone",
        "fuse.s3fs",
        "ncpfs",
        "coda",
    }
)


class StoreOnNetworkShare(StoreError):
    """The store's folder is on a network file system, where its write-ahead log is unsafe."""


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo: where, what type, from where."""

    mount_point: str
    fs_type: str
    source: str

    @property
    def is_network(self) -> bool:
        return self.fs_type in NETWORK_TYPES


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        chunk = field[i + 1 : i + 4]
        if field[i] == "\\" and len(chunk) == 3 and all(c in "01234567" for c in chunk):
            out.append(chr(int(chunk, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts in *text* (``/proc/<pid>/mountinfo`` format), in the kernel's order."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue  # not a mountinfo line
        dash = fields.index("-", 6)
        if len(fields) < dash + 3 or len(fields) < 5:
            continue
        mounts.append(Mount(_unescape(fields[4]), fields[dash + 1], _unescape(fields[dash + 2])))
    return mounts


def mount_of(path: PurePosixPath, mounts: Sequence[Mount]) -> Mount | None:
    """The mount *path* (absolute, resolved) lives on: the deepest mount point above it;
    of two at the same point, the later one (it hides the earlier)."""
    best: Mount | None = None
    for mount in mounts:
        point = PurePosixPath(mount.mount_point)
        if (path == point or point in path.parents) and (
            best is None or len(point.parts) >= len(PurePosixPath(best.mount_point).parts)
        ):
            best = mount
    return best


def read_mountinfo() -> str | None:
    """This process's mount table, or None where there is none (not Linux)."""
    try:
        return MOUNTINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _existing(path: Path) -> Path:
    """*path* resolved through its nearest existing folder (the store may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate.resolve() / path.relative_to(candidate)
    return path.absolute()


def store_mount(path: Path, mountinfo: str | None) -> Mount | None:
    """The mount holding *path* per *mountinfo* (None: unknown, e.g. not Linux)."""
    if mountinfo is None:
        return None
    return mount_of(PurePosixPath(_existing(path)), parse_mountinfo(mountinfo))


def network_reason(path: Path, mount: Mount) -> str:
    return (
        f"The order database {path} is on a network file system ({mount.fs_type} "
        f"from {mount.source}, mounted at {mount.mount_point}). Its write-ahead log needs a "
        "local disk: on a network share, locks and shared memory are not reliable and the "
        "signed records can be damaged. Keep the data folder on a local disk (set CSOS_HOME "
        "or the data folder to a local path) and copy the store there with the program closed."
    )


def refuse_network_share(path: Path, mountinfo: str | None) -> None:
    """Raise StoreOnNetworkShare if *path* is on a network file system."""
    mount = store_mount(path, mountinfo)
    if mount is not None and mount.is_network:
        raise StoreOnNetworkShare(network_reason(path, mount))
