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
