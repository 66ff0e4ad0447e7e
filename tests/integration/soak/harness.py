"""Several processes on one store: the GUI, two `csos` loops, the distributor, and kill -9.

Each loop runs `csos` commands one after the other, as an IT script or a pharmacist at a
terminal does; a killer picks a running command at random and sends it SIGKILL. A watcher
checks, the whole time the GUI holds its connection, that the write-ahead log and its index
are still there. Every line any process prints is kept, to find an error that reached a user.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.conftest import TEST_PIN
from tests.launch import csos_command
from tests.unit.store.helpers import order_input

ROOT = Path(__file__).resolve().parents[3]
# `csos` under the session's machine policy (software tokens, the local NTP responder).
CSOS = csos_command()
#: What must never reach a user: SQLite's raw errors, our sentences for a store that failed
#: or stayed busy, and the distributor shown offline (it is up the whole time).
USER_VISIBLE_FAILURES = (
    "disk i/o error",
    "database is locked",
    "in use by another csos desktop window",
    "could not be read or written",
    "order database",
    "distributor: offline",
)


@dataclass
class Counts:
    processes: int = 0
    kills: int = 0
    imports_confirmed: int = 0
    sign_runs_confirmed: int = 0
    listings: int = 0
    syncs: int = 0
    wal_missing: int = 0
    wal_checks: int = 0


@dataclass
class Soak:
    """The shared state of one soak run."""

    env: dict[str, str]
    work: Path
    seed: int
    counts: Counts = field(default_factory=Counts)
    drafts: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _running: dict[int, subprocess.Popen[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str] | None:
        """One `csos` command; None when it was killed (its output is kept all the same)."""
        proc = subprocess.Popen(
            [*CSOS, *args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with self._lock:
            self.counts.processes += 1
            self._running[proc.pid] = proc
        try:
            out, err = proc.communicate(stdin, timeout=300)
        finally:
            with self._lock:
                self._running.pop(proc.pid, None)
        with self._lock:
            self.outputs.append(f"$ csos {' '.join(args)}\n{out}{err}")
        if proc.returncode == -signal.SIGKILL:
            return None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def kill_one(self, rng: random.Random) -> None:
        with self._lock:
            procs = list(self._running.values())
        if not procs:
            return
        proc = rng.choice(procs)
        try:
            proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            return
        with self._lock:
            self.counts.kills += 1

    # -- the loops -------------------------------------------------------------------

    def importer(self, rng: random.Random) -> None:
        """Import one to three drafts, list the orders now and then."""
        n = 0
        while not self.stop.is_set():
            n += 1
            file = self.work / f"import-{threading.get_ident()}-{n}.json"
            file.write_text(json.dumps([order_input() for _ in range(rng.randint(1, 3))]))
            done = self.run("order", "import", str(file), "--json")
            if done is not None:
                assert done.returncode == 0, done.stdout + done.stderr
                ids = {str(r["order_id"]) for r in json.loads(done.stdout)}
                with self._lock:
                    self.drafts |= ids
                    self.counts.imports_confirmed += 1
            if rng.random() < 0.5:
                listed = self.run("order", "list", "--json")
                if listed is not None:
                    assert listed.returncode == 0, listed.stdout + listed.stderr
                    self.counts.listings += 1

    def signer(self, rng: random.Random, signing: list[str], sync: list[str]) -> None:
        """Sign every draft on the token, then a sync pass beside the GUI's now and then."""
        while not self.stop.is_set():
            done = self.run("order", "sign", "--all-drafts", *signing, stdin=TEST_PIN + "\n")
            if done is not None:
                # 1: nothing to sign yet; anything else is a failure the output explains.
                assert done.returncode in (0, 1), done.stdout + done.stderr
                self.counts.sign_runs_confirmed += 1
            if rng.random() < 0.3:
                passed = self.run("sync", "--once", *sync)
                if passed is not None:
                    assert passed.returncode == 0, passed.stdout + passed.stderr
                    self.counts.syncs += 1
            time.sleep(rng.uniform(0.0, 0.5))

    def pause(self, seconds: float) -> bool:
        """Sleep *seconds* or until stopped; True once stopped.

        In steps, not ``stop.wait(seconds)``: under `make test-off-hours` libfaketime fakes
        the monotonic clock and a timed wait on an event never times out."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return self.stop.is_set()

    def killer(self, rng: random.Random, every: tuple[float, float]) -> None:
        while not self.pause(rng.uniform(*every)):
            self.kill_one(rng)

    def watch_wal(self, db: Path, alive: Callable[[], bool]) -> None:
        """While the GUI's connection is open, its -wal and -shm must never disappear."""
        sides = [db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        while not self.stop.is_set() and alive():
            self.counts.wal_checks += 1
            if not all(s.exists() for s in sides) and alive():
                self.counts.wal_missing += 1
            time.sleep(0.01)


@dataclass
class Submissions:
    """The answers the distributor gave to order submissions: 201 new, 200 a replay."""

    statuses: list[int] = field(default_factory=list)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or (scope["method"], scope["path"]) != (
                "POST",
                "/v1/orders",
            ):
                await app(scope, receive, send)
                return

            async def answer(message: Message) -> None:
                if message["type"] == "http.response.start":
                    self.statuses.append(int(message["status"]))
                await send(message)

            await app(scope, receive, answer)

        return counted


def threads(*targets: Callable[[], None]) -> list[threading.Thread]:
    """Started threads whose exception fails the soak (kept in ``failures``)."""
    started = []
    for target in targets:
        t = threading.Thread(target=_keep_failure(target), daemon=True)
        t.start()
        started.append(t)
    return started


failures: list[BaseException] = []


def _keep_failure(target: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            target()
        except BaseException as exc:
            failures.append(exc)

    return run
