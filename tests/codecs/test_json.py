"""The JSON codec: round trips, charsets, limits and every kind of bad input."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from strategies import carriers

from negotiate.codecs import JsonCodec
from negotiate.errors import (
    BodyTooLarge,
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    UnsupportedMediaType,
)
from negotiate.media import MediaType
from negotiate.options import Options
from negotiate.schema import SCHEMAS, get_schema

DATA = Path(__file__).parent.parent / "data" / "superoffice"
CONTACT = get_schema("ContactEntity")
REQUEST = get_schema("EnrichContactEntityRequest")
CODEC = JsonCodec()


def media(text: str) -> MediaType:
    return MediaType.parse(text)


@pytest.mark.parametrize("name", ["contact-sample.json", "contact-large.json"])
def test_samples_round_trip_json_value_json(name: str) -> None:
    raw = (DATA / name).read_bytes()
    value = CODEC.decode(raw, CONTACT)
    encoded = CODEC.encode(value, CONTACT)
    assert CODEC.decode(encoded, CONTACT) == value
    # Every property of the original survives with its exact value (date-times
    # with 7 fractional digits included); only missing fields were added.
    assert contained(orjson.loads(raw), orjson.loads(encoded))


def contained(part: Any, whole: Any) -> bool:
    """Whether every property of ``part`` is in ``whole`` with the same value
    (an empty object stands for the default instance the schema fills in)."""
    if isinstance(part, dict):
        return all(contained(v, whole[k]) for k, v in part.items())
    if isinstance(part, list):
        return len(part) == len(whole) and all(map(contained, part, whole))
    return bool(part == whole)


def test_encode_writes_declaration_order() -> None:
    value = CODEC.decode(b'{"Name": "Acme", "ContactId": 1}', CONTACT)
    assert list(orjson.loads(CODEC.encode(value, CONTACT))) == list(CONTACT.names)


def test_the_reference_page_sample_request_decodes() -> None:
    body = b'{\n  "ContactEntity": null,\n  "EnrichId": "qui"\n}'
    value = CODEC.decode(body, REQUEST, media_type=media("application/json; charset=utf-8"))
    assert value == {"ContactEntity": None, "EnrichId": "qui"}


@pytest.mark.parametrize("name", list(SCHEMAS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_carrier_round_trips(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    value = data.draw(carriers(schema, depth=2))
    assert CODEC.decode(CODEC.encode(value, schema), schema) == value


def test_empty_body_is_the_default_value() -> None:
    assert CODEC.decode(b"", CONTACT) == CONTACT.default()
    assert CODEC.decode(b"  \r\n", CONTACT) == CONTACT.default()
    assert CODEC.decode(b"", None) is None


def test_schemaless_decode_is_plain_data() -> None:
    assert CODEC.decode(b'{"a": [1, {"b": null}]}', None) == {"a": [1, {"b": None}]}


# -- charsets ------------------------------------------------------------------


def test_utf8_bom_is_tolerated() -> None:
    body = codecs.BOM_UTF8 + '{"Name": "Ørsted"}'.encode()
    assert CODEC.decode(body, CONTACT)["Name"] == "Ørsted"
    assert (
        CODEC.decode(body, CONTACT, media_type=media("application/json;charset=UTF-8"))["Name"]
        == "Ørsted"
    )


@pytest.mark.parametrize("charset", ["utf-16", "utf-16le", "utf-16be", "utf-32", "UTF-32LE"])
def test_declared_utf16_and_utf32_are_transcoded(charset: str) -> None:
    body = '{"Name": "Ærø 東京"}'.encode(charset)
    value = CODEC.decode(body, CONTACT, media_type=media(f"application/json; charset={charset}"))
    assert value["Name"] == "Ærø 東京"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_are_recognised_by_their_bom(encoding: str) -> None:
    body = '{"Name": "Ærø"}'.encode(encoding)  # Python writes the BOM for these
    assert CODEC.decode(body, CONTACT)["Name"] == "Ærø"


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "koi8-r", "bogus"])
def test_other_charsets_are_415(charset: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="charset") as info:
        CODEC.decode(b"{}", CONTACT, media_type=media(f"application/json; charset={charset}"))
    assert info.value.status == 415


def test_bad_utf16_is_400() -> None:
    with pytest.raises(MalformedBody, match="utf-16"):
        CODEC.decode(b"{\x00\x00", CONTACT, media_type=media("application/json; charset=utf-16le"))


# -- bad input: the list ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "status", "location", "message"),
    [
        (b'{"Name": "Acme", "Persons": [', MalformedBody, 400, "", "Malformed JSON"),
        (b'{"Name": 5}', InvalidValue, 400, "/Name", "Expected string, got int 5"),
        (b'{"Persons": [{"Rank": "high"}]}', InvalidValue, 400, "/Persons/0/Rank", "int32"),
        (b'{"ContactId": 2147483648}', InvalidValue, 400, "/ContactId", "out of range"),
        (b'{"ContactId": 99999999999999999999999}', InvalidValue, 400, "/ContactId", "int32"),
        (b'{"Name": "\xff\xfe"}', MalformedBody, 400, "", "UTF-8"),
        (b'{"Name": "\\ud800"}', MalformedBody, 400, "", "Malformed JSON"),
        (b"[1, 2]", InvalidValue, 400, "", "Expected ContactEntity object, got array"),
        (b"NaN", MalformedBody, 400, "", "Malformed JSON"),
        (b'{"a": 1} trailing', MalformedBody, 400, "", "Malformed JSON"),
    ],
    ids=[
        "truncated",
        "wrong-type",
        "wrong-type-nested",
        "int32-overflow",
        "huge-integer",
        "invalid-utf8",
        "lone-surrogate",
        "not-an-object",
        "nan",
        "trailing-data",
    ],
)
def test_bad_input_gets_the_right_typed_error(
    body: bytes, error: type[NegotiateError], status: int, location: str, message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        CODEC.decode(body, CONTACT)
    assert type(info.value) is error
    assert info.value.status == status
    assert info.value.location == location


@pytest.mark.parametrize("schema", [CONTACT, None], ids=["schema", "schemaless"])
def test_ten_thousand_deep_nesting_is_400(schema: Any) -> None:
    body = b"[" * 10_000 + b"]" * 10_000
    with pytest.raises(MalformedBody, match="Malformed JSON: depth limit exceeded"):
        CODEC.decode(body, schema)
    nested = b'{"Interests": [' + b'{"ChildItems": [' * 500 + b"]}" * 500 + b"]}"
    with pytest.raises(InvalidValue, match="deeper than the limit"):
        CODEC.decode(nested, CONTACT)


def test_schemaless_depth_limit_is_located() -> None:
    body = b'{"a": ' * 10 + b"1" + b"}" * 10
    with pytest.raises(InvalidValue, match="limit of 5") as info:
        JsonCodec(Options(max_depth=5)).decode(body, None)
    assert info.value.location == "/a/a/a/a/a"


def test_a_100_mb_body_is_413_without_being_parsed() -> None:
    body = b" " * (100 * 1024 * 1024)
    with pytest.raises(BodyTooLarge) as info:
        CODEC.decode(body, CONTACT)
    assert info.value.status == 413
    assert info.value.to_dict()["Limit"] == Options().max_body


def test_encode_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(EncodeError, match="Cannot write JSON: Type is not JSON serializable"):
        CODEC.encode({"Name": object()}, CONTACT)
    with pytest.raises(EncodeError, match="Cannot write JSON: Dict key must be str"):
        CODEC.encode({1: "non-string key"}, None)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200) | st.text(max_size=100).map(str.encode))
def test_arbitrary_bytes_never_escape_as_anything_but_negotiate_error(body: bytes) -> None:
    for schema in (CONTACT, REQUEST, None):
        try:
            CODEC.decode(body, schema)
        except NegotiateError:
            pass


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(CONTACT.names + ("x", "name")), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_arbitrary_json_never_escapes_as_anything_but_negotiate_error(value: Any) -> None:
    try:
        body = orjson.dumps(value)
    except TypeError:
        return  # integers past 64 bits: orjson cannot write them, nothing to test
    try:
        CODEC.decode(body, CONTACT)
    except NegotiateError:
        pass
