"""Hypothesis strategies that mutate a real archive bundle.

Three layers an attacker (or a damaged disk) can change, each drawn on its own or
together:

- the manifest JSON: entries' names (``..``, absolute, NUL, the manifest's own name),
  missing keys, duplicate entries, wrong types, huge or negative sizes, wrong hashes,
  or the generic document mutations of :mod:`tests.fuzz.strategies`;
- the members: the manifest's CMS signature and the orders' signatures (DER mutations
  of the certificates inside via :mod:`tests.fuzz.der_tree`, or raw bytes), documents
  and certificates, renamed, duplicated, dropped or added members, each optionally
  re-listed in a re-hashed manifest so the verifier gets past the listing;
- the zip container: compression method, then the raw bytes: CRC, declared sizes,
  flags, compression method, name bytes and lengths in the local and central headers,
  the end-of-directory record, truncation.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import struct
import warnings
import zipfile
from typing import Any

from hypothesis import strategies as st

from tests.fuzz import der_tree
from tests.fuzz.strategies import (
    CERTIFICATE_PATHS,
    byte_mutations,
    certificate_mutations,
    mutated_documents,
)


class Members(tuple[tuple[str, bytes], ...]):
    """A bundle's (name, bytes) members in zip order, with a short repr: Hypothesis prints
    strategy arguments, and the whole bundle is 40 kB of noise in every report."""

    def __repr__(self) -> str:
        return f"<{len(self)} archive members>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


MANIFEST, MANIFEST_SIGNATURE = "manifest.json", "manifest.p7s"

hostile_names = st.sampled_from(
    [
        "../../etc/passwd",
        "/etc/passwd",
        "orders/../manifest.json",
        "orders/x/../../../escape.p7s",
        "orders/\x00.p7s",
        "orders/a.json\x00.p7s",
        "C:\\Windows\\x.p7s",
        "manifest.json",
        "manifest.p7s",
        "",
        "/",
        "orders/",
        "certificates/",
        "orders/" + "a" * 3000 + ".p7s",
        "orders/é/ü.p7s",
        "orders/\ud7ff.json",
        "certificates/x.pem",
        "poa/x.p7s",
    ]
)
hostile_sizes = st.sampled_from(
    [-1, 0, 1, 2**31, 2**32, 2**63, 2**64, 10**30, 1.5, 1e308, "12", True, None, [], {}]
)
hostile_hashes = st.one_of(
    st.sampled_from(["", "0" * 64, "F" * 64, "0" * 63, "0" * 65, "g" * 64, None, 7, ["0" * 64]]),
    st.binary(min_size=32, max_size=32).map(lambda b: b.hex()),
)


def zip_of(members: Members, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding *members* in order (duplicate names kept, as an attacker would)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on a duplicate name
        with zipfile.ZipFile(out, "w", compression=method) as zf:
            for name, data in members:
                # zipfile cuts a name at NUL and fails on an empty one; the raw
                # mutations put NULs and empty names into the headers instead.
                zf.writestr(name.split("\x00")[0] or "_", data)
    return out.getvalue()


def relisted(members: Members) -> Members:
    """*members* with a manifest that lists them as they are now (a re-hashed bundle)."""
    manifest = json.loads(dict(members)[MANIFEST])
    manifest["files"] = [
        {"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
        for n, d in members
        if n not in (MANIFEST, MANIFEST_SIGNATURE)
    ]
    raw = json.dumps(manifest, indent=2).encode()
    return Members((n, raw if n == MANIFEST else d) for n, d in members)


@st.composite
def manifest_entry_mutation(draw: st.DrawFn, manifest: dict[str, Any]) -> bytes:
    """The manifest with its file list attacked, serialised; sometimes with a raw huge number."""
    files = manifest["files"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["name", "size", "hash", "drop-key", "duplicate", "delete", "files"])
        )
        if kind == "files" or not isinstance(files, list) or not files:
            files = manifest["files"] = draw(
                st.sampled_from([5, None, "x", {}, [None], [[]], [{}], [{"name": None}]])
            )
            continue
        i = draw(st.integers(0, len(files) - 1))
        entry = files[i]
        if not isinstance(entry, dict):
            continue
        if kind == "name":
            entry["name"] = draw(st.one_of(hostile_names, st.sampled_from([None, 5, [], {}])))
        elif kind == "size":
            entry["bytes"] = draw(hostile_sizes)
        elif kind == "hash":
            entry["sha256"] = draw(hostile_hashes)
        elif kind == "drop-key":
            entry.pop(draw(st.sampled_from(["name", "sha256", "bytes"])), None)
        elif kind == "duplicate":
            files.insert(draw(st.integers(0, len(files))), dict(entry))
        else:
            del files[i]
    raw = json.dumps(manifest, indent=2).encode()
    if draw(st.integers(0, 4)) == 0:  # JSON Python will not print: a 5,000-digit number
        raw = raw.replace(b'"bytes": ', b'"bytes": ' + b"9" * 5000, 1)
    return raw


@st.composite
def mutated_manifest(draw: st.DrawFn, raw: bytes) -> bytes:
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError):  # already mutated past JSON
        return draw(byte_mutations(raw))
    if not isinstance(manifest, dict) or "files" not in manifest:
        return draw(mutated_documents(manifest if isinstance(manifest, dict) else {"x": 0}))
    if draw(st.booleans()):
        return draw(manifest_entry_mutation(manifest))
    return draw(mutated_documents(manifest))


@st.composite
def mutated_signature(draw: st.DrawFn, blob: bytes) -> bytes:
    """A CMS with a certificate inside mutated (DER-aware), or raw byte edits."""
    path = draw(st.sampled_from(CERTIFICATE_PATHS))
    cert = _certificate_at(blob, path)
    if cert is not None and draw(st.booleans()):
        return der_tree.splice(blob, path, draw(certificate_mutations(cert)))
    return draw(byte_mutations(blob))


def _certificate_at(blob: bytes, path: tuple[int, ...]) -> bytes | None:
    """The certificate at *path*, if the blob (perhaps mutated already) still has one."""
    try:
        node = der_tree.at(der_tree.parse(blob), path)[-1]
        cert = blob[node.start : node.end]
        der_tree.parse(cert)[0].children[0].children  # noqa: B018 - a TBSCertificate inside
    except (IndexError, ValueError):
        return None
    return cert


@st.composite
def member_mutation(draw: st.DrawFn, members: Members) -> Members:
    """One change to the member list: content, name, duplicate, drop or add."""
    out = list(members)
    kind = draw(
        st.sampled_from(
            ["manifest", "manifest-sig", "content", "rename", "duplicate", "drop", "add"]
        )
    )
    names = [n for n, _ in out]
    if kind == "manifest" and MANIFEST in names:
        i = names.index(MANIFEST)
        out[i] = (MANIFEST, draw(mutated_manifest(out[i][1])))
        return Members(out)
    if kind == "manifest-sig" and MANIFEST_SIGNATURE in names:
        i = names.index(MANIFEST_SIGNATURE)
    else:
        i = draw(st.integers(0, len(out) - 1))
    name, data = out[i]
    if kind in ("manifest-sig", "content"):
        out[i] = (name, draw(_content_mutation(name, data)))
    elif kind == "rename":
        out[i] = (draw(hostile_names), data)
    elif kind == "duplicate":
        other = draw(st.one_of(st.just(data), _content_mutation(name, data)))
        out.insert(draw(st.integers(0, len(out))), (name, other))
    elif kind == "drop":
        del out[i]
    else:
        out.append((draw(hostile_names), draw(st.one_of(st.just(data), st.binary(max_size=64)))))
    return Members(out)


def _content_mutation(name: str, data: bytes) -> st.SearchStrategy[bytes]:
    if name.endswith(".p7s"):
        return mutated_signature(data)
    if name.endswith(".json") and name != MANIFEST:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, dict) and doc:
            return mutated_documents(doc)
    return byte_mutations(data)


# Offsets of fields in the zip headers (APPNOTE 4.3.7, 4.3.12, 4.3.16).
_LOCAL, _CENTRAL, _END = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_FIELDS = {
    _LOCAL: {"flags": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"),
             "csize": (18, "<I"), "usize": (22, "<I"), "namelen": (26, "<H"),
             "extralen": (28, "<H")},
    _CENTRAL: {"flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"),
               "csize": (20, "<I"), "usize": (24, "<I"), "namelen": (28, "<H"),
               "extralen": (30, "<H"), "offset": (42, "<I")},
    _END: {"entries": (10, "<H"), "total": (8, "<H"), "cdsize": (12, "<I"),
           "cdoffset": (16, "<I")},
}  # fmt: skip
_VALUES = [0, 1, 2, 8, 12, 14, 99, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]


@st.composite
def raw_zip_mutation(draw: st.DrawFn, blob: bytes) -> bytes:
    """Edits of the container's bytes: a header field, a name byte, truncation, any bytes."""
    out = bytearray(blob)
    kind = draw(st.sampled_from(["field", "field", "name", "truncate", "bytes"]))
    if not out:
        return draw(st.binary(max_size=64))
    if kind == "truncate":
        return bytes(out[: draw(st.integers(0, len(out) - 1))])
    if kind == "bytes":
        return draw(byte_mutations(bytes(out)))
    signature = draw(st.sampled_from([_LOCAL, _CENTRAL, _END]))
    starts = _find_all(out, signature)
    if not starts:
        return bytes(out)
    at = draw(st.sampled_from(starts))
    if kind == "name" and signature != _END:
        name_at = at + (30 if signature == _LOCAL else 46)
        if name_at > len(out):
            return bytes(out)
        name_len = struct.unpack_from("<H", out, at + (26 if signature == _LOCAL else 28))[0]
        if name_len:
            k = name_at + draw(st.integers(0, name_len - 1))
            if k < len(out):
                out[k] = draw(st.sampled_from(b"\x00/\\.:\xff"))
        return bytes(out)
    fields = _FIELDS[signature]
    field = draw(st.sampled_from(sorted(fields)))
    offset, fmt = fields[field]
    size = struct.calcsize(fmt)
    if at + offset + size > len(out):
        return bytes(out)
    old = struct.unpack_from(fmt, out, at + offset)[0]
    limit = 2 ** (8 * size) - 1
    new = draw(
        st.one_of(
            st.sampled_from([v for v in _VALUES if v <= limit]),
            st.sampled_from([max(0, old - 1), min(limit, old + 1), old ^ 1]),
            st.integers(0, limit),
        )
    )
    struct.pack_into(fmt, out, at + offset, new)
    return bytes(out)


def _find_all(data: bytearray, needle: bytes) -> list[int]:
    found, i = [], data.find(needle)
    while i >= 0:
        found.append(i)
        i = data.find(needle, i + 1)
    return found


@st.composite
def mutated_bundles(draw: st.DrawFn, members: Members) -> bytes:
    """A bundle with one to three changes across the manifest, the members and the zip."""
    changed = members
    steps = draw(st.integers(0, 2))
    for _ in range(steps):
        changed = draw(member_mutation(changed))
    if steps and draw(st.integers(0, 3)) == 0 and MANIFEST in dict(changed):
        # Get past the listing to what lies behind it; a manifest too broken to re-list
        # stays as it is.
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError, RecursionError):
            changed = relisted(changed)
    method = draw(
        st.sampled_from(
            [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
        )
    )
    blob = zip_of(changed, method)
    if not steps or draw(st.booleans()):
        for _ in range(draw(st.integers(1, 2))):
            blob = draw(raw_zip_mutation(blob))
    return blob
