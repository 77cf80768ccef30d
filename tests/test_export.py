"""Schema export: our own output validates against our own JSON Schema, OpenAPI and XSD.

For every catalogue carrier, the JSON and XML our codecs write (the sample contact,
``Schema.default()``, generated carriers) validates against the export; the exports
are themselves valid (Draft 2020-12, OpenAPI 3.1, XSD as lxml loads it); the
date-time grammar is exactly :func:`check_datetime`'s; and values the codecs would
never write (out of range, misspelt, out of order) are refused.
"""

from __future__ import annotations

import enum
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, TypedDict

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from jsonschema import Draft202012Validator, ValidationError
from lxml import etree
from openapi_spec_validator import validate as validate_openapi
from strategies import carriers

from negotiate.codecs import JsonCodec, XmlCodec, xml as xml_codec
from negotiate.schema import (
    DATACONTRACT_NAMESPACE,
    SCHEMAS,
    Field,
    FieldType,
    Kind,
    Schema,
    carriers as catalogue,
    get_schema,
    schema_of,
)
from negotiate.schema.export import (
    ARRAYS_NAMESPACE,
    SERVICES88_NAMESPACE,
    export,
    json_schema,
    openapi_components,
    openapi_document,
    xml_schema,
    xsd,
    xsd_documents,
)
from negotiate.schema.values import EnumSpec, check_datetime

ROOT = Path(__file__).resolve().parent
SAMPLE = ROOT / "data" / "superoffice" / "contact-sample.json"
LARGE = ROOT / "data" / "superoffice" / "contact-large.json"
CONTACT = get_schema("ContactEntity")
NAMES = list(SCHEMAS)
JSON = JsonCodec()
XML = XmlCodec()


def field_type(carrier: str, name: str) -> FieldType:
    found = get_schema(carrier).field(name)
    assert found is not None
    return found.type


USER_TYPE = field_type("Associate", "Type")  # a plain enum
FIELD_RIGHT = field_type("FieldRight", "Mask")  # a flag enum


@cache
def json_validator(name: str) -> Draft202012Validator:
    document = json_schema(SCHEMAS[name])
    return Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def xml_validator(name: str) -> etree.XMLSchema:
    return xml_schema(SCHEMAS[name])


def check_json(validator: Draft202012Validator, body: bytes) -> None:
    errors = sorted(validator.iter_errors(orjson.loads(body)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:3]]


def check_xml(validator: etree.XMLSchema, body: bytes) -> None:
    document = etree.fromstring(body)
    assert validator.validate(document), str(validator.error_log)


def leaf_paths(validator: Draft202012Validator, instance: Any) -> list[list[Any]]:
    """The absolute paths of every error, the branches of ``anyOf`` included."""
    found: list[list[Any]] = []
    stack: list[ValidationError] = list(validator.iter_errors(instance))
    while stack:
        error = stack.pop()
        found.append(list(error.absolute_path))
        stack.extend(error.context or [])
    return found


def sample() -> dict[str, Any]:
    value: dict[str, Any] = JSON.decode(SAMPLE.read_bytes(), CONTACT)
    return value


def full() -> dict[str, Any]:
    """The sample with what it leaves null filled in: an address, table rights."""
    value = sample()
    address = get_schema("Address").default()
    address["Street"] = get_schema("StructuredAddress").default()
    address["Wgs84Latitude"] = 59.91
    value["Address"] = address
    value["TableRight"] = {"Mask": "Select, Update", "Reason": ""}
    return value


# -- the exports are what their standards say --------------------------------------------


def test_namespaces_are_the_xml_codecs() -> None:
    assert SERVICES88_NAMESPACE == xml_codec.SERVICES88_NAMESPACE
    assert ARRAYS_NAMESPACE == xml_codec.ARRAYS_NAMESPACE


