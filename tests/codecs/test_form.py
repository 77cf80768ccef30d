"""Tests for negotiate.codecs.form: ASP.NET keys, values, limits, charsets, round trips."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st
from strategies import carriers, check_normalised, mutated

from negotiate.codecs.form import FormCodec, form_key
from negotiate.codecs.json import JsonCodec
from negotiate.codecs.registry import CodecRegistry
from negotiate.codecs.xml import XmlCodec
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    NotAcceptable,
    UnsupportedMediaType,
)
from negotiate.media import MediaType
from negotiate.options import Options
from negotiate.schema import SCHEMAS, FieldType, Kind, Schema, get_schema

DATA = Path(__file__).parent.parent / "data"
# A whole carrier is a large draw: hypothesis discards draws that overrun its buffer (that is
# the "filtering" it reports), and generating them is slow; neither is the code under test.
BIG_DRAWS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
SAMPLE = (DATA / "superoffice" / "contact-sample.json").read_bytes()
CONTACT = get_schema("ContactEntity")
REQUEST = get_schema("EnrichContactEntityRequest")
PERSON = get_schema("Person")

form = FormCodec()
json_codec = JsonCodec()


def decode(body: str | bytes, schema: Schema = CONTACT, codec: FormCodec = form) -> Any:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return codec.decode(data, schema)


def error_of(
    body: str | bytes, schema: Schema = CONTACT, codec: FormCodec = form
) -> NegotiateError:
    with pytest.raises(NegotiateError) as info:
        decode(body, schema, codec)
    return info.value


# --- keys ----------------------------------------------------------------------------------------


def test_request_wrapper_keys() -> None:
    body = (
        "ContactEntity.Name=Acme+AS&ContactEntity.Persons[0].Firstname=Kari"
        "&ContactEntity.CustomFields[SuperOffice:1]=%5BI%3A123%5D&EnrichId=42"
    )
    value = decode(body, REQUEST)
    assert value["EnrichId"] == "42"
    entity = value["ContactEntity"]
    assert entity["Name"] == "Acme AS"
    assert entity["Persons"] == [PERSON.default() | {"Firstname": "Kari"}]
    assert entity["CustomFields"] == {"SuperOffice:1": "[I:123]"}
    assert list(entity) == list(CONTACT.names)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Persons[0].Firstname=Kari&Persons[0].Rank=2", id="asp.net"),
        pytest.param("Persons[0][Firstname]=Kari&Persons[0][Rank]=2", id="jquery"),
        pytest.param("Persons%5B0%5D.Firstname=Kari&Persons%5B0%5D%5BRank%5D=2", id="escaped"),
        pytest.param(
            "ContactEntity.Persons[0].Firstname=Kari&ContactEntity[Persons][0][Rank]=2",
            id="carrier name as prefix",
        ),
        pytest.param("persons[0].FIRSTNAME=Kari&Persons[0].rank=2", id="any case"),
    ],
)
def test_key_styles(body: str) -> None:
    assert decode(body)["Persons"] == [PERSON.default() | {"Firstname": "Kari", "Rank": 2}]


def test_unknown_keys_follow_the_policy() -> None:
    assert decode("Nickname=x&Persons[0].Shoe=42&Name=a")["Name"] == "a"
    error = error_of("Persons[0].Shoe=42", codec=FormCodec(Options(unknown="error")))
    assert error.location == "Persons[0].Shoe" and "Unknown property 'Shoe' for Person" in str(
        error
    )


# --- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("Name=", {"Name": ""}, id="empty string"),
        pytest.param("Name=+a%20b+", {"Name": " a b "}, id="plus and percent"),
        pytest.param("Name=%C3%98st%E2%82%AC", {"Name": "Øst€"}, id="utf-8"),
        pytest.param("Name=%0D%0Ax", {"Name": "\r\nx"}, id="carriage return kept"),
        pytest.param("Name=a%26b%3Dc", {"Name": "a&b=c"}, id="escaped separators"),
        pytest.param("Name", {"Name": ""}, id="key without equals sign"),
        pytest.param("&&Name=a&", {"Name": "a"}, id="empty pairs skipped"),
        pytest.param("ContactId=&Xstop=&UpdatedDate=", {}, id="empty value types not given"),
        pytest.param("ContactId=42", {"ContactId": 42}, id="int32"),
        pytest.param("ContactId=-7", {"ContactId": -7}, id="negative int32"),
        pytest.param(
            "Xstop=TRUE&NoMailing=on",
            {"Xstop": True, "NoMailing": True},
            id="bool any case, checkbox on",
        ),
        pytest.param("Xstop=true&Xstop=false", {"Xstop": True}, id="MVC checkbox pair"),
        pytest.param("Xstop=false", {"Xstop": False}, id="unchecked MVC checkbox"),
        pytest.param(
            "UpdatedDate=2015-11-08T11%3A24%3A47.8282933%2B01%3A00",
            {"UpdatedDate": "2015-11-08T11:24:47.8282933+01:00"},
            id="date-time exact",
        ),
        pytest.param(
            "TableRight.Mask=select%2C+update",
            {"TableRight": {"Mask": "Select, Update", "Reason": None}},
            id="flags by comma",
        ),
        pytest.param(
            "TableRight.Mask=Select+Update",
            {"TableRight": {"Mask": "Select, Update", "Reason": None}},
            id="flags by space",
        ),
        pytest.param(
            "TableRight.Mask=3",
            {"TableRight": {"Mask": "UR", "Reason": None}},
            id="flags by number",
        ),
        pytest.param(
            "Address.Wgs84Latitude=59.91",
            {"Address": get_schema("Address").default() | {"Wgs84Latitude": 59.91}},
            id="double",
        ),
        pytest.param("UpdatedBy=", {}, id="empty carrier is not given"),
    ],
)
def test_values(body: str, expected: dict[str, Any]) -> None:
    assert decode(body) == CONTACT.default() | expected


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        pytest.param("ContactId=abc", "ContactId", "Expected int32, got 'abc'", id="int32"),
        pytest.param("ContactId=2147483648", "ContactId", "out of range", id="int32 range"),
        pytest.param("Persons[0].Rank=x", "Persons[0].Rank", "int32", id="located"),
        pytest.param("Xstop=yes", "Xstop", "bool", id="bool"),
        pytest.param("UpdatedDate=yesterday", "UpdatedDate", "date-time", id="date-time"),
        pytest.param("UpdatedBy.Type=Boss", "UpdatedBy.Type", "UserType", id="enum"),
        pytest.param(
            "Address.Wgs84Latitude=NaN", "Address.Wgs84Latitude", "double", id="NaN refused"
        ),
        pytest.param("Name=a&name=b", "name", "more than once", id="given twice"),
        pytest.param("Name.First=a", "Name.First", "has no part .First", id="scalar with parts"),
        pytest.param(
            "UpdatedBy=x", "UpdatedBy", "Expected Associate as properties", id="value for a carrier"
        ),
        pytest.param("Emails=x", "Emails", "indexed keys", id="value for a carrier array"),
        pytest.param(
            "CustomFields=x", "CustomFields", "[key] entries", id="value for a dictionary"
        ),
        pytest.param("Name=x&Name.First=a", "Name.First", "has no part", id="value and parts"),
        pytest.param(
            "Persons[0]=x",
            "Persons[0]",
            "Expected Person as properties",
            id="value for a carrier item",
        ),
    ],
)
def test_value_errors_are_located(body: str, location: str, message: str) -> None:
    error = error_of(body)
    assert isinstance(error, InvalidValue) and error.status == 400
    assert error.location == location
    assert message in str(error)


# --- arrays --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("Domains=a&Domains=b", ["a", "b"], id="repeated keys"),
        pytest.param("Domains=a&Domains=&Domains=b", ["a", "b"], id="empty inputs skipped"),
        pytest.param("Domains=", [], id="one empty input: empty array"),
        pytest.param("Domains[1]=b&Domains[0]=", ["", "b"], id="indexed, any order"),
        pytest.param("Domains[]=a&Domains[]=", ["a", ""], id="jquery append"),
        pytest.param("Domains[00]=a", ["a"], id="leading zero"),
    ],
)
def test_string_arrays(body: str, expected: list[str]) -> None:
    assert decode(body)["Domains"] == expected


def test_carrier_arrays() -> None:
    element = get_schema("EntityElement").default()
    assert decode("Emails=")["Emails"] == []
    assert decode("Emails[0]=")["Emails"] == [None]
    assert decode("Emails[0]=&Emails[1].Value=x")["Emails"] == [None, element | {"Value": "x"}]
    assert decode("Emails[0]=&Emails[0].Value=x")["Emails"] == [element | {"Value": "x"}]
    localized = decode("Address.LocalizedAddress[0][0].Name=n&Address.LocalizedAddress[1]=")
    assert localized["Address"]["LocalizedAddress"] == [
        [get_schema("LocalizedField").default() | {"Name": "n"}],
        [],
    ]


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        pytest.param(
            "Persons[999999999].Firstname=x",
            "Persons[999999999].Firstname",
            "over the limit",
            id="huge index",
        ),
        pytest.param(
            "Persons[99999999999999999999999].Firstname=x",
            "Persons[99999999999999999999999].Firstname",
            "over the limit",
            id="absurd index",
        ),
        pytest.param("Persons[1].Firstname=x", "Persons[0]", "[0] is missing", id="gap"),
        pytest.param(
            "Persons[0].Firstname=x&Persons[2].Firstname=y",
            "Persons[1]",
            "[1] is missing",
            id="gap in the middle",
        ),
        pytest.param(
            "Persons[-1].Firstname=x", "Persons[-1].Firstname", "array index", id="negative index"
        ),
        pytest.param(
            "Persons[a].Firstname=x", "Persons[a].Firstname", "array index", id="not a number"
        ),
        pytest.param(
            "Persons.Firstname=x",
            "Persons.Firstname",
            "Expected an index",
            id="dotted name on an array",
        ),
        pytest.param(
            "Persons[].Firstname=x", "Persons[].Firstname", "only appends", id="append with parts"
        ),
        pytest.param("Domains=a&Domains[0]=b", "Domains[0]", "mixes", id="repeated then indexed"),
        pytest.param("Domains[0]=a&Domains[]=b", "Domains[]", "mixes", id="indexed then append"),
        pytest.param("Domains[]=a&Domains=b", "Domains", "mixes", id="append then repeated"),
        pytest.param("Domains[0]=a&Domains[0]=b", "Domains[0]", "more than once", id="index twice"),
    ],
)
def test_array_errors(body: str, location: str, message: str) -> None:
    error = error_of(body)
    assert error.status == 400
    assert error.location == location
    assert message in str(error)


def test_items_are_limited() -> None:
    codec = FormCodec(Options(max_items=3))
    assert decode("Domains=a&Domains=b&Domains=c", codec=codec)["Domains"] == ["a", "b", "c"]
    for body in (
        "Domains=a&Domains=b&Domains=c&Domains=d",
        "Domains[]=a&Domains[]=b&Domains[]=c&Domains[]=d",
        "Domains[3]=d",
        "CustomFields[a]=1&CustomFields[b]=2&CustomFields[c]=3&CustomFields[d]=4",
    ):
        error = error_of(body, codec=codec)
        assert error.status == 400 and "limit" in str(error), body


def test_depth_is_limited() -> None:
    codec = FormCodec(Options(max_depth=3))
    key = "Interests[0]" + ".ChildItems[0]" * 5 + ".Name"
    error = error_of(f"{key}=x", codec=codec)
    assert error.status == 400 and "deeper than the limit of 3" in str(error)
    assert error.location == key


# --- dictionaries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "CustomFields[SuperOffice:1]=a&CustomFields[x.y]=",
            {"SuperOffice:1": "a", "x.y": ""},
            id="bracket keys",
        ),
        pytest.param("CustomFields[]=v", {"": "v"}, id="empty key"),
        pytest.param(
            "CustomFields[0].Key=a]b&CustomFields[0].Value=1&CustomFields[x].key=c"
            "&CustomFields[x].VALUE=",
            {"a]b": "1", "c": ""},
            id="asp.net pairs",
        ),
        pytest.param("CustomFields[k].Key=only", {"only": None}, id="pair without value"),
        pytest.param("CustomFields=", {}, id="empty dictionary"),
        pytest.param(
            "CustomFields[a]=1&CustomFields[0].Key=b&CustomFields[0].Value=2",
            {"a": "1", "b": "2"},
            id="both styles",
        ),
    ],
)
def test_string_dictionaries(body: str, expected: dict[str, Any]) -> None:
    assert decode(body)["CustomFields"] == expected


def test_field_properties() -> None:
    body = (
        "FieldProperties[Name].FieldType=System.String&FieldProperties[Name].FieldLength=99"
        "&FieldProperties[Name].FieldRight.Mask=Read%2C+Write&FieldProperties[Gone]="
        "&FieldProperties[0].Key=a]b&FieldProperties[0].Value.FieldLength=1"
    )
    properties = decode(body)["FieldProperties"]
    assert properties == {
        "Name": {
            "FieldRight": {"Mask": "Read, Write", "Reason": None},
            "FieldType": "System.String",
            "FieldLength": 99,
        },
        "Gone": None,
        "a]b": {"FieldRight": None, "FieldType": None, "FieldLength": 1},
    }


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        pytest.param(
            "CustomFields[0].Value=1",
            "CustomFields[0].Key",
            "needs its .Key",
            id="pair without key",
        ),
        pytest.param(
            "CustomFields[a]=1&CustomFields[0].Key=a",
            "CustomFields[0].Key",
            "more than once",
            id="same key twice",
        ),
        pytest.param(
            "CustomFields[0].Key=a&CustomFields[0].Key=b",
            "CustomFields[0].Key",
            "more than once",
            id="pair key twice",
        ),
        pytest.param(
            "CustomFields[a]=1&CustomFields[a]=2",
            "CustomFields[a]",
            "more than once",
            id="entry twice",
        ),
        pytest.param("CustomFields.a=1", "CustomFields.a", "Expected [key]", id="dotted"),
        pytest.param(
            "CustomFields[a].b=1",
            "CustomFields[a].b",
            "has no part .b",
            id="string value with parts",
        ),
        pytest.param(
            "FieldProperties[a]=x",
            "FieldProperties[a]",
            "as properties",
            id="value for a carrier value",
        ),
    ],
)
def test_dictionary_errors(body: str, location: str, message: str) -> None:
    error = error_of(body)
    assert error.status == 400
    assert error.location == location
    assert message in str(error)


# --- bytes and charsets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        pytest.param(b"Name=%zz", "Name", "'%zz' in the value", id="bad escape in value"),
        pytest.param(b"Name=%4", "Name", "'%4' in the value", id="short escape"),
        pytest.param(b"Na%me=1", "Na%me", "in the key", id="bad escape in key"),
        pytest.param(b"Name=%C3%28", "Name", "not valid utf-8", id="invalid utf-8 escaped"),
        pytest.param(b"Name=\xff", "Name", "not valid utf-8", id="invalid utf-8 raw"),
        pytest.param(b"N%FFame=1", "N\xffame", "key is not valid utf-8", id="invalid key"),
        pytest.param(b"Name[=1", "Name[", "without its ']'", id="unclosed bracket"),
        pytest.param(b"[Name]=1", "[Name]", "starts with '['", id="leading bracket"),
        pytest.param(b"Name..x=1", "Name..x", "empty name", id="empty name"),
        pytest.param(b"Persons[0]x=1", "Persons[0]x", "expected '.' or '['", id="junk"),
        pytest.param(b"Name]=1", "Name]", "']' without its '['", id="stray bracket"),
    ],
)
def test_malformed_bodies_name_the_key(body: bytes, location: str, message: str) -> None:
    error = error_of(body)
    assert isinstance(error, MalformedBody) and error.status == 400
    assert error.location == location
    assert message in str(error)


@pytest.mark.parametrize(
    ("charset", "body", "name"),
    [
        pytest.param("utf-8", "Name=%C3%98st", "Øst", id="utf-8"),
        pytest.param("iso-8859-1", "Name=%D8st", "Øst", id="latin-1 escaped"),
        pytest.param("ISO-8859-1", b"Name=\xd8st", "Øst", id="latin-1 raw"),
        pytest.param("windows-1252", "Name=%80", "€", id="windows-1252"),
        pytest.param("us-ascii", "Name=abc", "abc", id="ascii"),
    ],
)
def test_charset_is_honoured(charset: str, body: str | bytes, name: str) -> None:
    data = body.encode() if isinstance(body, str) else body
    media = MediaType.parse(f"application/x-www-form-urlencoded; charset={charset}")
    assert form.decode(data, CONTACT, media_type=media)["Name"] == name


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "klingon", "rot13"])
def test_unsupported_charsets(charset: str) -> None:
    media = MediaType.parse(f"application/x-www-form-urlencoded; charset={charset}")
    message = f"Unsupported charset '{charset}' for a form (it must be ASCII-compatible)"
    with pytest.raises(UnsupportedMediaType, match=re.escape(message)):
        form.decode(b"Name=x", CONTACT, media_type=media)


def test_empty_body_is_the_default() -> None:
    assert form.decode(b"", CONTACT) == CONTACT.default()


# --- encoding ------------------------------------------------------------------------------------


def test_encode_writes_keys_in_declaration_order() -> None:
    value = CONTACT.default() | {
        "Name": "Acme & Søn",
        "Department": "",
        "Persons": [PERSON.default() | {"Firstname": "Kari"}],
        "BounceEmails": [],
        "Domains": ["a", None],
        "CustomFields": {"SuperOffice:1": "[I:1]"},
        "TableRight": {"Mask": "Select, Update", "Reason": None},
    }
    body = form.encode(value, CONTACT).decode("ascii")
    pairs = parse_qsl(body, keep_blank_values=True)
    keys = [key for key, _ in pairs]
    assert keys[:4] == ["ContactId", "Name", "Department", "UpdatedDate"]
    assert ("Name", "Acme & Søn") in pairs and ("Department", "") in pairs
    assert "OrgNr" not in keys  # null
    assert "Persons[0].Firstname" in keys and "Persons[0].PersonId" in keys
    assert ("BounceEmails", "") in pairs
    assert ("Domains[0]", "a") in pairs and ("Domains[1]", "") in pairs
    assert ("CustomFields[SuperOffice:1]", "[I:1]") in pairs
    assert ("TableRight.Mask", "Select, Update") in pairs
    top = [k.split(".")[0].split("[")[0] for k in keys]
    assert sorted(set(top), key=top.index) == [n for n in CONTACT.names if n in top]


def test_encode_escapes_like_whatwg() -> None:
    value = get_schema("EntityElement").default() | {"Value": "a b*-._~!'()[]&=+%/é"}
    body = form.encode(value, get_schema("EntityElement"))
    assert body == b"Value=a+b*-._%7E%21%27%28%29%5B%5D%26%3D%2B%25%2F%C3%A9"


def test_encode_dictionary_keys_with_a_bracket_use_pairs() -> None:
    value = CONTACT.default() | {"CustomFields": {"a]b": "1", "c": None}}
    pairs = parse_qsl(form.encode(value, CONTACT).decode(), keep_blank_values=True)
    assert [p for p in pairs if p[0].startswith("CustomFields")] == [
        ("CustomFields[0].Key", "a]b"),
        ("CustomFields[0].Value", "1"),
        ("CustomFields[1].Key", "c"),
        ("CustomFields[1].Value", ""),
    ]


def test_encode_request_wrapper() -> None:
    value = {"ContactEntity": CONTACT.default() | {"Name": "x"}, "EnrichId": "7"}
    body = form.encode(value, REQUEST).decode()
    assert body.startswith("ContactEntity.ContactId=0&ContactEntity.Name=x&")
    assert body.endswith("&EnrichId=7")
    assert decode(body, REQUEST) == value


SURROGATE = "A string holds a lone surrogate, which UTF-8 cannot carry"


@pytest.mark.parametrize(
    ("value", "location", "message"),
    [
        pytest.param(
            {"ContactId": "x"}, "/ContactId", "Expected int32, got str 'x'", id="wrong type"
        ),
        pytest.param(
            {"Persons": [{"Rank": 1.5}]},
            "/Persons/0/Rank",
            "Expected int32, got float 1.5",
            id="nested",
        ),
        pytest.param(
            {"Address": {"Wgs84Latitude": float("inf")}},
            "/Address/Wgs84Latitude",
            "Expected double, got float inf",
            id="infinite double",
        ),
        pytest.param(
            {"Persons": [{"Lastname": "a\ud800"}]},
            "/Persons/0/Lastname",
            SURROGATE,
            id="lone surrogate",
        ),
        pytest.param(
            {"CustomFields": {"\udfff": "v"}},
            "/CustomFields/\udfff",
            SURROGATE,
            id="lone surrogate in a key",
        ),
    ],
)
def test_encode_errors(value: dict[str, Any], location: str, message: str) -> None:
    with pytest.raises(EncodeError, match=re.escape(message)) as info:
        form.encode(CONTACT.default() | value, CONTACT)
    assert info.value.location == location


def test_encode_normalises_loose_values() -> None:
    loose = {"name": "x", "PERSONS": [{"firstname": "y"}]}
    assert decode(form.encode(loose, CONTACT)) == CONTACT.normalize(loose)


def test_form_key_translates_pointers() -> None:
    assert form_key(CONTACT, "/Persons/0/Rank") == "Persons[0].Rank"
    assert form_key(CONTACT, "/CustomFields/a~1b") == "CustomFields[a/b]"
    assert form_key(CONTACT, "/Address/LocalizedAddress/1/0/Name") == (
        "Address.LocalizedAddress[1][0].Name"
    )
    assert form_key(CONTACT, "") == ""


# --- without a schema ----------------------------------------------------------------------------


def test_plain_decode_and_encode() -> None:
    value = form.decode(b"a=1&b=x+y&a=2&c=", None)
    assert value == {"a": ["1", "2"], "b": "x y", "c": ""}
    assert form.encode(value, None) == b"a=1&a=2&b=x+y&c="
    assert form.encode({"n": 1.5, "t": True, "z": None}, None) == b"n=1.5&t=true&z="
    with pytest.raises(EncodeError, match="Cannot write object as a form value - at /a"):
        form.encode({"a": {"b": 1}}, None)
    with pytest.raises(EncodeError, match="written from a dict, got array"):
        form.encode(["a"], None)
    with pytest.raises(EncodeError, match=SURROGATE) as info:
        form.encode({"a": ["x", "\ud800"]}, None)
    assert info.value.location == "/a"


# --- in a registry -------------------------------------------------------------------------------


def test_form_is_read_but_not_offered() -> None:
    registry = CodecRegistry([JsonCodec(), XmlCodec(), FormCodec()])
    codec, media_type = registry.for_content_type("application/x-www-form-urlencoded")
    assert isinstance(codec, FormCodec)
    assert codec.content_type(media_type.essence) == "application/x-www-form-urlencoded"
    assert "application/x-www-form-urlencoded" not in registry.response_types
    with pytest.raises(NotAcceptable, match="'application/x-www-form-urlencoded'"):
        registry.for_accept("application/x-www-form-urlencoded")


def test_sample_round_trips() -> None:
    value = json_codec.decode(SAMPLE, CONTACT)
    assert decode(form.encode(value, CONTACT)) == value


# --- round trips over every carrier --------------------------------------------------------------


def as_form_reads_it(value: Any, ftype: FieldType, root: bool = False) -> Any:
    """What a form can carry of ``value``: the three documented losses, applied bottom-up.

    A form field has no null, so (1) a null string item or string dictionary value is
    written ``Key=`` and reads back as ``""``; (2) a null item of an array of arrays is
    written ``Key=`` and reads back as ``[]``; (3) a carrier whose every property is null
    has no key to write and reads back as null (the root excepted: an empty body is the
    default, which is that same all-null carrier).
    """
    kind = ftype.kind
    if value is None:
        return None
    if kind is Kind.CARRIER:
        schema = ftype.schema
        out = {f.name: as_form_reads_it(value[f.name], f.type) for f in schema.fields}
        if not root and all(v is None for v in out.values()):
            return None
        return out
    if kind in (Kind.ARRAY, Kind.DICT):
        item = ftype.item
        assert item is not None
        if item.kind is Kind.STRING:
            blank: Any = ""
        elif item.kind is Kind.ARRAY:
            blank = []
        else:
            blank = None
        if kind is Kind.ARRAY:
            return [blank if x is None else as_form_reads_it(x, item) for x in value]
        return {k: blank if x is None else as_form_reads_it(x, item) for k, x in value.items()}
    return value


LARGE = {"ContactEntity", "EnrichContactEntityRequest"}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_carrier_round_trips(name: str) -> None:
    schema = SCHEMAS[name]
    ftype = FieldType(Kind.CARRIER, carrier=name)

    # NOTE: drawing whole ContactEntity values is the slow part (hypothesis, not the codec).
    @settings(
        max_examples=25 if name in LARGE else 100,
        deadline=None,
        suppress_health_check=BIG_DRAWS,
    )
    @given(value=carriers(schema, 2))
    def check(value: dict[str, Any]) -> None:
        expected = as_form_reads_it(value, ftype, root=True)
        decoded = form.decode(form.encode(value, schema), schema)
        assert decoded == expected
        assert list(decoded) == list(schema.names)
        # a value the form can carry goes through unchanged, JSON -> form -> JSON
        source = json_codec.encode(expected, schema)
        through = form.encode(json_codec.decode(source, schema), schema)
        assert (
            json_codec.decode(json_codec.encode(form.decode(through, schema), schema), schema)
            == expected
        )

    check()


def test_projection_is_not_vacuous() -> None:
    # The three losses really happen, and nothing else is lost.
    element = get_schema("EntityElement")
    value = CONTACT.default() | {
        "Emails": [{n: None for n in element.names}],
        "Domains": [None],
        "CustomFields": {"k": None},
        "Address": get_schema("Address").default() | {"LocalizedAddress": [None]},
        "UtmParameters": {n: None for n in get_schema("SavedUtmParameters").names},
    }
    decoded = decode(form.encode(value, CONTACT))
    assert decoded["Emails"] == [None]
    assert decoded["Domains"] == [""]
    assert decoded["CustomFields"] == {"k": ""}
    assert decoded["Address"]["LocalizedAddress"] == [[]]
    assert decoded["UtmParameters"] is None
    assert decoded == as_form_reads_it(
        value, FieldType(Kind.CARRIER, carrier="ContactEntity"), root=True
    )


# --- fuzz: random and damaged bodies -------------------------------------------------------------

# Tokens spliced into valid bodies: separators, escapes, indices and names.
FORM_TOKENS = (
    b"&",
    b"=",
    b"+",
    b"%",
    b"%zz",
    b"%C3",
    b"%00",
    b"[0]",
    b"[1]",
    b"[99999]",
    b"[]",
    b".",
    b"ContactEntity.",
    b"Persons[0].Firstname=x",
    b"CustomFields[k]=v",
    b"true",
    b"-2147483649",
    b"NaN",
)


def form_bodies(schema: Schema) -> Any:
    """Random bytes, and encoded ``schema`` carriers with a few random edits."""
    return st.one_of(
        st.binary(max_size=200),
        carriers(schema, depth=2)
        .map(lambda value: form.encode(value, schema))
        .flatmap(lambda body: mutated(body, FORM_TOKENS)),
    )


# Bodies that decode, so the success branch below is exercised on every run.
@example(body=b"")
@example(body=b"name=x&Emails[0].value=a%40b.no&Category.Id=5&NoMailing=true")
@example(body=b"ContactEntity.Name=x&EnrichId=NO-1&ContactEntity.Persons[0].Firstname=%C3%85se")
@settings(max_examples=100, suppress_health_check=BIG_DRAWS)
@given(body=form_bodies(CONTACT))
def test_arbitrary_bytes_decode_to_a_normalised_carrier_or_a_client_error(body: bytes) -> None:
    for schema in (CONTACT, REQUEST, None):
        name = schema.name if schema is not None else "no schema"
        try:
            value = form.decode(body, schema)
        except NegotiateError as error:
            assert error.status in (400, 413, 415), error
            assert isinstance(error.location, str), error
            event(f"{name}: refused with {error.status}")
            continue
        event(f"{name}: decoded")
        if schema is None:
            if not body.strip():
                assert value is None  # an empty body without a schema
                continue
            assert type(value) is dict
            # NOTE: a body of separators only ("&") is {}, which is written as the empty
            # body, which reads as None without a schema: the one schemaless loss.
            assert form.decode(form.encode(value, None), None) == (value or None)
            continue
        check_normalised(schema, value)
        assert schema.normalize(value) == value
        again = form.decode(form.encode(value, schema), schema)
        assert again == as_form_reads_it(value, FieldType(Kind.CARRIER, carrier=schema.name), True)
        assert list(again) == list(schema.names)


@pytest.mark.parametrize(
    "key",
    [b"Persons[99999999].Firstname", b"Persons[x", b"Name%zz", b"Name[0]"],
)
def test_a_refused_key_is_a_fresh_error_each_time(key: bytes) -> None:
    # A memoised exception raised by every request that sends the key would grow
    # its traceback (and keep each request's body alive) and be shared by threads.
    codec = FormCodec()
    errors = []
    for _ in range(3):
        with pytest.raises(NegotiateError) as info:
            codec.decode(key + b"=1&Name=x", CONTACT)
        errors.append(info.value)
    assert len({id(error) for error in errors}) == 3
    assert len({str(error) for error in errors}) == 1
    frames = 0
    tb = errors[-1].__traceback__
    while tb is not None:
        frames, tb = frames + 1, tb.tb_next
    assert frames < 10
