"""The secrets this process has handled, so redaction finds them in any shape of text.

Pattern redaction (:mod:`csos_desktop.logs`) finds "pin=482913" or "code ABCD-1234";
it cannot know that a bare "482913" in a library's error message is a PIN. The PIN
and one-time codes this process was given are therefore remembered, as keyed
hashes only (a per-process random key; the value itself is not kept), and every
substring of their length in text to be logged is compared with them.
"""

from __future__ import annotations

import hashlib
import secrets
import threading

#: Shorter values would match ordinary numbers too often (PKCS#11 PINs are 4+ long).
MIN_LENGTH = 4
_KEY = secrets.token_bytes(32)
_lock = threading.Lock()
_by_length: dict[int, set[bytes]] = {}


def _digest(value: str) -> bytes:
    return hashlib.blake2b(value.encode("utf-8"), key=_KEY, digest_size=16).digest()


def _variants(value: str) -> set[str]:
    """Forms the same secret is typed or printed in: any case, with or without - and spaces."""
    value = value.strip().lower()
    return {value, value.replace("-", ""), value.replace(" ", ""), value.replace("-", " ")}


def remember_secret(value: str | None) -> None:
    """Redact *value* wherever it appears in text logged from now on."""
    if not value:
        return
    with _lock:
        for form in _variants(value):
            if len(form) >= MIN_LENGTH:
                _by_length.setdefault(len(form), set()).add(_digest(form))


def scrub(text: str, mask: str) -> str:
    """*text* with every occurrence of a remembered secret replaced by *mask*."""
    with _lock:
        known = {length: set(d) for length, d in _by_length.items()}
    if not known:
        return text
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for length, digests in known.items():
        for start in range(len(lowered) - length + 1):
            if _digest(lowered[start : start + length]) in digests:
                spans.append((start, start + length))
    if not spans:
        return text
    out, pos = [], 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        out.append(text[pos : max(start, pos)])
        if start >= pos:
            out.append(mask)
        pos = end
    out.append(text[pos:])
    return "".join(out)