@pytest.mark.parametrize("name", NAMES)
def test_json_schema_is_draft_2020_12(name: str) -> None:
    document = json_schema(SCHEMAS[name])
    Draft202012Validator.check_schema(document, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert document["$ref"] == f"#/$defs/{name}"
    assert next(iter(document["$defs"])) == name  # the root first


@pytest.mark.parametrize("name", NAMES)
def test_openapi_document_is_valid_openapi_3_1(name: str) -> None:
    document = openapi_document(SCHEMAS[name], version="9.9")
    validate_openapi(document)
    assert document["info"] == {"title": name, "version": "9.9"}
    assert document["components"] == openapi_components(SCHEMAS[name])


def test_openapi_components_are_the_json_schema_defs_by_another_path() -> None:
    components = openapi_components(CONTACT)["schemas"]
    defs = json_schema(CONTACT)["$defs"]
    assert list(components) == list(defs)
    text = orjson.dumps(defs).decode().replace("#/$defs/", "#/components/schemas/")
    assert orjson.loads(text) == components


@pytest.mark.parametrize("name", NAMES)
def test_xsd_loads(name: str) -> None:
    documents = xsd_documents(SCHEMAS[name])
    assert next(iter(documents)) == SERVICES88_NAMESPACE
    assert documents[SERVICES88_NAMESPACE] == xsd(SCHEMAS[name])
    for namespace, data in documents.items():
        root = etree.fromstring(data)
        assert root.tag == "{http://www.w3.org/2001/XMLSchema}schema"
        assert root.get("targetNamespace") == namespace
        assert root.get("elementFormDefault") == "qualified"
    xml_validator(name)


def test_xsd_documents_saved_side_by_side_load_from_disk(tmp_path: Path) -> None:
    documents = xsd_documents(CONTACT)
    assert list(documents) == [SERVICES88_NAMESPACE, ARRAYS_NAMESPACE]
    main = etree.fromstring(documents[SERVICES88_NAMESPACE])
    imports = main.findall("{http://www.w3.org/2001/XMLSchema}import")
    assert [(i.get("namespace"), i.get("schemaLocation")) for i in imports] == [
        (ARRAYS_NAMESPACE, "Arrays.xsd")
    ]
    (tmp_path / "Services88.xsd").write_bytes(documents[SERVICES88_NAMESPACE])
    (tmp_path / "Arrays.xsd").write_bytes(documents[ARRAYS_NAMESPACE])
    validator = etree.XMLSchema(etree.parse(str(tmp_path / "Services88.xsd")))
    check_xml(validator, XML.encode(sample(), CONTACT))


def test_a_carrier_without_string_arrays_is_one_document() -> None:
    documents = xsd_documents(get_schema("TableRight"))
    assert list(documents) == [SERVICES88_NAMESPACE]
    assert ARRAYS_NAMESPACE.encode() not in documents[SERVICES88_NAMESPACE]


def test_xsd_is_in_datacontract_shape() -> None:
    root = etree.fromstring(xsd(CONTACT))
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    sequence = root.find("xs:complexType[@name='ContactEntity']/xs:sequence", ns)
    assert sequence is not None
    elements = {e.get("name"): dict(e.attrib) for e in sequence}
    assert [e.get("name") for e in sequence] == list(CONTACT.names)
    assert elements["ContactId"] == {"name": "ContactId", "type": "xs:int"}
    assert elements["Name"] == {
        "minOccurs": "0",
        "name": "Name",
        "nillable": "true",
        "type": "xs:string",
    }
    assert elements["Emails"]["type"] == "tns:ArrayOfEntityElement"
    assert elements["BounceEmails"]["type"] == "q1:ArrayOfstring"
    assert elements["UserDefinedFields"]["type"] == "tns:StringDictionary"
    assert elements["FieldProperties"]["type"] == "tns:FieldPropertyDictionary"
    pair = root.find("xs:complexType[@name='StringKeyValuePair']/xs:sequence", ns)
    assert pair is not None and [e.get("name") for e in pair] == ["Key", "Value"]
    flags = root.find("xs:simpleType[@name='EFieldRight']", ns)
    assert flags is not None and flags.find(".//xs:list", ns) is not None
    plain = root.find("xs:simpleType[@name='UserType']/xs:restriction", ns)
    assert plain is not None
    assert [e.get("value") for e in plain] == list(
        get_schema("Associate").field("Type").type.enum.values
    )  # type: ignore[union-attr]
    globals_ = {e.get("name") for e in root.findall("xs:element", ns)}
    assert (
        set(SCHEMAS)
        - {"EnrichContactEntityRequest", "PreviewContact", "GetPreviewEnrichContactRequest"}
        <= globals_
    )


# -- our output validates ----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_defaults_validate(name: str) -> None:
    schema = SCHEMAS[name]
    check_json(json_validator(name), JSON.encode(schema.default(), schema))
    check_xml(xml_validator(name), XML.encode(schema.default(), schema))
    check_xml(xml_validator(name), XML.encode(None, schema))  # <X i:nil="true" />


@pytest.mark.parametrize("path", [SAMPLE, LARGE], ids=["sample", "large"])
def test_the_sample_contacts_validate(path: Path) -> None:
    value = JSON.decode(path.read_bytes(), CONTACT)
    check_json(json_validator("ContactEntity"), JSON.encode(value, CONTACT))
    check_xml(xml_validator("ContactEntity"), XML.encode(value, CONTACT))
    # and through XML and back, and in the request wrapper
    again = XML.decode(XML.encode(value, CONTACT), CONTACT)
    check_json(json_validator("ContactEntity"), JSON.encode(again, CONTACT))
    wrapper = get_schema("EnrichContactEntityRequest")
    request = {"ContactEntity": value, "EnrichId": "NO-800099668"}
    check_json(json_validator(wrapper.name), JSON.encode(request, wrapper))
    check_xml(xml_validator(wrapper.name), XML.encode(request, wrapper))


def test_the_sample_validates_against_the_openapi_components() -> None:
    document = {
        "$ref": "#/components/schemas/ContactEntity",
        "components": openapi_components(CONTACT),
    }
    check_json(Draft202012Validator(document), JSON.encode(sample(), CONTACT))
    bad = sample()
    bad["Persons"][0]["Rank"] = 2**31
    assert not Draft202012Validator(document).is_valid(bad)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15)
