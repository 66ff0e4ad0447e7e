"""Parsing JSON and CSV files a user (or anyone who sent them one) hands the program.

The stdlib parsers raise more than their documented errors on crafted input: an
integer over 4,300 digits is a ValueError, deep nesting a RecursionError, a CSV cell
over 128 KiB or a NUL byte a csv.Error. Here every one becomes the caller's
InputError naming the file (and the line), so a command ends with `error:` and exit
2, never a traceback.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import Any

from csos_desktop.domain.errors import InputError

#: A count or quantity longer than this is a typo or an attack, never an order.
MAX_DIGITS = 12


def parse_json(
    raw: bytes | str,
    source: str,
    *,
    error: type[InputError] = InputError,
    **hooks: Any,
) -> object:
    """``json.loads`` of *raw*; any failure is *error* naming *source*."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, **hooks)
    except UnicodeDecodeError as exc:
        raise error(f"{source} is not UTF-8 text (byte {exc.start} cannot be read).") from exc
    except RecursionError as exc:
        raise error(f"{source} is nested too deeply to be a CSOS file.") from exc
    except ValueError as exc:  # JSONDecodeError, and integers beyond Python's digit limit
        raise error(f"{source} is not valid JSON ({exc}).") from exc


def csv_rows(
    reader: csv.DictReader[str], on_error: Callable[[int, str], InputError]
) -> Iterator[dict[str, str]]:
    """The reader's rows; a row csv cannot parse ends the file with ``on_error(line, why)``."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # line_num counts the lines read before the one that failed.
            why = f"{exc} (a cell over 128 KiB, or a NUL byte)"
            raise on_error(reader.line_num + 1, why) from exc
        yield row


def whole_number(text: str) -> int | None:
    """A plain ASCII whole number of at most MAX_DIGITS digits, or None.

    ``str.isdigit`` accepts `²` and other scripts' digits, which int() then refuses
    or reads as a different number.
    """
    text = text.strip()
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


#: Spreadsheets and the FDA's files come as UTF-8 (with or without a BOM) or, saved by
#: Windows programs, as Windows-1252; Latin-1 decodes any byte, so reading never fails.
TEXT_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def decode_text(data: bytes) -> str:
    """Text of a file made elsewhere: UTF-8 if it is, else Windows-1252, else Latin-1."""
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover
