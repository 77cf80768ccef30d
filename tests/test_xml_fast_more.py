"""The XML fast reader's second mode, which trusts an attribute to be ``i:nil="true"``.

``parse_document`` tells, from the bytes, whether every attribute below the root is
``i:nil="true"`` in the XML Schema instance namespace; then the codec runs the fast
reader's functions that take any attribute for a nil (``c.attrib`` instead of
``c.items()``). Checked here: the flag is never true of a tree where some attribute
below the root is anything else, and documents bent so that the flag stays true (nil
spelled on elements with content, ``i:nil="true"`` as text, ``d2p1`` declarations)
still decode as the reference path decodes them, or fail with its error.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from negotiate.codecs.xml import XmlCodec
from negotiate.codecs.xml.names import _XSI_NIL
from negotiate.codecs.xml.parse import parse_document
from negotiate.errors import NegotiateError
from negotiate.schema import Schema
from tests.helpers import CONTACT
from tests.strategies import carriers, mutated
from tests.test_xml_fast import NODE, _bend, _same

_NIL = [(_XSI_NIL, "true")]
_TOKENS = (
    b' i:nil="true"',
    b' i:nil="false"',
    b' i:type="x"',
    b' xmlns:d2p1="urn:a"',
    b' xmlns:i="urn:not-xsi"',
    b' a="1"',
    b"=",
    b' i:nil="true" a="',
    b"<",
    b">",
    b"/>",
    b"</",
)


def _flag(body: bytes) -> tuple[Any, bool] | None:
    try:
        return parse_document(body, None, keep_default_namespace=False, max_nodes=None)
    except NegotiateError:
        return None


def _only_nils_below(root: Any) -> bool:
    return all(el.items() in ([], _NIL) for el in root.iter() if el is not root)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=carriers(CONTACT, depth=1))
def test_the_nil_flag_is_true_only_of_nil_attributes(data: st.DataObject, value: Any) -> None:
    body = XmlCodec().encode(value, CONTACT)
    edited = data.draw(mutated(body, _TOKENS))
    parsed = _flag(edited)
    if parsed is not None and parsed[1]:
        assert _only_nils_below(parsed[0])


def test_the_nil_flag_on_the_writers_shape_and_off_it() -> None:
    codec = XmlCodec()
    body = codec.encode(CONTACT.default(), CONTACT)
    parsed = _flag(body)
    assert parsed is not None and parsed[1]  # what .NET and our writer send
    cases = [
        body.replace(b' i:nil="true"', b' i:nil="1"', 1),
        body.replace(b' i:nil="true"', b' i:nil="true" x="1"', 1),
        body.replace(b' i:nil="true"', b" i:nil='true'", 1),
        body.replace(b' i:nil="true"', b' i:nil = "true"', 1),
        body.replace(b' i:nil="true"', b' j:nil="true" xmlns:j="urn:j"', 1),
        body.replace(b"<ContactId>", b'<ContactId xmlns:i="urn:other">', 1),
        body.replace(b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"', b'xmlns:i="urn:x"'),
        b"<!-- a=1 -->" + body,  # NOTE: an "=" before the root counts as the root's own
    ]
    for case in cases[:-1]:
        assert case != body
        parsed = _flag(case)
        assert parsed is None or not parsed[1], case[:200]
    parsed = _flag(cases[-1])
    assert parsed is not None and parsed[1]


def _nil_bend(body: bytes, bend: str, at: int) -> bytes:
    """``body`` bent so that every attribute stays ``i:nil="true"`` (the flag stays on)."""
    tags = list(re.finditer(rb"<([A-Za-z][\w.]*)>", body))
    if not tags:
        return body
    match = tags[at % len(tags)]
    start, end = match.span()
    name = match[1]
    if bend == "nil on content":  # an element with text or children, spelled nil
        return body[:start] + b"<" + name + b' i:nil="true">' + body[end:]
    if bend == "nil as text":  # the attribute's bytes as text, escaped or not
        text = [b' i:nil="true"', b" i:nil=&quot;true&quot;"][at % 2]
        return body[:end] + text + body[end:]
    if bend == "declaration":  # .NET's array namespace, declared on another element
        return body[:start] + b"<" + name + b' xmlns:d2p1="urn:arrays">' + body[end:]
    # nil on an element whose content is dropped: the reference decides what it means
    close = body.find(b"</" + name + b">", end)
    if close < 0:
        return body
    return body[:start] + b"<" + name + b' i:nil="true" />' + body[close + len(name) + 3 :]


_NIL_BENDS = ("nil on content", "nil as text", "declaration", "nil instead of content")


def _same_flagged(body: bytes, schema: Schema) -> None:
    parsed = _flag(body)
    if parsed is not None and parsed[1]:
        assert _only_nils_below(parsed[0])
    _same(body, schema)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=carriers(CONTACT, depth=2),
    bends=st.lists(st.tuples(st.sampled_from(_NIL_BENDS), st.integers(0, 400)), max_size=3),
)
def test_contacts_bent_under_the_flag_read_as_the_reference(
    value: dict[str, Any], bends: list[tuple[str, int]]
) -> None:
    body = XmlCodec().encode(value, CONTACT)
    for bend, at in bends:
        body = _nil_bend(body, bend, at)
    _same_flagged(body, CONTACT)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=carriers(NODE, depth=3),
    bends=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(_NIL_BENDS), st.integers(0, 400)),
            st.tuples(st.just("old"), st.integers(0, 400)),
        ),
        max_size=3,
    ),
)
def test_user_carriers_bent_under_the_flag_read_as_the_reference(
    value: dict[str, Any], bends: list[tuple[str, int]]
) -> None:
    body = XmlCodec().encode(value, NODE)
    for bend, at in bends:
        body = _bend(body, "nil", at) if bend == "old" else _nil_bend(body, bend, at)
    _same_flagged(body, NODE)


@pytest.mark.parametrize("nils", [False, True])
def test_both_modes_read_the_writers_shape(nils: bool) -> None:
    codec = XmlCodec()
    value = NODE.normalize(
        {"Id": 1, "Children": [{"Id": 2}, None], "Names": {"a": None}, "Spot": None}
    )
    body = codec.encode(value, NODE)
    root, flag = parse_document(body, None, keep_default_namespace=False, max_nodes=None)
    assert flag
    read = codec._fast_reader(NODE)
    assert read(root, nils) == value