@given(data=st.data())
def test_generated_carriers_validate(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    value = data.draw(carriers(schema, depth=2))
    check_json(json_validator(name), JSON.encode(value, schema))
    check_xml(xml_validator(name), XML.encode(value, schema))


# Every kind as a field, an array item and a dictionary value, and nested containers:
# more than the catalogue uses (it has no array of ints, no dictionary of enums).
BASES = [
    FieldType(Kind.INT32),
    FieldType(Kind.DOUBLE),
    FieldType(Kind.BOOL),
    FieldType(Kind.STRING),
    FieldType(Kind.DATETIME),
    USER_TYPE,
    FIELD_RIGHT,
    FieldType(Kind.CARRIER, carrier="TableRight"),
]


def _every_kind() -> Schema:
    types = [*BASES]
    types += [FieldType(Kind.ARRAY, item=b) for b in BASES]
    types += [FieldType(Kind.DICT, item=b) for b in BASES]
    string, int32 = FieldType(Kind.STRING), FieldType(Kind.INT32)
    types += [
        FieldType(Kind.ARRAY, item=FieldType(Kind.ARRAY, item=string)),
        FieldType(Kind.ARRAY, item=FieldType(Kind.ARRAY, item=int32)),
        FieldType(Kind.ARRAY, item=FieldType(Kind.DICT, item=string)),
        FieldType(Kind.DICT, item=FieldType(Kind.ARRAY, item=string)),
        FieldType(Kind.DICT, item=FieldType(Kind.DICT, item=int32)),
        FieldType(Kind.ARRAY, item=FieldType(Kind.ARRAY, item=BASES[-1])),
    ]
    fields = tuple(Field(re.sub(r"\W", "_", t.spec), t, index) for index, t in enumerate(types))
    assert len({f.name for f in fields}) == len(fields)
    return Schema("EveryKind", fields)


EVERY_KIND = _every_kind()


@pytest.mark.parametrize("namespace", [SERVICES88_NAMESPACE, "urn:example:carriers", None])
@settings(max_examples=30)
@given(data=st.data())
def test_every_kind_validates(namespace: str | None, data: st.DataObject) -> None:
    value = data.draw(carriers(EVERY_KIND, depth=2))
    json_ok = Draft202012Validator(json_schema(EVERY_KIND))
    check_json(json_ok, JSON.encode(value, EVERY_KIND))
    body = XmlCodec(namespace=namespace).encode(value, EVERY_KIND)
    check_xml(_every_kind_xsd(namespace), body)


@cache
def _every_kind_xsd(namespace: str | None) -> etree.XMLSchema:
    return xml_schema(EVERY_KIND, namespace=namespace)


def test_the_no_namespace_xsd_has_no_target_namespace() -> None:
    documents = xsd_documents(EVERY_KIND, namespace=None)
    assert list(documents) == ["", ARRAYS_NAMESPACE]
    assert etree.fromstring(documents[""]).get("targetNamespace") is None
    check_xml(
        _every_kind_xsd(None), XmlCodec(namespace=None).encode(EVERY_KIND.default(), EVERY_KIND)
    )


def test_two_types_of_one_name_are_refused() -> None:
    clash = EnumSpec(enum.IntEnum("TableRight", {"A": 0}))
    schema = Schema(
        "Clash",
        (
            Field("Right", FieldType(Kind.CARRIER, carrier="TableRight"), 0),
            Field("Kind", FieldType(Kind.ENUM, enum=clash), 1),
        ),
    )
    with pytest.raises(ValueError, match="TableRight"):
        json_schema(schema)
    # In one namespace they clash; by carrier the carrier's type is in Services88's
    # document and the enum in Clash's (the DataContract default namespace).
    with pytest.raises(ValueError, match="TableRight"):
        xsd(schema, namespace=SERVICES88_NAMESPACE)
    documents = xsd_documents(schema)
    assert list(documents)[:2] == [DATACONTRACT_NAMESPACE, SERVICES88_NAMESPACE]


# -- the date-time grammar is check_datetime's ---------------------------------------------

LISTED = get_schema("SelectableMDOListItem")


def _accepted(text: str) -> bool:
    try:
        check_datetime(text)
    except ValueError:
        return False
    return True


@cache
def _datetime_json() -> Draft202012Validator:
    properties = json_schema(LISTED)["$defs"]["SelectableMDOListItem"]["properties"]
    return Draft202012Validator(properties["LastChanged"])


def _datetime_xml_ok(text: str) -> bool:
    body = XML.encode(LISTED.default(), LISTED).replace(
        b"<LastChanged>0001-01-01T00:00:00</LastChanged>",
        b"<LastChanged>" + text.encode() + b"</LastChanged>",
    )
    assert text.encode() in body
    return bool(xml_validator(LISTED.name).validate(etree.fromstring(body)))


DATES = [
    f"{year}-{month:02d}-{day:02d}"
    for year in ("0000", "0001", "0004", "0100", "0400", "1900", "2000", "2023", "2024", "9999")
    for month in range(14)
    for day in range(33)
]
TIMES = [
    "T00:00", "T23:59:59", "T24:00:00", "T12:60", "T12:00:60", "T1:00", "T12:00:00.",
    "T12:00:00.1", "T12:00:00.1234567", "T12:00:00.12345678", "T12:00.5", "T12:00:00Z",
    "T12:00:00+01:00", "T12:00:00-0500", "T12:00:00+14:59", "T12:00:00+15:00", "T12:00:00+1:00",
    "T12:00:00+01", "T12:00:00z", "T12:00:00Z\n", " T12:00", "t12:00", "T12:00:00.5+05:30",
    "T12:00:00 ", "T١٢:00",
]  # fmt: skip


def test_the_datetime_pattern_is_check_datetime_over_the_calendar() -> None:
    validator = _datetime_json()
    for date in DATES:
        text = date + "T00:00:00"
        expected = _accepted(text)
        assert validator.is_valid(text) is expected, text
        assert _datetime_xml_ok(text) is expected, text


@pytest.mark.parametrize("time", TIMES)
def test_the_datetime_pattern_is_check_datetime_over_times(time: str) -> None:
    for date in ("2024-02-29", "2023-02-29", "1999-12-31"):
        text = date + time
        expected = _accepted(text)
        assert _datetime_json().is_valid(text) is expected, repr(text)
        if "\n" not in text:  # XML would normalise the text; the codec never writes it
            assert _datetime_xml_ok(text.replace("&", "&amp;")) is expected, repr(text)


NEAR_DATETIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{0,8})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


