"""The fast XML writer (``_FastWriterSource``) against the reference writer, byte for byte.

``XmlCodec.encode`` writes with the fast writer: start and end tags passed down, string
fields in three f-string slots, the escape check of a carrier's strings at once, carriage
returns escaped in the whole document, small ints from a table, and the C0 check as one
memchr per byte value. The reference is the writer it replaced (``_written``) assembled
as ``encode`` did before, with the spec's regex (``_INVALID_XML``) as the document check.
Random carriers (the vocabulary's random declarations, and the catalogue's ContactEntity)
carry text with what must be escaped and what XML 1.0 cannot carry at all; the two must
give the same bytes, or the same ``EncodeError`` at the same place.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from negotiate._codegen import SlowPath
from negotiate.codecs.xml import XmlCodec
from negotiate.codecs.xml.fast_write import (
    _FAST_SOURCES,
    _INTS,
    _KNOWN_DOUBLES,
    _KNOWN_LIMIT,
    _fast_written,
)
from negotiate.codecs.xml.names import _NIL
from negotiate.codecs.xml.write import (
    _INVALID_XML,
    _MEMCHR_FROM,
    _find_invalid,
    _has_c0,
    _utf8_xml,
    _written,
)
from negotiate.errors import EncodeError
from negotiate.schema import FieldType, Kind, Schema, get_schema, schema_of
from negotiate.schema.values import DECIMAL_MAX, INT64_MAX, INT64_MIN
from tests.test_vocabulary import declarations

CONTACT = get_schema("ContactEntity")
CODECS = [
    XmlCodec(),
    XmlCodec(namespace="urn:one & only"),
    XmlCodec(namespace=None),
]

# What XML 1.0 cannot carry (each refused), what the writer escapes, and the rest.
_REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ud800", "\udfff"]
_REFUSED += ["\ufffe", "\uffff"]
_ESCAPED = ["&", "<", ">", "\r", "\r\n", "&amp;", "]]>", "&#13;"]
_PLAIN = ["a", "Z", " ", '"', "'", "\t", "\n", "\x7f", "é", "Ø", "\u2013", "東", "\U0001f600"]
_PLAIN += ["{", "}", "\\", "%s", "i:nil", "</Name>", "1024"]
_CLEAN = st.lists(st.sampled_from(_PLAIN + _ESCAPED), max_size=12).map("".join)
_HOSTILE = st.lists(st.sampled_from(_PLAIN + _ESCAPED + _REFUSED), max_size=12).map("".join)
TEXT = st.one_of(st.just(""), _CLEAN, _CLEAN, _CLEAN, _HOSTILE)
KEYS = st.one_of(_CLEAN.filter(bool), st.sampled_from(["SuperOffice:1", "<k&>", "\r"]), _HOSTILE)
# Ints at the edges of the table of small ints, and of int32 and int64.
INT32 = st.one_of(
    st.sampled_from([-1, 0, 1, 1023, 1024, 1025, -(2**31), 2**31 - 1]),
    st.integers(-(2**31), 2**31 - 1),
)
INT64 = st.one_of(
    st.sampled_from([-1, 0, 1023, 1024, INT64_MIN, INT64_MAX]), st.integers(INT64_MIN, INT64_MAX)
)
DATETIMES = ["0001-01-01T00:00:00", "2024-02-29T23:59:59.1234567+01:00", "1999-12-31T00:00Z"]


def values(ftype: FieldType, depth: int = 3, top: bool = True) -> st.SearchStrategy[Any]:
    """Normalised values of ``ftype`` (null where the type allows it), nested at most
    ``depth`` containers deep; their strings and keys from :data:`TEXT` and :data:`KEYS`."""
    kind = ftype.kind
    found: st.SearchStrategy[Any]
    if kind is Kind.INT32:
        found = INT32
    elif kind is Kind.INT64:
        found = INT64
    elif kind is Kind.DOUBLE:
        found = st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f + 0.0)
    elif kind is Kind.DECIMAL:
        found = st.builds(
            lambda c, s: Decimal(c).scaleb(-s),
            st.integers(-DECIMAL_MAX, DECIMAL_MAX),
            st.integers(0, 28),
        )
    elif kind is Kind.BOOL:
        found = st.booleans()
    elif kind is Kind.STRING:
        found = TEXT
    elif kind is Kind.BYTES:
        found = st.binary(max_size=12)
    elif kind is Kind.DATETIME:
        found = st.sampled_from(DATETIMES)
    elif kind is Kind.GUID:
        found = st.uuids().map(str)
    elif kind is Kind.ENUM:
        assert ftype.enum is not None
        names = list(ftype.enum.values)
        if ftype.enum.flags:
            found = st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)
            found = found.map(", ".join).map(ftype.enum.normalize)
        else:
            found = st.sampled_from(names)
    elif depth <= 0:
        found = st.none() if kind is Kind.CARRIER else st.just([] if kind is Kind.ARRAY else {})
    elif kind is Kind.CARRIER:
        schema = ftype.schema
        found = st.fixed_dictionaries({f.name: values(f.type, depth - 1) for f in schema.fields})
    else:
        assert ftype.item is not None
        item = values(ftype.item, depth - 1, top=False)
        if kind is Kind.ARRAY:
            found = st.lists(item, max_size=3)
        else:
            found = st.dictionaries(KEYS, item, max_size=3)
    if (top or kind is not Kind.CARRIER) and ftype.may_be_null:
        return st.one_of(st.none(), found)
    return found


def reference(codec: XmlCodec, value: Any, schema: Schema) -> bytes:
    """``XmlCodec.encode`` as it was before the fast writer: the reference writer's
    content in the root element, the spec's regex as the document check."""
    name = schema.xml_name
    writer, extra = _written(schema, codec._per_carrier)
    declarations = codec._root_declarations(schema, extra)
    if value is None:
        return f"<{name}{declarations}{_NIL}".encode()
    try:
        content = writer(value)
    except (SlowPath, KeyError, TypeError, AttributeError, RecursionError):
        value = codec._normalized(value, schema)
        try:
            content = writer(value)
        except (SlowPath, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise EncodeError(f"Cannot write {name} as XML: {exc!r}") from None
    text = f"<{name}{declarations}>{content}</{name}>"
    if _INVALID_XML.search(text):
        raise EncodeError(
            "A string holds a character XML 1.0 cannot carry",
            location=_find_invalid(value) or "",
        )
    return text.encode("utf-8")


def outcome(write: Callable[..., bytes], *args: Any) -> Any:
    """The bytes ``write(*args)`` wrote, or the error's type, status, message and location."""
    try:
        return write(*args)
    except EncodeError as exc:
        return (type(exc), exc.status, exc.message, exc.location)


def assert_same(value: Any, schema: Schema) -> None:
    for codec in CODECS:
        fast = outcome(codec.encode, value, schema)
        assert fast == outcome(reference, codec, value, schema), codec.namespace
        if isinstance(fast, bytes) and value is not None:
            assert codec.decode(fast, schema) == schema.normalize(value)


@st.composite
def random_carriers(draw: st.DrawFn) -> tuple[Schema, Any]:
    schema = schema_of(draw(declarations()))
    return schema, draw(values(schema.root_type, top=False))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=random_carriers())
