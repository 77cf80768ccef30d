"""The carrier schema: declarations, defaults, normalisation, validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from strategies import carriers

from negotiate.errors import InvalidValue
from negotiate.options import Options
from negotiate.schema import SCHEMAS, Kind, get_schema
from negotiate.schema.enums import AddressType, EFieldRight, ETableRight, UserType

DATA = Path(__file__).parent / "data" / "superoffice"
CARRIERS_JSON = json.loads((DATA / "carriers.json").read_text())
ENUMS_JSON = json.loads((DATA / "enums.json").read_text())
CONTACT = get_schema("ContactEntity")
# Declared beside carriers.json, from WIRE.md ("The endpoint"): the preview method's carriers.
NOT_IN_CARRIERS_JSON = {"PreviewContact", "GetPreviewEnrichContactRequest"}


def sample() -> dict[str, Any]:
    return orjson.loads((DATA / "contact-sample.json").read_bytes())  # type: ignore[no-any-return]


def slow(schema_name: str) -> Any:
    """The slow (reference) normaliser, to compare the fast path with."""
    return get_schema(schema_name).normalizer.__globals__[f"slow_{schema_name}"]


# -- declarations cannot drift from carriers.json / enums.json ---------------


@pytest.mark.parametrize("name", list(CARRIERS_JSON))
def test_declaration_matches_carriers_json(name: str) -> None:
    schema = SCHEMAS[name]
    assert [(f.name, f.type.spec) for f in schema.fields] == list(CARRIERS_JSON[name].items())


def test_every_declared_carrier_is_in_carriers_json() -> None:
    assert set(SCHEMAS) - NOT_IN_CARRIERS_JSON == set(CARRIERS_JSON)


@pytest.mark.parametrize(
    "enum", [UserType, AddressType, ETableRight, EFieldRight], ids=lambda e: e.__name__
)
def test_enum_matches_enums_json(enum: Any) -> None:
    expected = ENUMS_JSON[enum.__name__]
    assert {n: int(m.value) for n, m in enum.__members__.items()} == expected["values"]
    spec = next(
        f.type.enum
        for s in SCHEMAS.values()
        for f in s.fields
        if f.type.kind is Kind.ENUM
        and f.type.enum is not None
        and f.type.enum.name == enum.__name__
    )
    assert spec.flags is expected["flags"]


# -- defaults -----------------------------------------------------------------


def test_default_is_the_dotnet_default_instance() -> None:
    default = CONTACT.default()
    assert list(default) == list(CONTACT.names)
    assert default["ContactId"] == 0
    assert default["NoMailing"] is False
    assert default["UpdatedDate"] == "0001-01-01T00:00:00"
    assert default["Name"] is None and default["Emails"] is None and default["Address"] is None
    assert get_schema("StructuredAddress").default()["AtypeIdx"] == "Unknown"
    assert get_schema("TableRight").default()["Mask"] == "None"
    assert get_schema("Address").default()["Wgs84Latitude"] == 0.0


def test_default_returns_a_fresh_dict() -> None:
    first = CONTACT.default()
    first["Name"] = "changed"
    assert CONTACT.default()["Name"] is None


def test_get_schema_is_case_insensitive_and_lists_known_names() -> None:
    assert get_schema("contactentity") is CONTACT
    with pytest.raises(KeyError, match="ContactEntity"):
        get_schema("Nope")


# -- normalisation ---------------------------------------------------------------


def test_missing_fields_are_filled_in_declaration_order() -> None:
    value = CONTACT.normalize({"Name": "Acme", "ContactId": 7})
    assert list(value) == list(CONTACT.names)
    assert value["Name"] == "Acme" and value["ContactId"] == 7 and value["Deleted"] == 0


def test_names_bind_case_insensitively_and_responses_use_declared_names() -> None:
    value = CONTACT.normalize({"name": "Acme", "CONTACTID": 7, "persons": [{"firstname": "Kari"}]})
    assert value["Name"] == "Acme" and value["ContactId"] == 7
    assert value["Persons"][0]["Firstname"] == "Kari"


def test_two_properties_binding_to_one_field_is_an_error() -> None:
    with pytest.raises(InvalidValue, match="both bind") as info:
        CONTACT.normalize({"Name": "a", "name": "b"})
    assert info.value.location == "/name"


def test_unknown_properties_are_ignored_by_default() -> None:
    value = CONTACT.normalize({"Name": "Acme", "InitialUtmParameters": {"Source": "x"}})
    assert "InitialUtmParameters" not in value and value["Name"] == "Acme"


def test_unknown_properties_error_policy_names_the_property() -> None:
    with pytest.raises(InvalidValue, match="Unknown property 'Nope'") as info:
        CONTACT.normalize({"Persons": [{"Nope": 1}]}, Options(unknown="error"))
    assert info.value.location == "/Persons/0/Nope"
    assert info.value.status == 400


def test_empty_nested_objects_become_default_instances() -> None:
    value = CONTACT.normalize(sample())
    child = value["Interests"][0]["ChildItems"][0]
    assert child == get_schema("SelectableMDOListItem").default()


def test_sample_keeps_every_value_it_had() -> None:
    original = sample()
    value = CONTACT.normalize(original)

    def contained(part: Any, whole: Any) -> bool:
        if isinstance(part, dict):
            return all(contained(v, whole[k]) for k, v in part.items())
        if isinstance(part, list):
            return len(part) == len(whole) and all(map(contained, part, whole))
        return bool(part == whole)

    assert contained(original, value)


def test_normalize_does_not_touch_its_input_unless_in_place() -> None:
    original = {"Name": "Acme", "Persons": [{}]}
    CONTACT.normalize(original)
    assert original == {"Name": "Acme", "Persons": [{}]}


# -- values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [(2147483647, 2147483647), (-2147483648, -2147483648), (5.0, 5)],
    ids=["max", "min", "integral-float"],
)
def test_int32_accepts(given: Any, expected: int) -> None:
    assert CONTACT.normalize({"ContactId": given})["ContactId"] == expected


@pytest.mark.parametrize(
    "given",
    [2147483648, -2147483649, 5.5, "5", True, None, [], {}],
    ids=["overflow", "underflow", "fraction", "string", "bool", "null", "array", "object"],
)
def test_int32_refuses(given: Any) -> None:
    with pytest.raises(InvalidValue, match="int32") as info:
        CONTACT.normalize({"ContactId": given})
    assert info.value.location == "/ContactId"


@pytest.mark.parametrize("given", [0, "true", None], ids=["int", "string", "null"])
def test_bool_is_strict(given: Any) -> None:
    with pytest.raises(InvalidValue, match="bool"):
        CONTACT.normalize({"NoMailing": given})


def test_double_widens_integers_and_refuses_the_rest() -> None:
    address = get_schema("Address")
    assert address.normalize({"Wgs84Latitude": 59})["Wgs84Latitude"] == 59.0
    assert type(address.normalize({"Wgs84Latitude": 59})["Wgs84Latitude"]) is float
    for bad in ("59.9", True, None, float("nan"), float("inf")):
        with pytest.raises(InvalidValue, match="double"):
            address.normalize({"Wgs84Latitude": bad})


@pytest.mark.parametrize(
    "text",
    [
        "2015-11-08T11:24:47.8282933+01:00",
        "2016-01-04T13:27:28",
        "2024-02-29T00:00:00Z",
        "2019-07-11T11:24:47-0500",
        "0001-01-01T00:00:00",
        "2003-11-08T03:46:54.5507645+01:00",
    ],
)
def test_datetimes_survive_unchanged(text: str) -> None:
    assert CONTACT.normalize({"UpdatedDate": text})["UpdatedDate"] == text


@pytest.mark.parametrize(
    "text",
    [
        "2015-02-30T00:00:00",
        "2023-02-29T00:00:00",
        "2015-13-01T00:00:00",
        "2015-11-08 11:24:47",
        "2015-11-08T24:00:00",
        "2015-11-08T11:24:47.12345678",
        "0000-01-01T00:00:00",
        "2015-11-08",
        "",
    ],
)
def test_invalid_datetimes_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue, match="date") as info:
        CONTACT.normalize({"DbiLastModified": text})
    assert info.value.location == "/DbiLastModified"


def test_enum_by_name_case_insensitive_or_by_value() -> None:
    associate = get_schema("Associate")
    assert associate.normalize({"Type": "internalassociate"})["Type"] == "InternalAssociate"
    assert associate.normalize({"Type": 3})["Type"] == "ExternalAssociate"
    with pytest.raises(InvalidValue, match="UserType"):
        associate.normalize({"Type": "Boss"})
    with pytest.raises(InvalidValue, match="not defined"):
        associate.normalize({"Type": 99})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Read, Write", "Read, Write"),
        ("read,write", "Read, Write"),
        ("UIHintMandatory", "UIHintMandatory"),
        (3, "Update"),
        (65, "Read, UIHintMandatory"),
        (0, "None"),
    ],
)
def test_flag_enums_take_combinations(given: Any, expected: str) -> None:
    assert get_schema("FieldRight").normalize({"Mask": given})["Mask"] == expected


@pytest.mark.parametrize("given", ["Read, Bogus", "", 1024, "Read Write"])
def test_flag_enums_refuse_unknown_names(given: Any) -> None:
    with pytest.raises(InvalidValue, match="EFieldRight"):
        get_schema("FieldRight").normalize({"Mask": given})


def test_errors_are_located_by_json_pointer_deep_inside() -> None:
    body = {
        "Persons": [{}, {"FieldProperties": {"a/b": {"FieldRight": {"Mask": "Nope"}}}}],
    }
    with pytest.raises(InvalidValue) as info:
        CONTACT.normalize(body)
    assert info.value.location == "/Persons/1/FieldProperties/a~1b/FieldRight/Mask"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"Emails": {}}, "/Emails"),
        ({"Emails": [1]}, "/Emails/0"),
        ({"BounceEmails": ["a", 2]}, "/BounceEmails/1"),
        ({"CustomFields": {"k": 1}}, "/CustomFields/k"),
        (
            {"Address": {"LocalizedAddress": [[{"ValueLength": "x"}]]}},
            "/Address/LocalizedAddress/0/0/ValueLength",
        ),
        ({"UpdatedBy": []}, "/UpdatedBy"),
    ],
)
def test_wrong_container_types_are_located(body: dict[str, Any], location: str) -> None:
    with pytest.raises(InvalidValue) as info:
        CONTACT.normalize(body)
    assert info.value.location == location


def test_nulls_are_allowed_in_reference_types_and_items() -> None:
    value = CONTACT.normalize(
        {"Emails": [None], "BounceEmails": [None], "CustomFields": {"k": None}}
    )
    assert value["Emails"] == [None] and value["BounceEmails"] == [None]


def test_recursion_depth_is_limited() -> None:
    item: dict[str, Any] = {}
    root = item
    for _ in range(100):
        child: dict[str, Any] = {}
        item["ChildItems"] = [child]
        item = child
    with pytest.raises(InvalidValue, match="deeper than the limit of 64"):
        CONTACT.normalize({"Interests": [root]})
    CONTACT.normalize({"Interests": [root]}, Options(max_depth=200))


def test_deepest_allowed_recursion_does_not_reach_the_interpreter_limit() -> None:
    item: dict[str, Any] = {}
    root = item
    for _ in range(300):
        child: dict[str, Any] = {}
        item["ChildItems"] = [child]
        item = child
    with pytest.raises(InvalidValue, match="deeper than the limit of 256"):
        CONTACT.normalize({"Interests": [root]}, Options(max_depth=256))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_depth": 257}, "max_depth must be at most 256"),
        ({"max_depth": 0}, "max_depth must be a positive integer"),
        ({"max_items": -1}, "max_items must be a positive integer"),
        ({"unknown": "drop"}, "unknown must be 'ignore' or 'error', not 'drop'"),
    ],
)
def test_options_refuse_unusable_limits(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Options(**kwargs)


def test_array_length_is_limited() -> None:
    with pytest.raises(InvalidValue, match="Too many items") as info:
        CONTACT.normalize({"Domains": ["x"] * 11}, Options(max_items=10))
    assert info.value.location == "/Domains"


def test_non_object_carrier_is_refused() -> None:
    with pytest.raises(InvalidValue, match="Expected ContactEntity object, got array"):
        CONTACT.normalize([])


# -- the fast path agrees with the slow (reference) path ------------------------


@pytest.mark.parametrize("name", list(SCHEMAS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_normalised_carriers_are_fixed_points(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    value = data.draw(carriers(schema, depth=2))
    assert schema.normalize(value) == value


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    base=carriers(CONTACT, depth=2),
    key=st.sampled_from(CONTACT.names + ("name", "Bogus")),
    junk=JSONISH,
)
def test_fast_and_slow_paths_agree_on_any_value(base: dict[str, Any], key: str, junk: Any) -> None:
    base[key] = junk
    fast_result: Any
    slow_result: Any
    try:
        fast_result = CONTACT.normalize(base)
    except InvalidValue as exc:
        fast_result = ("error", str(exc))
    try:
        slow_result = slow("ContactEntity")(orjson.loads(orjson.dumps(base)), 0, Options())
    except InvalidValue as exc:
        slow_result = ("error", str(exc))
    assert fast_result == slow_result
