"""The README's shell blocks, read as a newcomer reads them, and a terminal to run them in."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"

_FENCE = re.compile(r"^```(\w*)\s*$")
_HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")


def section(title: str, text: str | None = None) -> str:
    """The body of the ``## title`` section (up to the next ``## ``)."""
    text = README.read_text(encoding="utf-8") if text is None else text
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise AssertionError(f"README has no section '## {title}': update this test with it")
    return match.group(1)


def shell_blocks(body: str) -> list[str]:
    """The ```sh blocks of a section, in order."""
    blocks: list[str] = []
    lines: list[str] = []
    language: str | None = None
    for line in body.splitlines():
        fence = _FENCE.match(line)
        if fence is None:
            lines.append(line)
        elif language is None:
            language, lines = fence.group(1), []
        else:
            if language in ("sh", "bash", "shell"):
                blocks.append("\n".join(lines))
            language = None
    return blocks


def commands(block: str) -> Iterator[str]:
    """One shell command at a time: continuation lines and here-documents joined."""
    pending: list[str] = []
    heredoc: str | None = None
    for line in block.splitlines():
        if heredoc is not None:
            pending.append(line)
            if line.strip() == heredoc:
                heredoc = None
                yield "\n".join(pending)
                pending = []
            continue
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending.append(line)
        if line.rstrip().endswith("\\"):
            continue
        marker = _HEREDOC.search(line)
        if marker:
            heredoc = marker.group(1)
            continue
        yield "\n".join(pending)
        pending = []
    if pending:
        yield "\n".join(pending)


def copy_checkout(dest: Path) -> Path:
    """The files git would clone (tracked and untracked-not-ignored), as they are now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@dataclass
class Terminal:
    """A user at a terminal: runs each command in a pty and answers the prompts it shows."""

    cwd: Path
    env: dict[str, str]
    answers: Mapping[str, Callable[[str], str]]
    prelude: list[str] = field(default_factory=list)
    background: list[pexpect.spawn] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    def run(self, command: str, timeout: float = 240) -> tuple[int, str]:
        if re.match(r"^\s*(source|export)\s", command):
            self.prelude.append(command)
            return 0, ""
        script = "\n".join([*self.prelude, command])
        child = pexpect.spawn(
            "bash",
            ["--noprofile", "--norc", "-c", script],
            cwd=str(self.cwd),
            env=self.env,
            encoding="utf-8",
            codec_errors="replace",
            timeout=timeout,
            dimensions=(50, 200),
        )
        output = ""
        patterns = [*self.answers, pexpect.EOF]
        while True:
            index = child.expect(patterns)
            output += (child.before or "") + (child.after if isinstance(child.after, str) else "")
            if index == len(patterns) - 1:
                break
            child.sendline(self.answers[patterns[index]]("\n".join([*self.transcript, output])))
        child.close()
        self.transcript.append(output)
        return int(child.exitstatus if child.exitstatus is not None else -1), output

    def start(self, command: str, ready: str, timeout: float = 60) -> None:
        """A command the README says to leave running (another terminal)."""
        script = "\n".join([*self.prelude, "exec " + command])
        child = pexpect.spawn(
            "bash",
            ["--noprofile", "--norc", "-c", script],
            cwd=str(self.cwd),
            env=self.env,
            encoding="utf-8",
            timeout=timeout,
        )
        child.expect(ready)
        self.background.append(child)

    def close(self) -> None:
        for child in self.background:
            child.terminate(force=True)


def last_value(label: str) -> Callable[[str], str]:
    """An answer read off the output so far, e.g. the code a CA printed."""

    def answer(transcript: str) -> str:
        found = re.findall(rf"{label}\s*:\s*(\S+)", transcript)
        if not found:
            raise AssertionError(f"no '{label}' printed before it was asked for")
        return str(found[-1])

    return answer


def quoted(path: Path) -> str:
    return shlex.quote(str(path))
