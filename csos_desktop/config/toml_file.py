"""Reading and writing the small flat TOML files we use (user config, machine policy).

Reading uses the standard library's tomllib. Writing covers only what our files
hold (strings, integers, booleans, lists of strings, one level of tables), so we
do not add a TOML-writer dependency for it.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from csos_desktop.domain.errors import InputError
from csos_desktop.fileio import write_atomically


class ConfigFileInvalid(InputError):
    """A configuration or policy file cannot be read."""


def read_toml(path: Path, what: str) -> dict[str, Any] | None:
    """The file's content, None when it does not exist, or ConfigFileInvalid."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigFileInvalid(f"The {what} {path} cannot be read: {exc.strerror}.") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigFileInvalid(f"The {what} {path} is not UTF-8 text.") from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message names the line and column; it never echoes values.
        raise ConfigFileInvalid(f"The {what} {path} is not valid TOML: {exc}.") from exc


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string literal is a valid TOML basic string (same escapes).
        # DEL is the one control character JSON leaves as is and TOML refuses.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps(data: Mapping[str, object], header: str = "") -> str:
    """TOML text for *data*: top-level scalars first, then one-level tables."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    for key, value in data.items():
        if key not in tables:
            lines.append(f"{key} = {_scalar(value)}")
    for name, table in tables.items():
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            lines.append(f"{key} = {_scalar(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def write_text_atomically(path: Path, text: str) -> None:
    """Replace *path* in one step (UTF-8), creating its directory if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text.encode("utf-8"))
