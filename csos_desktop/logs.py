"""Log files: rotating, in the platform log dir (or ``$CSOS_HOME/logs``), secrets removed.

A PIN, a one-time enrolment code, a password or a bearer credential must never
reach a log file, a support bundle or an error message (21 CFR 1311.120). The
code paths are written not to log them; :func:`redact` is the second line of
defence, applied to every record written and to every file bundled for support.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop import paths
from csos_desktop.fileio import create_private, private_dir

if TYPE_CHECKING:
    from logging.handlers import RotatingFileHandler

LOG_NAME = "csos.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
MASK = "[REDACTED]"
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

# Names whose value is a secret. "token" alone is not one: it names the USB
# token everywhere in this program; its credential forms are listed instead.
_SECRET_NAMES = (
    r"(?:user_|so_|new_|old_)?pin(?:[_ -]?code)?|passw(?:or)?d|passphrase|secret|client_secret"
    r"|api[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|bearer[_-]?token|auth[_-]?token"
    r"|credentials?|authori[sz]ation[_ -]code|auth[_-]?code|reference[_ -]?(?:number|no|code)"
    r"|one[_ -]time[_ -]code|otp|activation[_ -]code|code"
)
_Replacement = str | Callable[[re.Match[str]], str]


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], _Replacement], ...]:
    # Compiled on the first record redacted, not at start-up: most runs log nothing.
    return (
        # PEM private keys, whole block.
        (
            re.compile(
                r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
                re.S,
            ),
            MASK,
        ),
        # HTTP Authorization headers and bare bearer/basic credentials.
        (
            re.compile(
                r"(?i)(authorization\"?\s*[:=]\s*\"?)(?:(bearer|basic|digest)\s+)?[^\s\"',;]+"
            ),
            r"\1\2 " + MASK,
        ),
        (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
        # user:password@ in URLs.
        (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]*@"), r"\1" + MASK + "@"),
        # name=value, name: value, "name": "value", ?name=value&... (quotes kept: JSON stays JSON)
        (
            re.compile(
                r"(?i)(?<![a-z0-9_-])(\"?(?:" + _SECRET_NAMES + r")\"?\s*[:=]\s*)"
                r"(?:(\")(?:[^\"\\]|\\.)*\"|(')[^']*'|[^\s,;&)}\]\"']+)"
            ),
            lambda m: f"{m[1]}{m[2] or m[3] or ''}{MASK}{m[2] or m[3] or ''}",
        ),
        # "PIN 123456", "code ABCD-1234": a secret name followed by a digit-bearing word.
        (
            re.compile(
                r"(?i)\b(pin|passcode|code|password|reference[ _-]number)(\s+(?:is\s+|was\s+)?)"
                r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]{4,}"
            ),
            r"\1\2" + MASK,
        ),
    )


def redact(text: str) -> str:
    """*text* with anything PIN-, code-, password- or credential-like replaced by [REDACTED]."""
    from csos_desktop.known_secrets import scrub

    for pattern, replacement in _patterns():
        text = pattern.sub(replacement, text)
    # Then the PINs and codes this process was given, however bare the text shows them.
    return scrub(text, MASK)


class RedactingFilter(logging.Filter):
    """Formats the message and exception text of each record and redacts them."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self._formatter = formatter or logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            # The formatter reuses exc_text, so redacting it here covers tracebacks.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_installed: logging.Handler | None = None


def log_file() -> Path:
    # Naming the file must not create CSOS_HOME: `csos demo` claims only an empty home.
    return paths.log_dir(create=False) / LOG_NAME


class _LogFileHandler(logging.Handler):
    """The rotating log file, made on the first record, its directory then (it may be new or gone).

    Until something is logged nothing is opened, and `logging.handlers` is not imported:
    `csos order list` logs nothing and starts quicker without it.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.baseFilename = str(path)
        self._file: RotatingFileHandler | None = None

    def _opened(self) -> RotatingFileHandler:
        if self._file is None:
            self._file = _rotating_file(Path(self.baseFilename))
            self._file.setFormatter(self.formatter)
        return self._file

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds self.lock around emit: one thread makes the file handler.
        self._opened().emit(record)

    def doRollover(self) -> None:  # RotatingFileHandler's name
        """Start a new file now, as a full one does."""
        self.acquire()
        try:
            self._opened().doRollover()
        finally:
            self.release()

    def close(self) -> None:
        self.acquire()
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
        finally:
            self.release()
        super().close()


def _rotating_file(path: Path) -> RotatingFileHandler:
    import logging.handlers

    class PrivateRotatingFile(logging.handlers.RotatingFileHandler):
        """Directory 0700 and each file 0600, whatever the umask: order details are in them."""

        def _open(self):  # type: ignore[no-untyped-def]
            private_dir(path.parent)
            create_private(path)
            return super()._open()

    return PrivateRotatingFile(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )


def setup_logging(level: str | int = "INFO") -> Path:
    """Send ``csos_desktop`` logs to the rotating file (once per process); return its path."""
    global _installed
    logger = logging.getLogger("csos_desktop")
    path = log_file()
    if _installed is not None and getattr(_installed, "baseFilename", None) == str(path):
        logger.setLevel(level)
        return path
    if _installed is not None:
        logger.removeHandler(_installed)
        _installed.close()
    formatter = logging.Formatter(_FORMAT)
    handler = _LogFileHandler(path)
    handler.setFormatter(formatter)
    # On the handler, not the logger: a logger's filters skip records from child loggers.
    handler.addFilter(RedactingFilter(formatter))
    logger.addHandler(handler)
    logger.setLevel(level)
    _installed = handler
    return path


def log_files() -> list[Path]:
    """The current log file and its rotated predecessors, newest first."""
    directory = paths.log_dir()
    found = [p for p in directory.glob(f"{LOG_NAME}*") if p.is_file()]
    return sorted(found, key=lambda p: (p.name != LOG_NAME, p.name))


def logging_to_file() -> bool:
    """True once :func:`setup_logging` has attached the file handler in this process."""
    return _installed is not None