def test_random_carriers_are_written_as_the_reference_writes_them(
    drawn: tuple[Schema, Any],
) -> None:
    schema, value = drawn
    assert_same(value, schema)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values(CONTACT.root_type, depth=3, top=False))
def test_random_contacts_are_written_as_the_reference_writes_them(value: Any) -> None:
    assert_same(value, CONTACT)


def _loosened(value: Any, draw: st.DrawFn) -> Any:
    """``value`` with one thing a normaliser puts right (or refuses) somewhere in it."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value, key=str)))
        change = draw(st.sampled_from(["case", "drop", "extra", "float", "str", "deeper"]))
        out = dict(value)
        if change == "case" and isinstance(key, str):
            out[key.swapcase()] = out.pop(key)
        elif change == "drop":
            del out[key]
        elif change == "extra":
            out["Unknown"] = 1
        elif change == "float" and type(out[key]) is int:
            out[key] = float(out[key])
        elif change == "str":
            out[key] = draw(st.sampled_from([1, 1.5, True, b"x", ["a"], {"a": 1}, "a&b\r"]))
        else:
            out[key] = _loosened(out[key], draw)
        return out
    if isinstance(value, list) and value:
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], _loosened(value[index], draw), *value[index + 1 :]]
    return value


@st.composite
def loose_carriers(draw: st.DrawFn) -> tuple[Schema, Any]:
    schema, value = draw(random_carriers())
    return schema, _loosened(value, draw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=loose_carriers())
def test_values_not_normalised_are_normalised_or_refused_as_by_the_reference(
    drawn: tuple[Schema, Any],
) -> None:
    schema, value = drawn
    for codec in CODECS:
        fast = outcome(codec.encode, value, schema)
        assert fast == outcome(reference, codec, value, schema), codec.namespace


def test_a_str_subclass_is_refused_as_the_reference_refuses_it() -> None:
    class Text(str):
        def __format__(self, spec: str) -> str:
            return "formatted"

    for key in ("Name", "Department"):  # the first string field, and one checked with others
        value = {**CONTACT.default(), key: Text("x")}
        assert_same(value, CONTACT)
        with pytest.raises(EncodeError):
            XmlCodec().encode(value, CONTACT)


def test_the_benches_answers_are_written_as_the_reference_writes_them() -> None:
    from benches.data import FIXTURES

    for fixture in FIXTURES:
        assert_same(fixture.value, CONTACT)
    assert_same(CONTACT.default(), CONTACT)
    assert_same(None, CONTACT)


def test_the_fast_writers_code_is_kept_and_named() -> None:
    writer, _ = _fast_written(CONTACT)
    source = _FAST_SOURCES[CONTACT].source
    assert "def carrier_ContactEntity(d, o, c):" in source
    assert "s0 = ints[s0]" in source and "    elif '&' in t:" in source
    assert writer(CONTACT.default(), "<C>", "</C>").startswith("<C><ContactId>0</ContactId>")
    with pytest.raises(SlowPath):
        writer({}, "", "")  # not a carrier: the codec's signal to normalise first


def test_the_table_of_small_ints_is_their_text() -> None:
    assert _INTS == tuple(str(number) for number in range(len(_INTS)))


_DOCUMENT_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(max_codepoint=0x7F), max_size=40),
        st.text(st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF), max_size=5),
        st.sampled_from(_REFUSED + ["\t", "\n", "\r", "\x7f", "\x20"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_DOCUMENT_TEXT)
def test_the_document_check_refuses_exactly_what_xml_cannot_carry_at_any_length(
    text: str,
) -> None:
    # NOTE: texts on both sides of _MEMCHR_FROM, and of the 15 characters past which
    # ``in`` takes memchr
    for padded in (text, text + "x" * _MEMCHR_FROM, "x" * _MEMCHR_FROM + text):
        refused = _INVALID_XML.search(padded) is not None
        found = _utf8_xml(padded)
        assert (found is None) == refused
        if not refused:
            assert found == padded.encode("utf-8")


@pytest.mark.parametrize("byte", range(256))
def test_the_c0_check_refuses_each_control_but_tab_lf_and_cr(byte: int) -> None:
    refused = byte < 0x20 and byte not in (0x09, 0x0A, 0x0D)
    # NOTE: short (one pass of translate) and long (memchr), the byte first, inside, last
    for pad in (b"", b"x" * 40, b"x" * _MEMCHR_FROM):
        for data in (bytes([byte]) + pad, pad + bytes([byte]) + pad, pad + bytes([byte])):
            assert _has_c0(data) is refused


def test_a_carriage_return_is_escaped_wherever_text_is_written() -> None:
    value = CONTACT.default()
    value["Name"] = "a\rb"
    value["UserDefinedFields"] = {"k\r": "v\r"}
    value["BounceEmails"] = ["x\ry"]
    body = XmlCodec().encode(value, CONTACT)
    assert b"\r" not in body and body.count(b"&#13;") == 4
    assert body == reference(XmlCodec(), value, CONTACT)


def test_a_namespace_is_escaped_once_in_the_root_start_tag() -> None:
    codec = XmlCodec(namespace="urn:a&b\r<c>")
    body = codec.encode(CONTACT.default(), CONTACT)
    assert body.startswith(b'<ContactEntity xmlns:i="http://www.w3.org/2001/XMLSchema-instance"')
    assert b'xmlns="urn:a&amp;b&#13;&lt;c&gt;"' in body
    assert body == reference(codec, CONTACT.default(), CONTACT)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6))
def test_a_double_written_again_is_written_alike(numbers: list[float]) -> None:
    # NOTE: each twice, and its negation and both zeros after it (0.0 == -0.0 as keys)
    value = CONTACT.default()
    address = get_schema("Address").default()
    for number in [*numbers, *(-n for n in numbers), 0.0, -0.0, *numbers, -0.0, 0.0]:
        address["Wgs84Latitude"] = number
        assert_same({**value, "Address": address}, CONTACT)


def test_the_texts_of_doubles_stay_bounded() -> None:
    address = get_schema("Address").default()
    for number in range(_KNOWN_LIMIT + 10):
        address["Wgs84Longitude"] = number + 0.5
        XmlCodec().encode({**CONTACT.default(), "Address": address}, CONTACT)
    assert 0 < len(_KNOWN_DOUBLES) <= _KNOWN_LIMIT
    assert _KNOWN_DOUBLES[_KNOWN_LIMIT + 9.5] == repr(_KNOWN_LIMIT + 9.5)


@pytest.mark.parametrize(
    "mask",
    ["Select, Update", "Update, Select", "Select,Update", "select", "None", "Full", "FULL", "R"]
    + ["Select, Insert, Delete", "Read"],
)
def test_a_flag_enum_is_written_as_the_reference_writes_it_cold_and_warm(mask: str) -> None:
    value = {**CONTACT.default(), "TableRight": {"Mask": mask, "Reason": "r"}}
    for _ in range(2):
        assert_same(value, CONTACT)
