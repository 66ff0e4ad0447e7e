"""Canonical bytes of signed documents (RFC 8785, JSON Canonicalization Scheme).

The canonical bytes are what is signed, stored and sent. A document read back
must be byte-for-byte canonical: if it is not, someone re-serialised it after
signing, and the signature no longer proves what the purchaser saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from csos_desktop.domain.errors import InputError

_NON_CANONICAL = (
    "the document is not in canonical form (RFC 8785); it may have been re-serialised after signing"
)


class MalformedDocument(InputError):
    """Bytes that are not a well-formed signed document."""


def _plain(value: object) -> object:
    """Turn mappings into dicts and sequences into lists: rfc8785 only knows dict and list."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def canonical_bytes(doc: Mapping[str, object]) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``doc``.

    Raises MalformedDocument if ``doc`` holds something JSON cannot carry exactly
    (an integer beyond 2**53, NaN, a string that is not valid Unicode, a non-text key).
    """
    import rfc8785  # when something is signed or hashed, not at every start

    try:
        return rfc8785.dumps(_plain(doc))  # type: ignore[arg-type]  # _plain keeps JSON values
    except rfc8785.CanonicalizationError as e:
        raise MalformedDocument(f"the document cannot be canonicalised: {e}") from e
    except UnicodeEncodeError as e:
        # rfc8785 sorts keys by their UTF-16 encoding: a lone surrogate in a *key* (JSON
        # allows "\ud800") fails there rather than as a CanonicalizationError.
        raise MalformedDocument(
            "the document contains text that is not valid Unicode (a lone surrogate)"
        ) from e


def refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json.loads silently keeps the last duplicate; a signed document whose
    # reader and writer may see different values for one key is refused.
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedDocument(f"the document has the key {key!r} more than once")
        result[key] = value
    return result


def _refuse_float(text: str) -> object:
    raise MalformedDocument(
        f"the document contains the number {text}; documents use whole numbers only"
    )


def _refuse_constant(text: str) -> object:
    raise MalformedDocument(f"the document contains {text}, which is not JSON")


def _strict_json(data: bytes, *, what: str, encoding: str, floats: bool) -> object:
    """JSON with no key twice and no NaN/Infinity; errors name *what* was read."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise MalformedDocument(
            f"the {what} is not valid UTF-8 text (byte {e.start} cannot be read)"
        ) from e
    try:
        return json.loads(
            text,
            object_pairs_hook=refuse_duplicates,
            parse_float=None if floats else _refuse_float,
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError as e:
        raise MalformedDocument(
            f"the {what} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from e
    except RecursionError as e:
        raise MalformedDocument(f"the {what} is nested too deeply") from e
    except ValueError as e:
        # int() refuses numbers over sys.get_int_max_str_digits() (4,300) digits.
        raise MalformedDocument(
            f"the {what} contains a number too long to read; documents use whole numbers "
            "of at most 16 digits"
        ) from e


def parse_json_input(data: bytes) -> object:
    """Parse a JSON input file (an order or prescription as typed or exported by a system).

    The one strict reader for every document path: UTF-8 (a BOM is tolerated), no key
    twice in an object, no NaN or Infinity. Unlike :func:`load_document` the text need
    not be canonical, and non-integers are left for the document reader to report.
    """
    return _strict_json(data, what="file", encoding="utf-8-sig", floats=True)


_SAFE_INTEGER = 2**53
_LONG_DIGITS = re.compile(rb"[0-9]{16}")


def _simple(value: object) -> bool:
    """Values for which Python's JSON output is RFC 8785's: integers JavaScript holds
    exactly, and objects whose keys sort the same by code point as by UTF-16 unit (no
    character beyond U+D7FF in a key)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            keys = "".join(item)
            if not keys.isascii() and max(keys) >= "\ud800":
                return False
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif type(item) is int:
            if not -_SAFE_INTEGER < item < _SAFE_INTEGER:
                return False
        elif not (item is None or isinstance(item, str | bool)):
            return False
    return True


def _plainly_canonical(doc: dict[str, object], data: bytes) -> bool:
    """A quick proof that *data* is canonical: the standard library writes RFC 8785's
    bytes for documents of plain keys and safe integers (same escapes, same separators,
    same order). Anything else, or any doubt, goes to rfc8785 itself."""
    try:
        quick = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        if quick.encode("utf-8") != data:
            return False
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    # The bytes are the document as written: all ASCII means no key sorts differently by
    # UTF-16 unit, and no run of 16 digits means every integer is below 2**53.
    return (data.isascii() and not _LONG_DIGITS.search(data)) or _simple(doc)


def _quick_document(data: bytes) -> dict[str, object] | None:
    """The document when the standard parser and writer prove it canonical at C speed.

    No duplicate-key hook is needed here: a key given twice is read once and written
    once, so the written bytes are shorter than *data* and the proof fails. Any failure
    or doubt is None, and the strict reader gives the answer and its reason.
    """
    try:
        doc = json.loads(
            data.decode("utf-8"), parse_float=_refuse_float, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError, MalformedDocument):
        return None
    return doc if isinstance(doc, dict) and _plainly_canonical(doc, data) else None


def load_document(data: bytes) -> dict[str, object]:
    """Parse canonical document bytes, refusing anything that is not exactly canonical JSON."""
    quick = _quick_document(data)
    if quick is not None:
        return quick
    doc = _strict_json(data, what="document", encoding="utf-8", floats=False)
    if not isinstance(doc, dict):
        raise MalformedDocument("the document must be a JSON object ({...})")
    if _plainly_canonical(doc, data):
        return doc
    try:
        canonical = canonical_bytes(doc)
    except RecursionError as e:
        raise MalformedDocument("the document is nested too deeply") from e
    if canonical != data:
        raise MalformedDocument(_NON_CANONICAL)
    return doc
