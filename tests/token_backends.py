"""PKCS#11 implementations the token, enrolment and signing tests run against.

SoftHSM2 is the reference. The second is tpm2-pkcs11 on a software TPM
(swtpm), reached through the TPM2 access broker (tpm2-abrmd) on a private
D-Bus daemon: without a resource manager the TPM runs out of object slots
after two keys. All three processes are started here, on 127.0.0.1 and in a
temp directory, and stopped at the end of the session. tpm2-pkcs11 differs from
SoftHSM2 in ways real tokens do: it refuses a key template that forbids
decrypt/derive (CKR_GENERAL_ERROR), it cannot import a private key with
C_CreateObject, and it reports itself as a hardware slot.

The packages come from the Makefile's APT_PKGS; without them (or when the simulator does
not start) these backends skip on a developer's machine and fail under CI=true.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from pkcs11.constants import TokenFlag

from csos_desktop.domain.token_errors import WrongPin
from csos_desktop.sandbox.softhsm import create_token as create_softhsm_token
from csos_desktop.token.library import load_library, refresh_library
from csos_desktop.token.session import TokenSession
from tests.under_ci import unavailable

TPM2_MODULE_GLOB = "/usr/lib/*/libtpm2_pkcs11.so.1"
TPM2 = "the tpm2-pkcs11 backend"
_TPM2_TOOLS = ("swtpm", "tpm2-abrmd", "dbus-daemon", "pkcs11-tool", "tpm2_dictionarylockout")


@dataclass(frozen=True)
class BackendToken:
    """One initialised token with a user PIN, on one PKCS#11 implementation."""

    backend: str
    module: str
    label: str
    so_pin: str

    def token(self) -> pkcs11.Token:
        """The token, without re-initialising the module (other sessions stay open)."""
        found: pkcs11.Token = load_library(self.module).get_token(token_label=self.label)
        return found


def tpm2_missing() -> list[str]:
    """What the tpm2-pkcs11 backend needs and this machine lacks (empty: all there)."""
    missing = [
        tool
        for tool in _TPM2_TOOLS
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}")
    ]
    return missing if glob.glob(TPM2_MODULE_GLOB) else ["the module", *missing]


class Tpm2Simulator:
    """swtpm + a private D-Bus daemon + tpm2-abrmd; tokens made with C_InitToken."""

    def __init__(self, directory: Path) -> None:
        missing = tpm2_missing()
        if missing:
            unavailable(TPM2, f"tpm2-pkcs11 backend not installed (missing: {missing})")
        self.module = sorted(glob.glob(TPM2_MODULE_GLOB))[0]
        self.directory = directory
        self._procs: list[subprocess.Popen[bytes]] = []
        self._bus: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        state = self.directory / "state"
        store = self.directory / "store"
        state.mkdir(parents=True)
        store.mkdir()
        port = _free_port_pair()  # the swtpm TCTI expects the control port at port + 1
        ctrl = port + 1
        self._spawn(
            [
                "swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
                "--ctrl", f"type=tcp,port={ctrl},bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear",
            ]
        )  # fmt: skip
        _wait_for(lambda: _connectable(port), "swtpm")
        # The TPM's dictionary-attack lockout is TPM-wide: the wrong-PIN tests would lock
        # every later test's token. Many tries, one-second recovery.
        subprocess.run(
            ["tpm2_dictionarylockout", "--setup-parameters", "--max-tries=1000",
             "--recovery-time=1", "--lockout-recovery-time=1",
             f"--tcti=swtpm:host=127.0.0.1,port={port}"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        bus = self.directory / "bus"
        # Not stopped with the others: a D-Bus client in this process (Qt, GDBus) whose bus
        # goes away raises SIGTERM here. It ends with the test process instead.
        self._bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", f"--address=unix:path={bus}"],
            preexec_fn=_end_with_parent,
        )
        _wait_for(bus.exists, "dbus-daemon")
        name = f"com.intel.tss2.Tabrmd.csos{os.getpid()}"
        # The TCTI reaches the broker on the "system" bus; pointing that at our
        # private daemon leaves the test process's session bus (Qt) alone.
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={bus}"
        abrmd = shutil.which("tpm2-abrmd") or "/usr/sbin/tpm2-abrmd"
        # Each key tpm2-pkcs11 uses stays loaded for the session: room for many.
        args = [
            abrmd, f"--dbus-name={name}", f"--tcti=swtpm:host=127.0.0.1,port={port}",
            "--max-transients=100",
        ]  # fmt: skip
        if os.geteuid() == 0:
            args.append("--allow-root")
        self._spawn(args)
        os.environ["TPM2_PKCS11_TCTI"] = f"tabrmd:bus_name={name},bus_type=system"
        os.environ["TPM2_PKCS11_STORE"] = str(store)
        os.environ["TSS2_LOG"] = "all+NONE"
        os.environ["TPM2_PKCS11_LOG_LEVEL"] = "0"
        _wait_for(self._module_answers, "tpm2-abrmd")

    def _spawn(self, args: list[str]) -> None:
        log = open(self.directory / f"{Path(args[0]).name}.log", "wb")  # noqa: SIM115
        self._procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))

    def _module_answers(self) -> bool:
        done = subprocess.run(
            ["pkcs11-tool", "--module", self.module, "-L"], capture_output=True, check=False
        )
        return done.returncode == 0 and b"Slot 0" in done.stdout

    def create_token(self, label: str, user_pin: str) -> BackendToken:
        """C_InitToken on the module's spare slot (pkcs11-tool), then C_InitPIN from here."""
        lib = refresh_library(self.module)
        blank = [
            s for s in lib.get_slots(token_present=True)
            if not s.get_token().flags & TokenFlag.TOKEN_INITIALIZED
        ]  # fmt: skip
        so_pin = secrets.token_hex(8)
        done = subprocess.run(
            [
                "pkcs11-tool", "--module", self.module, "--slot", str(blank[0].slot_id),
                "--init-token", "--label", label, "--so-pin", so_pin,
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"tpm2 token {label}: {done.stderr.strip()}")
        token = refresh_library(self.module).get_token(token_label=label)
        with token.open(rw=True, so_pin=so_pin) as so_session:
            so_session.init_pin(user_pin)
        return BackendToken("tpm2", self.module, label, so_pin)

    def stop(self) -> None:
        """swtpm and the broker now; the bus daemon when this process exits."""
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._procs.clear()


@contextmanager
def tpm2_simulator(directory: Path) -> Iterator[Tpm2Simulator]:
    sim = Tpm2Simulator(directory)
    try:
        try:
            sim.start()
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            unavailable(TPM2, f"the software TPM did not start: {exc}")
        yield sim
    finally:
        sim.stop()


def logs_in(module: str, label: str, pin: str) -> bool:
    """Does the token accept *pin*? One real login, closed again."""
    ts = TokenSession(refresh_library(module).get_token(token_label=label))
    try:
        ts.login(pin)
    except WrongPin:
        return False
    ts.close()
    return True


def softhsm_token(directory: Path, label: str, user_pin: str) -> BackendToken:
    hsm = create_softhsm_token(directory, label, user_pin)
    return BackendToken("softhsm2", hsm.module, hsm.label, hsm.so_pin)


def _end_with_parent() -> None:
    """In the child: SIGTERM when the test process exits (Linux PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(1, signal.SIGTERM)


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def _connectable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_for(ready: object, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")
