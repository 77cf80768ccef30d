"""The JSON codec: round trips, charsets, limits and every kind of bad input."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import event, example, given, settings, strategies as st
from strategies import carriers, check_normalised, mutated

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
from negotiate.schema import SCHEMAS, Schema, get_schema

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


# Format tokens spliced into valid bodies: structure, escapes and values at the edges.
JSON_TOKENS = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"1e309",
    b"-0",
    b"2147483648",
    b"5.0",
    b'"\\ud800"',
    b"\xef\xbb\xbf",
    b'"name":',
)


def json_bodies(schema: Schema) -> st.SearchStrategy[bytes]:
    """Random bytes and text, and encoded ``schema`` carriers with a few random edits."""
    return st.one_of(
        st.binary(max_size=200),
        st.text(max_size=100).map(str.encode),
        carriers(schema, depth=2)
        .map(lambda value: CODEC.encode(value, schema))
        .flatmap(lambda body: mutated(body, JSON_TOKENS)),
    )


def check_error(error: NegotiateError) -> None:
    """A decoder's refusal is the client's fault (400, 413 or 415), with a location."""
    assert error.status in (400, 413, 415), error
    assert isinstance(error.location, str), error


def check_decoded(schema: Schema | None, value: Any, source: Any) -> None:
    """``value`` is normalised (without asking the schema, then asking it) and survives a
    round trip through the codec unchanged, order included."""
    if schema is not None:
        check_normalised(schema, value, source)
        assert schema.normalize(value) == value
    again = CODEC.decode(CODEC.encode(value, schema), schema)
    assert again == value
    if schema is not None:
        assert list(again) == list(schema.names)  # as written: declaration order


# Bodies that decode, so the success branch below is exercised on every run.
@example(body=b"{}")
@example(body=b'{"name": "x", "Emails": [{"value": "a@b.no"}], "Category": {"Id": 5.0}}')
@example(body=codecs.BOM_UTF8 + b'{"ContactEntity": {"Name": "\xc3\x98st"}, "EnrichId": "NO-1"}')
@example(body=(DATA / "contact-sample.json").read_bytes())
@settings(max_examples=200)
@given(body=json_bodies(CONTACT))
def test_arbitrary_bytes_decode_to_a_normalised_carrier_or_a_client_error(body: bytes) -> None:
    try:
        source = CODEC.decode(body, None)
    except NegotiateError as error:
        check_error(error)
        source = None
    for schema in (CONTACT, REQUEST, None):
        name = schema.name if schema is not None else "no schema"
        try:
            value = CODEC.decode(body, schema)
        except NegotiateError as error:
            check_error(error)
            event(f"{name}: refused with {error.status}")
            continue
        event(f"{name}: decoded")
        check_decoded(schema, value, source)


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


@example(value={"ContactId": 7, "name": "x", "x": [1]})
@settings(max_examples=300)
@given(value=JSON_VALUES)
def test_arbitrary_json_decodes_to_a_normalised_carrier_or_a_client_error(value: Any) -> None:
    try:
        body = orjson.dumps(value)
    except TypeError:
        return  # integers past 64 bits: orjson cannot write them, nothing to test
    try:
        decoded = CODEC.decode(body, CONTACT)
    except NegotiateError as error:
        check_error(error)
        event(f"refused with {error.status}")
        return
    event("decoded")
    check_decoded(CONTACT, decoded, value)


def test_the_shape_check_refuses_what_is_not_normalised(sample: dict[str, Any]) -> None:
    check_normalised(CONTACT, sample)
    reordered = dict(reversed(list(sample.items())))
    check_normalised(CONTACT, reordered, source=reordered)  # JSON may keep a full dict's order
    address, associate = CONTACT.field("Address"), CONTACT.field("Associate")
    assert address is not None and associate is not None
    user = associate.type.schema.default()
    broken = [
        (reordered, "not in declaration order"),
        ({k: v for k, v in sample.items() if k != "Name"}, "keys"),
        (sample | {"Extra": 1}, "keys"),
        (sample | {"ContactId": True}, "/ContactId: int32 True"),
        (sample | {"ContactId": 2**31}, "/ContactId: int32 2147483648"),
        (sample | {"NoMailing": None}, "/NoMailing: bool None"),
        (sample | {"UpdatedDate": "2019-02-30T00:00:00"}, "/UpdatedDate: date-time"),
        (sample | {"Emails": [{"Value": "a"}]}, "/Emails/0: keys"),
        (sample | {"UserDefinedFields": {"k": 1}}, "/UserDefinedFields/k: string 1"),
        (
            sample | {"Address": address.type.schema.default() | {"Wgs84Latitude": 1}},
            "/Address/Wgs84Latitude: double 1",
        ),
        (sample | {"Associate": user | {"Type": "internalassociate"}}, "/Associate/Type: enum"),
        (sample | {"Associate": user | {"Type": 1}}, "/Associate/Type: enum UserType 1"),
    ]
    for value, message in broken:
        with pytest.raises(AssertionError, match=re.escape(message)):
            check_normalised(CONTACT, value)
