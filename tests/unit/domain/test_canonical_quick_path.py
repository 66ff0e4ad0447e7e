"""The quick canonical-form proof never disagrees with rfc8785: whenever it says bytes
are canonical, they are exactly RFC 8785's."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from csos_desktop.domain.canonical import MalformedDocument, _plainly_canonical, canonical_bytes

scalars = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), values, max_size=5))
def test_the_quick_proof_agrees_with_rfc8785(doc: dict[str, object]) -> None:
    try:
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    except UnicodeEncodeError:
        return
    if _plainly_canonical(doc, data):
        assert canonical_bytes(doc) == data
    try:
        expected = canonical_bytes(doc)
    except MalformedDocument:
        assert not _plainly_canonical(doc, data)
        return
    assert not _plainly_canonical(doc, expected + b" ")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), values, max_size=5), st.data())
def test_load_document_gives_the_strict_readers_answer(
    doc: dict[str, object], data: st.DataObject
) -> None:
    """With a key repeated, a float or a space added, the answer is the strict reader's."""
    from csos_desktop.domain.canonical import _strict_json, load_document

    try:
        base = canonical_bytes(doc)
    except MalformedDocument:
        return
    tweak = data.draw(st.sampled_from(["none", "dup", "float", "space"]))
    blob = {
        "none": base,
        "dup": base[:-1] + (b',"k":1,"k":1}' if doc else b'"k":1,"k":1}'),
        "float": base[:-1] + (b',"f":1.5}' if doc else b'"f":1.5}'),
        "space": base + b" ",
    }[tweak]

    def outcome(fn: object) -> object:
        try:
            return fn()  # type: ignore[operator]
        except MalformedDocument as exc:
            return str(exc)

    strict = outcome(lambda: _strict_json(blob, what="document", encoding="utf-8", floats=False))
    got = outcome(lambda: load_document(blob))
    if isinstance(strict, str):
        assert got == strict
    else:
        assert got == strict if blob == base else isinstance(got, str)
