"""A store on a network file system is found from the mount table and refused, with why."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from csos_desktop.doctor.result import Status
from csos_desktop.doctor.storage import filesystem_check
from csos_desktop.store import open_store
from csos_desktop.store.filesystem import (
    Mount,
    StoreOnNetworkShare,
    mount_of,
    parse_mountinfo,
    store_mount,
)

# Lines as the kernel writes them (proc(5)): optional fields before " - ", paths escaped.
SAMPLE = """\
22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro
25 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw,size=4000k
40 22 0:35 / /home rw,relatime shared:20 - ext4 /dev/sda3 rw
61 40 0:52 / /home/pharmacy/share rw,relatime shared:31 - nfs4 files.local:/srv/csos rw,vers=4.2
62 40 0:53 / /home/pharmacy/My\\040Share rw,nosuid,nodev shared:32 - cifs //nas/pharmacy rw
63 40 0:54 / /home/pharmacy/remote rw,nosuid - fuse.sshfs it@server:/data rw,user_id=1000
64 22 0:55 / /mnt/wsl rw,noatime - 9p drvfs rw,dirsync
65 22 0:56 / /mnt/wsl rw,noatime - ext4 /dev/sdb1 rw
"""


def test_the_mount_table_is_read_with_escaped_paths_and_optional_fields() -> None:
    mounts = parse_mountinfo(SAMPLE + "not a mountinfo line\n")
    assert len(mounts) == 8
    assert mounts[0] == Mount("/", "ext4", "/dev/sda2")
    assert mounts[3] == Mount("/home/pharmacy/share", "nfs4", "files.local:/srv/csos")
    assert mounts[4].mount_point == "/home/pharmacy/My Share"
    assert [m.is_network for m in mounts] == [False, False, False, True, True, True, True, False]


@pytest.mark.parametrize(
    "path, fs_type",
    [
        ("/home/pharmacy/.local/share/csos/data/csos.db", "ext4"),
        ("/home/pharmacy/share/data/csos.db", "nfs4"),
        ("/home/pharmacy/My Share/csos.db", "cifs"),
        ("/home/pharmacy/remote/csos.db", "fuse.sshfs"),
        ("/home/pharmacy/shared/csos.db", "ext4"),  # a prefix of a name is not a parent
        ("/mnt/wsl/csos.db", "ext4"),  # the later mount hides the earlier one
        ("/var/lib/csos.db", "ext4"),
    ],
)
def test_the_deepest_mount_holding_the_store_decides(path: str, fs_type: str) -> None:
    mount = mount_of(PurePosixPath(path), parse_mountinfo(SAMPLE))
    assert mount is not None and mount.fs_type == fs_type


def _on_share(tmp_path: Path) -> str:
    """The sample table with *tmp_path* mounted from a file server."""
    return SAMPLE + (
        f"70 22 0:60 / {tmp_path.resolve()} rw,relatime - nfs nas:/export/pharmacy rw,vers=3\n"
    )


def test_a_store_on_a_network_share_is_refused_with_the_reason(tmp_path: Path) -> None:
    db = tmp_path / "data" / "csos.db"
    with pytest.raises(StoreOnNetworkShare) as refused:
        open_store(db, mounts=lambda: _on_share(tmp_path))
    message = refused.value.message
    assert "network file system (nfs from nas:/export/pharmacy" in message
    assert "local disk" in message
    assert not db.exists()  # nothing was created there


def test_a_local_store_opens_and_no_mount_table_is_no_reason_to_refuse(tmp_path: Path) -> None:
    open_store(tmp_path / "a.db", mounts=lambda: SAMPLE).close()
    open_store(tmp_path / "b.db", mounts=lambda: None).close()  # not Linux
    assert store_mount(tmp_path / "b.db", None) is None


def test_doctor_reports_a_store_on_a_network_share_as_an_error(tmp_path: Path) -> None:
    db = tmp_path / "data" / "csos.db"
    result = filesystem_check(db, mounts=lambda: _on_share(tmp_path))
    assert result.status is Status.ERROR
    assert "refuses to open it there" in result.summary and "CSOS_HOME" in result.fix
    assert result.details["fs_type"] == "nfs"
    local = filesystem_check(db, mounts=lambda: SAMPLE)
    assert local.status is Status.OK and "local file system" in local.summary
    assert filesystem_check(db, mounts=lambda: None).status is Status.SKIPPED


def test_doctor_reads_this_machines_own_mount_table(tmp_path: Path) -> None:
    result = filesystem_check(tmp_path / "csos.db")
    assert result.status in (Status.OK, Status.SKIPPED, Status.ERROR)
    if Path("/proc/self/mountinfo").exists():
        assert result.status is not Status.SKIPPED and result.details["fs_type"]
