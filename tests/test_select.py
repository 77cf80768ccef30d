"""``$select``: parsing, resolution, errors, projection, caching."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from strategies import carriers

from negotiate.codecs import JsonCodec, XmlCodec
from negotiate.errors import EncodeError, InvalidValue
from negotiate.schema import FieldType, Kind, Schema, get_schema
from negotiate.select import MAX_SELECT_LENGTH, Projector, compile_select, select

DATA = Path(__file__).parent / "data" / "superoffice"
CONTACT = get_schema("ContactEntity")


def sample(name: str = "contact-sample.json") -> dict[str, Any]:
    return CONTACT.normalize(orjson.loads((DATA / name).read_bytes()))


def with_category(value: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(value)
    value["Category"] = {
        "Id": 3,
        "Value": 'US:"Supplier";NO:"Leverandør";',
        "Tooltip": "Supplier of goods",
        "TableRight": None,
        "FieldProperties": {},
    }
    return value


# -- a reference projection, written from the rules, to check the generated code


def _inner(ftype: FieldType) -> FieldType:
    while ftype.kind in (Kind.ARRAY, Kind.DICT):
        assert ftype.item is not None
        ftype = ftype.item
    return ftype


def reference(schema: Schema, paths: list[list[str]], value: Any, nulls: bool = False) -> Any:
    """Project ``value`` by canonical paths (declared names), the slow obvious way."""
    if value is None or not paths or any(not p for p in paths):
        return value
    out = {}
    for field in schema.fields:
        rest = [p[1:] for p in paths if p[0] == field.name]
        if not rest:
            out[field.name] = None if nulls else field.type.default()
        elif any(not r for r in rest):
            out[field.name] = value[field.name]
        else:
            out[field.name] = _through(field.type, rest, value[field.name], nulls)
    return out


def _through(ftype: FieldType, paths: list[list[str]], value: Any, nulls: bool) -> Any:
    if value is None:
        return None
    if ftype.kind is Kind.CARRIER:
        return reference(ftype.schema, paths, value, nulls)
    assert ftype.item is not None
    if ftype.kind is Kind.ARRAY:
        return [_through(ftype.item, paths, x, nulls) for x in value]
    return {k: _through(ftype.item, paths, x, nulls) for k, x in value.items()}


def all_paths(schema: Schema, depth: int) -> list[str]:
    """Every valid selection path of ``schema`` up to ``depth`` segments."""
    out = []
    for field in schema.fields:
        out.append(field.name)
        inner = _inner(field.type)
        if depth > 1 and inner.kind is Kind.CARRIER:
            out.extend(f"{field.name}/{p}" for p in all_paths(inner.schema, depth - 1))
    return out


CONTACT_PATHS = all_paths(CONTACT, 3)


# -- the example ---------------------------------------------------------


@pytest.mark.parametrize("category", [False, True], ids=["seed-sample", "with-category"])
def test_name_department_category_id(category: bool) -> None:
    value = sample()
    if category:
        value = with_category(value)
    out = select(CONTACT, "name,department,category/id", value)
    assert list(out) == list(CONTACT.names)
    for field in CONTACT.fields:
        if field.name in ("Name", "Department"):
            assert out[field.name] == value[field.name]
        elif field.name == "Category":
            continue
        else:
            assert out[field.name] == field.type.default(), field.name
    if category:
        assert out["Category"] == {
            "Id": 3,
            "Value": None,
            "Tooltip": None,
            "TableRight": None,
            "FieldProperties": None,
        }
    else:
        assert out["Category"] is None
    # Value types are never null: the .NET defaults stand in for them.
    assert out["ContactId"] == 0 and out["NoMailing"] is False
    assert out["UpdatedDate"] == "0001-01-01T00:00:00"


def test_example_through_the_json_codec() -> None:
    value = with_category(sample())
    body = JsonCodec().encode(select(CONTACT, "Name,Department,Category/Id", value), CONTACT)
    decoded = orjson.loads(body)
    kept = {k: v for k, v in decoded.items() if v is not None and v != CONTACT.default()[k]}
    assert kept == {
        "Name": value["Name"],
        "Department": "",  # selected, and "" in the sample: not nulled
        "Category": {
            "Id": 3,
            "Value": None,
            "Tooltip": None,
            "TableRight": None,
            "FieldProperties": None,
        },
    }
    assert decoded["Persons"] is None and decoded["ContactId"] == 0


def test_example_through_the_xml_codec() -> None:
    value = with_category(sample())
    body = XmlCodec().encode(select(CONTACT, "Name,Department,Category/Id", value), CONTACT)
    text = body.decode("utf-8")
    assert "<ContactId>0</ContactId>" in text
    assert "<Department></Department>" in text
    for nulled in ("OrgNr", "Persons", "Emails", "Country", "UserDefinedFields"):
        assert re.search(f'<{nulled} i:nil="true" ?/>', text), nulled
    category = re.search("<Category>(.*)</Category>", text)
    assert category is not None
    assert category[1].startswith("<Id>3</Id>")
    assert re.search('<Value i:nil="true" ?/>', category[1])
    assert "<Name>Christiansen, Lehner and Reichel</Name>" in text


# -- the rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Name", "Name"),
        (" name , department ", "Name,Department"),
        ("NAME,DEPARTMENT", "Name,Department"),
        ("department,name", "Name,Department"),
        ("name,Name,NAME", "Name"),
        ("category/id", "Category/Id"),
        ("Category / Id", "Category/Id"),
        ("category,category/id", "Category"),
        ("category/id,category", "Category"),
        ("Category/*", "Category"),
        ("emails/value,emails/description", "Emails/Value,Emails/Description"),
        ("Address/LocalizedAddress/Name", "Address/LocalizedAddress/Name"),
        ("FieldProperties/FieldLength", "FieldProperties/FieldLength"),
        ("Interests/ChildItems/Name", "Interests/ChildItems/Name"),
        ("name,", "Name"),
        ("", "*"),
        ("   ", "*"),
        (",", "*"),
        ("*", "*"),
        ("name,*", "*"),
        ("*,category/id", "*"),
    ],
    ids=lambda v: repr(v),
)
def test_canonical_selection(text: str, canonical: str) -> None:
    projector = compile_select(CONTACT, text)
    assert projector.text == canonical
    assert projector.selects_all == (canonical == "*")


def test_select_all_returns_the_value_itself() -> None:
    value = sample()
    for text in ("", "*", " , "):
        assert select(CONTACT, text, value) is value


def test_bare_carrier_keeps_it_whole_and_shared() -> None:
    value = with_category(sample())
    out = select(CONTACT, "Category,Persons", value)
    assert out["Category"] is value["Category"]
    assert out["Persons"] is value["Persons"]
    assert out["Name"] is None


def test_path_through_an_array_applies_to_every_element() -> None:
    value = sample()
    assert value["Emails"], "the sample has e-mails to project"
    out = select(CONTACT, "Emails/Value", value)
    assert [e["Value"] for e in out["Emails"]] == [e["Value"] for e in value["Emails"]]
    for element in out["Emails"]:
        assert element == {
            "Value": element["Value"],
            "StrippedValue": None,
            "Description": None,
            "TableRight": None,
            "FieldProperties": None,
        }


def test_null_elements_of_an_array_stay_null() -> None:
    value = sample()
    value["Emails"] = [None, *value["Emails"]]
    out = select(CONTACT, "Emails/Value", value)
    assert out["Emails"][0] is None and len(out["Emails"]) == len(value["Emails"])


def test_path_through_a_jagged_array() -> None:
    address = {
        "LocalizedAddress": [
            [{"Name": "street", "Value": "Gate 1", "ValueLength": 40}, None],
            None,
            [],
        ]
    }
    value = CONTACT.normalize({"Address": address})
    out = select(CONTACT, "address/localizedaddress/name", value)
    rows = out["Address"]["LocalizedAddress"]
    assert rows[1] is None and rows[2] == []
    assert rows[0][1] is None
    assert rows[0][0]["Name"] == "street"
    assert rows[0][0]["Value"] is None and rows[0][0]["ValueLength"] == 0
    assert out["Address"]["Wgs84Latitude"] == 0.0


def test_path_through_a_dictionary_of_carriers() -> None:
    value = sample()
    out = select(CONTACT, "Emails/FieldProperties/FieldLength", value)
    props = out["Emails"][0]["FieldProperties"]
    assert props == {"fieldName": {"FieldRight": None, "FieldType": None, "FieldLength": 837}}


def test_null_value_types_option() -> None:
    value = with_category(sample())
    out = select(CONTACT, "Name,Category/Id", value, null_value_types=True)
    assert out["ContactId"] is None and out["NoMailing"] is None
    assert out["UpdatedDate"] is None
    assert out["Category"]["Id"] == 3 and out["Category"]["Value"] is None
    assert out["Name"] == value["Name"]


def test_projection_does_not_modify_the_value() -> None:
    value = with_category(sample("contact-large.json"))
    before = copy.deepcopy(value)
    select(CONTACT, "Name,Category/Id,Persons/Firstname,Emails", value)
    assert value == before


def test_none_projects_to_none() -> None:
    assert select(CONTACT, "Name", None) is None


def test_a_partial_dict_is_normalised_first() -> None:
    out = select(CONTACT, "Name,Category/Id", {"name": "Nordvik", "category": {"id": 7}})
    assert out["Name"] == "Nordvik" and out["Category"]["Id"] == 7
    assert list(out) == list(CONTACT.names)


@pytest.mark.parametrize(
    "value",
    [
        {"ContactId": "not a number"},
        {"Category": "not a carrier"},
        {"Emails": {"not": "an array"}},
        ["not", "a", "carrier"],
        "text",
    ],
    ids=["bad-int", "bad-carrier", "bad-array", "list", "str"],
)
def test_an_invalid_value_is_an_encode_error(value: Any) -> None:
    with pytest.raises(EncodeError) as info:
        select(CONTACT, "Name,Category/Id,Emails/Value", value)
    assert info.value.status == 500
    assert "ContactEntity" in info.value.message


def test_compiled_once_and_shared_between_spellings() -> None:
    first = compile_select(CONTACT, "name, category/id")
    assert compile_select(CONTACT, "name, category/id") is first
    assert compile_select(CONTACT, "Category/Id,NAME") is first
    assert compile_select(CONTACT, "name, category/id", null_value_types=True) is not first
    assert isinstance(first, Projector) and first.source.startswith("def ")
    assert repr(first) == "Projector(ContactEntity, 'Name,Category/Id')"


def test_other_carriers() -> None:
    person = get_schema("Person")
    value = person.normalize({"Firstname": "Åse", "Lastname": "Nordvik", "Rank": 3})
    out = compile_select(person, "firstname,rank")(value)
    assert out["Firstname"] == "Åse" and out["Rank"] == 3 and out["Lastname"] is None


# -- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment", "suggestions"),
    [
        ("Nmae", "'Nmae'", ["Name"]),
        ("name,Departmnt", "'Departmnt'", ["Department"]),
        ("Category/Idd", "'Idd'", ["Id"]),
        ("Emails/Valeu", "'Valeu'", ["Value"]),
        ("Name/First", "through ContactEntity.Name", ["Name"]),
        ("ContactId/x", "through ContactEntity.ContactId", ["ContactId"]),
        ("UserDefinedFields/x", "dict:string", ["UserDefinedFields"]),
        ("BounceEmails/x", "array:string", ["BounceEmails"]),
        ("Name/*", "through ContactEntity.Name", ["Name"]),
        ("Category//Id", "Empty segment", None),
        ("/Name", "Empty segment", None),
        ("Name/", "Empty segment", None),
        ("*/Name", "'*' must end", None),
        ("Category/*/Id", "'*' must end", None),
    ],
    ids=lambda v: repr(v),
)
def test_invalid_selection(text: str, fragment: str, suggestions: list[str] | None) -> None:
    with pytest.raises(InvalidValue) as info:
        compile_select(CONTACT, text)
    error = info.value
    assert error.status == 400
    assert error.location == "$select"
    assert fragment in error.message
    body = error.to_dict()
    if suggestions is not None:
        assert body["Suggestions"][: len(suggestions)] == suggestions
        assert all(s in error.message for s in suggestions)


def test_unknown_name_without_close_match_lists_every_name() -> None:
    with pytest.raises(InvalidValue) as info:
        compile_select(CONTACT, "Category/Zzzzzzzz")
    assert info.value.to_dict()["Suggestions"] == list(get_schema("Category").names)
    assert "valid names: Id, Value, Tooltip" in info.value.message


def test_selection_too_long() -> None:
    with pytest.raises(InvalidValue, match="characters long"):
        compile_select(CONTACT, "Name," * (MAX_SELECT_LENGTH // 5 + 1))


def test_selection_too_deep() -> None:
    deep = "Interests/" + "ChildItems/" * 70 + "Name"
    with pytest.raises(InvalidValue, match="deeper than the limit"):
        compile_select(CONTACT, deep)


def test_deep_but_allowed_selection_compiles_and_applies() -> None:
    deep = "Interests/" + "ChildItems/" * 40 + "Name"
    item: dict[str, Any] = {"Name": "leaf"}
    for _ in range(41):
        item = {"Name": "x", "ChildItems": [item]}
    value = CONTACT.normalize({"Interests": [item]})
    out = select(CONTACT, deep, value)
    node = out["Interests"][0]
    for _ in range(40):
        assert node["Name"] is None
        node = node["ChildItems"][0]
    assert node["Name"] == "x"


# -- properties --------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    value=carriers(CONTACT, 3),
    paths=st.lists(st.sampled_from(CONTACT_PATHS), min_size=1, max_size=6),
    nulls=st.booleans(),
)
def test_projection_matches_the_reference(
    value: dict[str, Any], paths: list[str], nulls: bool
) -> None:
    before = copy.deepcopy(value)
    projector = compile_select(CONTACT, ",".join(paths), null_value_types=nulls)
    out = projector.apply(value)
    assert out == reference(CONTACT, [p.split("/") for p in paths], value, nulls)
    assert value == before
    assert list(out) == list(CONTACT.names)
    # Idempotent: projecting the projection changes nothing more.
    assert projector.apply(out) == out
    # The canonical text compiles to the same projector.
    assert compile_select(CONTACT, projector.text, null_value_types=nulls) is projector