@settings(max_examples=300)
@given(st.from_regex(NEAR_DATETIME, fullmatch=True))
def test_the_datetime_pattern_is_check_datetime(text: str) -> None:
    assert _datetime_json().is_valid(text) is _accepted(text)


# -- what the codecs never write is refused ----------------------------------------------


def _set(value: dict[str, Any], path: list[Any], new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


def _drop(value: dict[str, Any], path: list[Any]) -> None:
    for step in path[:-1]:
        value = value[step]
    del value[path[-1]]


MISSING = object()
BAD_JSON = [
    (["ContactId"], 2**31),
    (["ContactId"], -(2**31) - 1),
    (["ContactId"], 1.5),
    (["ContactId"], "1"),
    (["ContactId"], None),
    (["ContactId"], MISSING),
    (["NoMailing"], 0),
    (["NoMailing"], MISSING),
    (["Name"], 5),
    (["UpdatedDate"], "2023-02-29T00:00:00"),
    (["UpdatedDate"], "2015-11-08"),
    (["UpdatedDate"], "2015-11-08T11:24:47.82829330+01:00"),
    (["UpdatedDate"], "2015-11-08T11:24:47\n"),
    (["UpdatedDate"], None),
    (["Persons", 0, "Rank"], 2**31),
    (["Persons", 0], "Kari"),
    (["Address", "Wgs84Latitude"], "59.9"),
    (["Address", "Street", "AtypeIdx"], "Nowhere"),
    (["Address", "Street", "AtypeIdx"], "unknown"),  # the readers bind any case; we write one
    (["Address", "Street", "AtypeIdx"], 0),
    (["TableRight", "Mask"], "Read, Nothing"),
    (["TableRight", "Mask"], "Select Update"),  # XML's separator
    (["TableRight", "Mask"], "Select,Update"),
    (["TableRight", "Mask"], ""),
    (["TableRight", "Mask"], MISSING),
    (["UserDefinedFields"], ["a"]),
    (["UserDefinedFields", "SuperOffice:1"], 5),
    (["BounceEmails"], [5]),
    (["Emails"], {"Value": "a"}),
]


@pytest.mark.parametrize(("path", "new"), BAD_JSON, ids=lambda v: repr(v)[:40])
def test_json_schema_refuses(path: list[Any], new: Any) -> None:
    value = full()
    validator = json_validator("ContactEntity")
    check_json(validator, orjson.dumps(value))
    if new is MISSING:
        _drop(value, path)
        assert path[:-1] in leaf_paths(validator, value)  # "required" fails on the object
    else:
        _set(value, path, new)
        assert any(found[: len(path)] == path for found in leaf_paths(validator, value))


GOOD_JSON = [
    (["ContactId"], 2**31 - 1),
    (["ContactId"], -(2**31)),
    (["ContactId"], 5.0),  # an integral float is an integer, for both
    (["Name"], MISSING),  # a missing reference type reads as null
    (["Address", "Wgs84Latitude"], 59),
    (["Persons"], None),
    (["Persons", 0], None),
    (["TableRight"], {"Mask": "Select, Update, Select", "Reason": None}),
    (["TableRight"], {"Mask": "None", "Reason": None, "Unknown": 1}),  # unknown: ignored
    (["UpdatedDate"], "2024-02-29T23:59"),
    (["UpdatedDate"], "2003-11-08T03:46:54.5507645+01:00"),
]


@pytest.mark.parametrize(("path", "new"), GOOD_JSON, ids=lambda v: repr(v)[:40])
def test_json_schema_accepts_what_the_codec_reads(path: list[Any], new: Any) -> None:
    value = full()
    if new is MISSING:
        _drop(value, path)
    else:
        _set(value, path, new)
    assert not leaf_paths(json_validator("ContactEntity"), value)
    JSON.decode(orjson.dumps(value), CONTACT)  # and the codec reads it


def _xml(edit: Any) -> bytes:
    text = XML.encode(full(), CONTACT).decode()
    edited: str = edit(text)
    assert edited != text
    return edited.encode()


def _swap(first: str, second: str) -> Any:
    def edit(text: str) -> str:
        a = re.search(f"<{first}>.*?</{first}>|<{first} [^>]*/>", text)
        b = re.search(f"<{second}>.*?</{second}>|<{second} [^>]*/>", text)
        assert a and b and a.end() <= b.start()
        return text[: a.start()] + b[0] + text[a.end() : b.start()] + a[0] + text[b.end() :]

    return edit


BAD_XML = {
    "out of order": _swap("ContactId", "Name"),
    "out of order, nested": _swap("Firstname", "Lastname"),
    "missing value type": lambda t: re.sub("<ContactId>[^<]*</ContactId>", "", t, count=1),
    "nil value type": lambda t: re.sub(
        "<ContactId>[^<]*</ContactId>", '<ContactId i:nil="true" />', t, count=1
    ),
    "unknown element": lambda t: t.replace("<Name>", "<Nickname>x</Nickname><Name>", 1),
    "wrong case": lambda t: t.replace("<Name>", "<name>", 1).replace("</Name>", "</name>", 1),
    "int32 out of range": lambda t: re.sub(
        "<ContactId>[^<]*</ContactId>", "<ContactId>2147483648</ContactId>", t, count=1
    ),
    "bad bool": lambda t: re.sub("<NoMailing>[^<]*<", "<NoMailing>yes<", t, count=1),
    "bad date-time": lambda t: re.sub(
        "<UpdatedDate>[^<]*<", "<UpdatedDate>2023-02-29T00:00:00<", t, count=1
    ),
    "bad enum": lambda t: re.sub("<AtypeIdx>[^<]*<", "<AtypeIdx>Nowhere<", t, count=1),
    "flags with a comma": lambda t: t.replace(
        "<Mask>Select Update</Mask>", "<Mask>Select, Update</Mask>"
    ),
    "no flags": lambda t: t.replace("<Mask>Select Update</Mask>", "<Mask></Mask>"),
    "string item in the carriers' namespace": lambda t: re.sub(
        r"<BounceEmails[^>]*?(/>|>.*?</BounceEmails>)",
        "<BounceEmails><string>a</string></BounceEmails>",
        t,
    ),
    "array item misnamed": lambda t: t.replace("<EntityElement>", "<Email>", 1).replace(
        "</EntityElement>", "</Email>", 1
    ),
    "pair without a key": lambda t: re.sub("<Key>[^<]*</Key>", "", t, count=1),
    "wrong namespace": lambda t: t.replace(SERVICES88_NAMESPACE, SERVICES88_NAMESPACE + "x", 1),
}


@pytest.mark.parametrize("edit", list(BAD_XML.values()), ids=list(BAD_XML))
def test_xsd_refuses(edit: Any) -> None:
    validator = xml_validator("ContactEntity")
    check_xml(validator, XML.encode(full(), CONTACT))
    assert not validator.validate(etree.fromstring(_xml(edit)))


# -- export() ------------------------------------------------------------------------------


def test_export_writes_each_format() -> None:
    assert orjson.loads(export(CONTACT, "json-schema")) == json_schema(CONTACT)
    assert orjson.loads(export(CONTACT, "openapi")) == openapi_document(CONTACT)
    assert export(CONTACT, "xsd") == xsd(CONTACT)
    assert export(CONTACT, "json-schema").endswith(b"}\n")
    with pytest.raises(ValueError, match="unknown schema format"):
        export(CONTACT, "yaml")  # type: ignore[arg-type]


# -- carriers of several namespaces: one document each, as the XML codec writes them -------

Shade = enum.IntEnum("Shade", {"Light": 0, "Dark": 1})


class Address(TypedDict):  # named like the catalogue's, in this module's namespace
    __datacontract_namespace__ = "urn:example:post"
    Street: str | None
    Shades: list[Annotated[str, Shade]] | None


class Depot(TypedDict):
    __datacontract_name__ = "Lager"
    __datacontract_namespace__ = "urn:example:depot"
    Id: int
    Home: Address | None
    Homes: list[Address | None] | None
    Theirs: catalogue.Address | None
    Theirses: list[catalogue.Address | None] | None
    Tags: list[str | None] | None
    Shade: Annotated[str, Shade]
    ByName: dict[str, Address | None] | None


def a_depot() -> dict[str, Any]:
    home = {"Street": "Bryggen 7", "Shades": ["Dark", "Light"]}
    theirs = {"Street": {"Address1": "Karl Johans gate 1"}, "Formatted": "Oslo"}
    return schema_of(Depot).normalize(
        {
            "Id": 3,
            "Home": home,
            "Homes": [home, None],
            "Theirs": theirs,
            "Theirses": [theirs],
            "Tags": ["a", None],
            "Shade": "Dark",
            "ByName": {"x": home, "y": None},
        }
    )


def test_an_xsd_document_per_carrier_namespace() -> None:
    depot = schema_of(Depot)
    documents = xsd_documents(depot)
    assert list(documents)[0] == "urn:example:depot"
    assert {"urn:example:post", SERVICES88_NAMESPACE, ARRAYS_NAMESPACE} <= set(documents)
    main = etree.fromstring(documents["urn:example:depot"])
    assert main.get("targetNamespace") == "urn:example:depot"
    imported = {i.get("namespace") for i in main.iter("{http://www.w3.org/2001/XMLSchema}import")}
    assert {"urn:example:post", SERVICES88_NAMESPACE} <= imported
    names = {
        ns: {e.get("name") for e in etree.fromstring(doc) if e.tag.endswith("complexType")}
        for ns, doc in documents.items()
    }
    assert "Lager" in names["urn:example:depot"] and "Depot" not in names["urn:example:depot"]
    # Two carriers named Address: one type in each namespace's document.
    assert {"Address", "ArrayOfAddress"} <= names["urn:example:post"]
    assert {"Address", "ArrayOfAddress"} <= names[SERVICES88_NAMESPACE]
    assert xsd(depot) == documents["urn:example:depot"]


def test_the_xml_of_carriers_of_several_namespaces_validates() -> None:
    depot = schema_of(Depot)
    value = a_depot()
    body = XML.encode(value, depot)
    root = etree.fromstring(body)
    assert root.tag == "{urn:example:depot}Lager"
    assert root.find("{urn:example:depot}Home/{urn:example:post}Street").text == "Bryggen 7"
    homes = root.find("{urn:example:depot}Homes")
    assert [e.tag for e in homes] == ["{urn:example:post}Address"] * 2
    theirs = root.find(f"{{urn:example:depot}}Theirs/{{{SERVICES88_NAMESPACE}}}Formatted")
    assert theirs is not None and theirs.text == "Oslo"
    check_xml(xml_schema(depot), body)
    check_xml(xml_schema(depot), XML.encode(depot.default(), depot))
    assert XML.decode(body, depot) == value
    # One namespace for all: both Address carriers cannot be defined in it.
    one = XmlCodec(namespace="urn:one").encode(value, depot)
    spaces = {etree.QName(e).namespace for e in etree.fromstring(one).iter()}
    assert spaces == {"urn:one", ARRAYS_NAMESPACE}  # string items: <d2p1:string>
    assert XML.decode(one, depot) == value
    with pytest.raises(ValueError, match="Address"):
        xsd(depot, namespace="urn:one")


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_depots_validate_against_the_export(data: st.DataObject) -> None:
    depot = schema_of(Depot)
    value = data.draw(carriers(depot, depth=2))
    body = XML.encode(value, depot)
    check_xml(_depot_xsd(), body)
    assert XML.decode(body, depot) == value


@cache
def _depot_xsd() -> etree.XMLSchema:
    return xml_schema(schema_of(Depot))
