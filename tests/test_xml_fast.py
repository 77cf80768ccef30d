"""The XML fast path (negotiate/codecs/xml/fast.py) against the reference path.

The reference is the general reader plus the schema's normaliser
(``XmlCodec._read_reference``). Every document, in .NET's exact shape or bent away
from it (whitespace, comments, processing instructions, CDATA, namespace prefixes,
unknown elements, nil in all its spellings, another order, random byte edits), must
decode to the same value, or fail with the same error (class, status, location and
message), with the fast path on and off. Carriers: ContactEntity and user carriers
from ``schema_of`` (nested lists and dicts, a recursive carrier, another namespace).
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from negotiate.codecs.xml import XmlCodec
from negotiate.errors import NegotiateError
from negotiate.options import Options
from negotiate.schema import DateTime, Schema, schema_of
from tests.helpers import CONTACT
from tests.strategies import carriers, mutated

Tone = enum.IntEnum("Tone", {"Quiet": 0, "Loud": 1})


class Spot(TypedDict):
    __datacontract_namespace__ = "urn:example:spot"
    Label: str | None
    Weight: float
    Tones: list[Annotated[str, Tone]] | None


class Node(TypedDict):
    __datacontract_namespace__ = "urn:example:tree"
    Id: int
    Open: bool
    When: DateTime
    Tone: Annotated[str, Tone]
    Spot: Spot | None
    Children: list[Node | None] | None
    Grid: list[list[int] | None] | None
    Names: dict[str, str | None] | None
    Spots: dict[str, Spot | None] | None


NODE = schema_of(Node)


def _outcome(codec: XmlCodec, body: bytes, schema: Schema) -> Any:
    try:
        return ("value", codec.decode(body, schema))
    except NegotiateError as exc:
        return ("error", type(exc), exc.status, exc.location, exc.message)


class _Counting:
    """Wraps a fast reader, counting the documents it read to the end."""

    def __init__(self, read: Any) -> None:
        self.read = read
        self.done = 0

    def __call__(self, root: Any, depth: int) -> Any:
        value = self.read(root, depth)
        self.done += 1
        return value


def _codecs(schema: Schema, options: Options | None = None) -> tuple[XmlCodec, XmlCodec, Any]:
    """A codec with the fast path (counted), and one that only takes the reference path."""
    fast = XmlCodec(options) if options else XmlCodec()
    reference = XmlCodec(options) if options else XmlCodec()
    counting = _Counting(fast._fast_reader(schema))
    fast._fast[schema] = counting
    reference._fast[schema] = None
    return fast, reference, counting


def _same(body: bytes, schema: Schema, options: Options | None = None) -> tuple[Any, bool]:
    """Both paths' outcome (asserted equal) and whether the fast path gave it."""
    fast, reference, counting = _codecs(schema, options)
    expected = _outcome(reference, body, schema)
    got = _outcome(fast, body, schema)
    assert got == expected
    return got, counting.done == 1


# -- bending a document away from .NET's shape -----------------------------------------

_TAG = re.compile(rb"<(/?)([A-Za-z][\w.]*)([ />])")
_BENDS = (
    "spaces",
    "comment",
    "pi",
    "cdata",
    "prefix",
    "unknown",
    "nil",
    "nils",
    "swap",
    "text",
    "case",
)


def _bend(body: bytes, bend: str, at: int) -> bytes:
    """``body`` with one change of kind ``bend`` near the ``at``-th tag."""
    tags = list(_TAG.finditer(body))
    if len(tags) < 3:
        return body
    match = tags[1 + at % (len(tags) - 1)]
    start, end = match.span()
    closing, name = match[1], match[2]
    if bend == "spaces":
        return body.replace(b"><", b">\n  <")
    if bend == "comment":
        return body[:start] + b"<!-- a comment -->" + body[start:]
    if bend == "pi":
        return body[:start] + b"<?note x?>" + body[start:]
    if bend == "cdata":
        close = body.find(b"</", end)
        if close < 0 or b"<" in body[end:close]:
            return body
        text = body[end:close]
        return body[:end] + b"<![CDATA[" + text.replace(b"]]>", b"") + b"]]>" + body[close:]
    if bend == "prefix":
        return body[:start] + b"<" + closing + b"p:" + name + match[3] + body[end:]
    if bend == "unknown":
        return body[:start] + b"<Unknown><Deep>1</Deep></Unknown>" + body[start:]
    if bend == "nil":
        spelling = [b' i:nil="true"', b' i:nil="1"', b' i:nil="false"', b' i:nil="maybe"']
        if closing:
            return body
        return body[: end - 1] + spelling[at % 4] + body[end - 1 :]
    if bend == "nils":  # every empty element and every nil, in another spelling
        spelling = [b' i:nil="1"', b' i:nil="false"', b' i:nil=" true "', b' x:nil="true"'][at % 4]
        empty = rb"<([\w.]+)></\1>"
        body = re.sub(empty, lambda m: b"<" + m[1] + spelling + b"></" + m[1] + b">", body)
        return body.replace(b' i:nil="true"', spelling)
    if bend == "swap":
        if closing or len(tags) < 4:
            return body
        following = body.find(b"<", end)
        return body[:start] + body[following:] if following > 0 else body
    if bend == "text":
        return body[:start] + b"stray" + body[start:]
    # case: another case for a property name (it binds case-insensitively)
    return _TAG.sub(lambda m: b"<" + m[1] + (m[2].lower() if m[2] == name else m[2]) + m[3], body)


