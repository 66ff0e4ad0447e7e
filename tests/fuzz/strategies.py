"""Hypothesis strategies that mutate what the verifiers and importers read.

- DER mutations of a certificate inside a CMS SignedData (spliced in place, outer
  lengths fixed, so the verifier reaches the certificate rather than failing on framing);
- whole-blob byte mutations of the CMS;
- canonical documents: JSON trees with values swapped for hostile JSON, then either
  canonicalised or raw;
- CSV rows: cells replaced with hostile text (Unicode digits, huge numbers, quotes,
  newlines, NULs, 128 KiB cells).
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from hypothesis import strategies as st

from tests.fuzz import der_tree

#: Paths in a CMS ContentInfo to the first certificate: content [0] > SignedData > certs [0].
CERTIFICATE_PATHS = ((0, 1, 0, 3, 0), (0, 1, 0, 3, 1))


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """One to four edits: flip, set, insert, delete, truncate, duplicate a span."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            out += draw(st.binary(min_size=1, max_size=8))
            continue
        i = draw(st.integers(0, len(out) - 1))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "dup"]))
        if kind == "flip":
            out[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            out[i] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0xFF, 0x30, 0x04]))
        elif kind == "insert":
            out[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del out[i : i + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del out[i:]
        else:
            j = min(len(out), i + draw(st.integers(1, 64)))
            out[i:i] = out[i:j]
    return bytes(out)


@st.composite
def cms_with_mutated_certificate(draw: st.DrawFn, cms_blob: bytes) -> bytes:
    """The CMS with one of its certificates mutated and spliced back in."""
    path = draw(st.sampled_from(CERTIFICATE_PATHS))
    node = der_tree.at(der_tree.parse(cms_blob), path)[-1]
    cert = cms_blob[node.start : node.end]
    return der_tree.splice(cms_blob, path, draw(certificate_mutations(cert)))


@st.composite
def certificate_mutations(draw: st.DrawFn, cert: bytes) -> bytes:
    """Mutations aimed inside the certificate: an extension's value, or any bytes."""
    nodes = der_tree.parse(cert)
    tbs = nodes[0].children[0]
    extensions = [c for c in tbs.children if c.tag == b"\xa3"]
    if extensions and draw(st.booleans()):
        exts = extensions[0].children[0].children
        k = draw(st.integers(0, len(exts) - 1))
        ext = exts[k]
        value = ext.children[-1]  # the OCTET STRING holding the extension's DER
        inner = cert[value.start + value.header : value.end]
        mutated_inner = draw(st.one_of(byte_mutations(inner), st.binary(max_size=64)))
        new_value = b"\x04" + der_tree.length(len(mutated_inner)) + mutated_inner
        tbs_index = 0
        ext_path = (0, tbs_index, tbs.children.index(extensions[0]), 0, k, len(ext.children) - 1)
        return der_tree.splice(cert, ext_path, new_value)
    return draw(byte_mutations(cert))


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.text(max_size=30),
    st.sampled_from(["", " ", "²", "١٢", "\u0000", "\ud7ff", "9" * 40, "0406-0552-01"]),
)
hostile_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_documents(draw: st.DrawFn, document: dict[str, Any]) -> bytes:
    """The document with a few values replaced, keys dropped or added; canonical or raw."""
    doc = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        holder, key = _pick(draw, doc)
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace" or not isinstance(holder, dict):
            holder[key] = draw(hostile_json)
        elif action == "drop":
            holder.pop(key, None)
        else:
            holder[draw(st.text(max_size=8))] = draw(hostile_json)
    raw = draw(st.sampled_from(["canonical", "pretty", "bytes"]))
    if raw == "canonical":
        try:
            return bytes(rfc8785.dumps(doc))
        except rfc8785.CanonicalizationError:
            raw = "pretty"
    text = json.dumps(doc, indent=1 if raw == "pretty" else None).encode()
    return draw(byte_mutations(text)) if raw == "bytes" else text


def _pick(draw: st.DrawFn, doc: Any) -> tuple[Any, Any]:
    """A (container, key) somewhere in *doc*, walking down a random path."""
    holder: Any = doc
    key: Any = draw(st.sampled_from(sorted(doc))) if doc else "x"
    while isinstance(holder.get(key) if isinstance(holder, dict) else holder[key], dict | list):
        child = holder[key]
        if not child or draw(st.booleans()):
            break
        holder = child
        key = (
            draw(st.sampled_from(sorted(child)))
            if isinstance(child, dict)
            else draw(st.integers(0, len(child) - 1))
        )
    return holder, key


hostile_cells = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["²", "١٠٠", "0x10", "-1", "1e3", " 7 ", "9" * 30, "9" * 5000, '"', "\n"]),
    st.just("A" * (128 * 1024 + 1)),
    st.text(st.characters(codec="utf-8"), max_size=10).map(lambda s: s + "\x00"),
)


@st.composite
def mutated_csv(draw: st.DrawFn, text: str) -> str:
    """The CSV with a few cells replaced by hostile text, or a row cut short."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(draw(st.integers(1, 3))):
        r = draw(st.integers(0, len(rows) - 1))
        if draw(st.integers(0, 5)) == 0:
            rows[r] = rows[r][: draw(st.integers(0, len(rows[r])))]
        elif rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(hostile_cells)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