# -- ContactEntity ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=carriers(CONTACT, depth=2))
def test_dotnet_shaped_contacts_take_the_fast_path(value: dict[str, Any]) -> None:
    body = XmlCodec().encode(value, CONTACT)
    outcome, fast = _same(body, CONTACT)
    assert outcome == ("value", value)
    assert fast  # the writer's own shape never needs the reference


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=carriers(CONTACT, depth=2),
    bends=st.lists(st.tuples(st.sampled_from(_BENDS), st.integers(0, 400)), max_size=3),
)
def test_bent_contacts_read_as_the_reference(
    value: dict[str, Any], bends: list[tuple[str, int]]
) -> None:
    body = XmlCodec().encode(value, CONTACT)
    for bend, at in bends:
        body = _bend(body, bend, at)
    _same(body, CONTACT)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=carriers(CONTACT, depth=1))
def test_mutated_contacts_read_as_the_reference(data: st.DataObject, value: dict[str, Any]) -> None:
    body = XmlCodec().encode(value, CONTACT)
    edited = data.draw(mutated(body, (b"<", b">", b"/>", b' i:nil="true"', b"&amp;", b"</")))
    _same(edited, CONTACT)


# -- user carriers: recursion, nested lists and dicts, other namespaces ---------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=carriers(NODE, depth=3),
    bends=st.lists(st.tuples(st.sampled_from(_BENDS), st.integers(0, 400)), max_size=2),
)
def test_user_carriers_read_as_the_reference(
    value: dict[str, Any], bends: list[tuple[str, int]]
) -> None:
    body = XmlCodec().encode(value, NODE)
    outcome, fast = _same(body, NODE)
    assert outcome == ("value", value)
    assert fast
    for bend, at in bends:
        body = _bend(body, bend, at)
    _same(body, NODE)


@pytest.mark.parametrize(
    "options",
    [Options(max_depth=2), Options(max_items=1), Options(unknown="error"), Options(max_nodes=40)],
    ids=["depth", "items", "unknown", "nodes"],
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=carriers(NODE, depth=3))
def test_limits_are_the_references(options: Options, value: dict[str, Any]) -> None:
    _same(XmlCodec().encode(value, NODE), NODE, options)


def test_what_the_fast_path_hands_over() -> None:
    """Each case is refused or bent: the fast path stops, the reference decides."""
    value = NODE.normalize(
        {"Id": 1, "Children": [{"Id": 2}, None], "Names": {"a": "x"}, "Grid": [[1, 2], None]}
    )
    body = XmlCodec().encode(value, NODE)
    assert _same(body, NODE) == (("value", value), True)
    cases = {
        b"<Id>1</Id>": b"<Id>x</Id>",  # a bad int32: the reference locates it
        b"<Open>false</Open>": b"",  # a property left out (the reference gives the default)
        b"<Key>a</Key>": b'<Key i:nil="true" />',  # a nil key
        b"<Id>2</Id>": b"<Id>2</Id>tail",  # text where elements belong
    }
    for old, new in cases.items():
        assert old in body
        outcome, fast = _same(body.replace(old, new, 1), NODE)
        assert not fast, new
    twice = body.replace(b"<Key>a</Key>", b"<Key>a</Key>", 1)
    names = re.search(rb"<Names>.*?</Names>", twice)
    assert names is not None
    pair = names[0][len(b"<Names>") : -len(b"</Names>")]
    doubled = twice.replace(names[0], b"<Names>" + pair + pair + b"</Names>")
    outcome, fast = _same(doubled, NODE)
    assert outcome[0] == "error" and not fast  # a key given twice
