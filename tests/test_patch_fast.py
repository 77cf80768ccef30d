"""The fast paths of the patch codecs against their reference paths (issue 14).

A :class:`NormalizedBase` is not normalised again, and is shared, never
copied whole: a merge patch and a JSON Patch copy only the containers they
change (copy-on-write). Each property below runs random patches, invalid ones
included, three ways on the normalised sample ContactEntity:

* the fast path: ``base=NormalizedBase(base)``;
* the default path: ``base=base`` (the whole base normalised into a private
  copy first): the same answer exactly, errors included (class, status,
  location, message, detail), and the same bytes (member order too);
* the reference: the patch applied to plain data with no schema, and the
  whole patched document normalised. A result is the same bytes; an error the
  same status (and class). For a merge patch the location is the same too; a
  JSON Patch error is located in the patch or at the operation's path
  (``/Emails/-``), where the reference can only give an index, so there only
  the status is compared.

And after every example the caller's base is unchanged (atomicity: a failed
patch leaves nothing behind, a successful one shares but never writes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from strategies import patch_targets, places, pointer_of, values

from negotiate.codecs.patch import (
    JsonPatchCodec,
    MergePatchCodec,
    NormalizedBase,
    apply_json_patch,
    apply_merge_patch,
)
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    Unprocessable,
)
from negotiate.options import Options
from negotiate.schema import FieldType, Kind, Schema, get_schema

DATA = Path(__file__).resolve().parent / "data" / "superoffice"
CONTACT = get_schema("ContactEntity")
ROOT = CONTACT.root_type
SAMPLE = orjson.loads((DATA / "contact-sample.json").read_bytes())
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 5.0]), st.text(max_size=2)
)
LIMITS = (
    st.sampled_from(["ignore", "error"]),
    st.sampled_from([3, 10_000]),  # max_items
    st.sampled_from([5, 64]),  # max_depth
)

Outcome = tuple[Any, ...]


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call gave, comparable exactly: the result's bytes, or every part of the error."""
    try:
        result = call()
    except NegotiateError as exc:
        return ("error", type(exc), exc.status, exc.location, exc.message, exc.detail)
    return ("ok", orjson.dumps(result))


def contact() -> dict[str, Any]:
    return CONTACT.normalize(SAMPLE)


# -- merge patch -----------------------------------------------------------------------


def _model_merge(target: Any, patch: Any, ftype: FieldType | None, strict: bool) -> Any:
    """RFC 7396 on plain data, with SuperOffice's one extension (an object for an array
    appends it as it is); ``ftype`` only says where an array is and what is unknown.

    ``strict`` (``unknown="error"``): naming an unknown property is an error even to
    remove it (``null``), so it is kept, as a ``0``, for the normaliser to refuse."""
    if type(patch) is not dict:
        return patch
    if ftype is not None and ftype.kind is Kind.ARRAY:
        return [*(target if type(target) is list else []), patch]
    result = dict(target) if type(target) is dict else {}
    for key, value in patch.items():
        inner: FieldType | None = None
        if ftype is not None and ftype.kind is Kind.CARRIER:
            field = ftype.schema.field(key)
            if field is None and strict:
                result[key] = 0 if value is None else value
                continue
            inner = None if field is None else field.type
        elif ftype is not None and ftype.kind is Kind.DICT:
            inner = ftype.item
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _model_merge(result.get(key), value, inner, strict)
    return result


def _levels(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_levels, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_levels, value), default=0)
    return 0


def reference_merge(base: dict[str, Any], patch: dict[str, Any], options: Options) -> Outcome:
    """The merged document normalised whole; an error as the codec reports it."""
    if _levels(patch) > options.max_depth:
        return ("error", MalformedBody, 400, None)  # the body itself is too deep
    merged = _model_merge(base, orjson.loads(orjson.dumps(patch)), ROOT, options.unknown == "error")
    try:
        return ("ok", orjson.dumps(CONTACT.normalize(merged, options)))
    except InvalidValue as exc:
        return ("error", Unprocessable, 422, exc.location)  # located in the result


def matches_merge_reference(got: Outcome, expected: Outcome) -> None:
    if expected[0] == "ok":
        assert got == expected
        return
    assert got[0] == "error", f"expected {expected}, got a result"
    # A body too deep is an InvalidValue, which is a MalformedBody.
    assert issubclass(got[1], expected[1]) and got[2] == expected[2], got
    if expected[3] is not None:
        assert got[3] == expected[3], got


@st.composite
def _member(draw: st.DrawFn, ftype: FieldType, current: Any, depth: int) -> Any:
    """A merge patch member for a place of ``ftype`` holding ``current``."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return None
    if choice == 1:
        return draw(values(ftype, 1))
    if choice == 2:
        return draw(SCALARS)
    kind = ftype.kind
    if kind is Kind.CARRIER and depth > 0:
        return draw(merge_patches(ftype.schema, current, depth - 1))
    if kind is Kind.DICT and ftype.item is not None:
        # Members the dictionary has first, in its order, then new ones: the order
        # in which the normaliser meets them in the merged document.
        old = list(current) if type(current) is dict else []
        keys = [k for k in old if draw(st.booleans())]
        keys += draw(st.lists(st.sampled_from(["new", "x", "SuperOffice:9"]), max_size=3))
        keys = list(dict.fromkeys(keys))
        item = ftype.item
        return {k: draw(_member(item, (current or {}).get(k), depth)) for k in keys}
    if kind is Kind.ARRAY and ftype.item is not None:
        return draw(values(ftype.item, 1).filter(lambda v: type(v) is dict) | st.just({"a": 1}))
    return draw(values(ftype, 1))


@st.composite
def merge_patches(draw: st.DrawFn, schema: Schema, current: Any, depth: int) -> dict[str, Any]:
    """A merge patch for ``schema`` with canonical names in declaration order (the order
    the normaliser checks), maybe an unknown member first (it rebinds names first)."""
    patch: dict[str, Any] = {}
    if draw(st.integers(0, 7)) == 0:
        patch["Bogus"] = draw(SCALARS | st.just([1, 2, 3, 4]) | st.just({"a": {"b": [1]}}))
    fields = draw(st.lists(st.sampled_from(schema.fields), max_size=4, unique=True))
    for field in sorted(fields, key=lambda f: f.index):
        here = current.get(field.name) if type(current) is dict else None
        patch[field.name] = draw(_member(field.type, here, depth))
    return patch


@settings(max_examples=300, deadline=None)
@given(merge_patches(CONTACT, contact(), 2), *LIMITS)
def test_merge_fast_path_is_the_reference(
    patch: dict[str, Any], unknown: Any, max_items: int, max_depth: int
) -> None:
    options = Options(unknown=unknown, max_items=max_items, max_depth=max_depth)
    base = contact()
    before = orjson.dumps(base)
    body = orjson.dumps(patch)
    codec = MergePatchCodec(options)
    fast = outcome(lambda: codec.decode(body, CONTACT, base=NormalizedBase(base)))
    assert orjson.dumps(base) == before  # shared, never written
    assert fast == outcome(lambda: codec.decode(body, CONTACT, base=base))
    assert fast == outcome(
        lambda: apply_merge_patch(NormalizedBase(base), orjson.loads(body), CONTACT, options)
    )
    matches_merge_reference(fast, reference_merge(base, patch, options))
    assert orjson.dumps(base) == before


@settings(max_examples=100, deadline=None)
@given(merge_patches(CONTACT, None, 2), st.sampled_from(["ignore", "error"]))
def test_merge_fast_path_on_the_default_carrier(patch: dict[str, Any], unknown: Any) -> None:
    options = Options(unknown=unknown)
    base = CONTACT.default()
    body = orjson.dumps(patch)
    codec = MergePatchCodec(options)
    fast = outcome(lambda: codec.decode(body, CONTACT, base=NormalizedBase(base)))
    assert fast == outcome(lambda: codec.decode(body, CONTACT))
    matches_merge_reference(fast, reference_merge(base, patch, options))
    assert base == CONTACT.default()


@settings(max_examples=100, deadline=None)
@given(merge_patches(CONTACT, contact(), 2), st.data())
def test_merge_names_in_any_case_take_the_same_path(
    patch: dict[str, Any], data: st.DataObject
) -> None:
    """SuperOffice's leniency (names bind case-insensitively) on the fast path too."""

    def loosen(value: Any) -> Any:
        if type(value) is not dict:
            return value
        case = data.draw(st.sampled_from([str, str.lower, str.upper]))
        return {case(k): loosen(v) for k, v in value.items()}

    base = contact()
    body = orjson.dumps(loosen(patch))
    codec = MergePatchCodec()
    fast = outcome(lambda: codec.decode(body, CONTACT, base=NormalizedBase(base)))
    assert fast == outcome(lambda: codec.decode(body, CONTACT, base=base))


def test_merge_shares_what_it_did_not_touch() -> None:
    base = contact()
    before = orjson.dumps(base)
    merged = apply_merge_patch(
        NormalizedBase(base),
        {"Name": "x", "Category": {"Id": 3}, "CustomFields": {"CustomFields1": "y"}},
        CONTACT,
    )
    assert merged is not base and merged["Name"] == "x"
    assert merged["Emails"] is base["Emails"]  # untouched: shared
    assert merged["CustomFields"] is not base["CustomFields"]  # changed: copied
    assert merged["CustomFields"]["CustomFields1"] == "y"
    assert orjson.dumps(base) == before
    assert merged == CONTACT.normalize(merged)


def test_two_keys_binding_to_one_property_on_the_fast_path() -> None:
    base = NormalizedBase(contact())
    for patch, location in [
        ({"Name": "a", "name": "b"}, "/name"),
        ({"name": "a", "Name": "b"}, "/Name"),
        ({"name": "a", "NAME": "b"}, "/NAME"),
        ({"Category": {"id": 1, "Id": 2}}, "/Category/Id"),
    ]:
        with pytest.raises(MalformedBody) as info:
            apply_merge_patch(base, patch, CONTACT)
        assert info.value.location == location
        assert "both bind to" in info.value.message
    assert apply_merge_patch(base, {"name": "a", "department": "b"}, CONTACT)["Name"] == "a"


def test_merge_sizes_are_checked_before_items() -> None:
    """As the normaliser does: a dictionary (or array) over max_items is refused as such,
    even when a member of it is bad too."""
    options = Options(max_items=3)
    base = contact()
    patch = {"CustomFields": {"a": 1, "b": "x"}}  # two more members, one not a string
    expected = reference_merge(base, patch, options)
    with pytest.raises(Unprocessable) as info:
        apply_merge_patch(NormalizedBase(base), patch, CONTACT, options)
    assert ("error", Unprocessable, 422, info.value.location) == expected
    assert info.value.location == "/CustomFields"
    # Nulls remove members: within the limit, and the bad member is found.
    patch = {"CustomFields": {"CustomFields1": None, "a": 1}}
    with pytest.raises(Unprocessable) as info:
        apply_merge_patch(NormalizedBase(base), patch, CONTACT, options)
    assert info.value.location == "/CustomFields/a"
    assert reference_merge(base, patch, options)[3] == "/CustomFields/a"


# -- JSON Patch ------------------------------------------------------------------------

PLACES = places(contact(), ROOT)
TARGETS = patch_targets(PLACES, past_the_end="7")


@st.composite
def json_patches(draw: st.DrawFn) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 6))):
        special = draw(st.integers(0, 12))
        if special == 0:
            # A carrier that can hold itself, copied into itself: deeper each time.
            ops += [{"op": "copy", "from": "/Interests/0", "path": "/Interests/0/ChildItems/0"}]
            continue
        if special == 1:
            ops.append({"op": "copy", "from": "/Emails/0", "path": "/Emails/-"})  # grows
            continue
        if special == 3:
            # A whole array moved to an array of another item type: normalised there.
            ops.append({"op": "move", "from": "/Emails", "path": "/Persons"})
            continue
        if special == 2:
            # Change inside what an earlier operation moved out of the (shared) base.
            ops += [
                {"op": "move", "from": "/Emails/0", "path": "/Urls/-"},
                {"op": "replace", "path": "/Urls/0/Value", "value": "changed"},
            ]
            continue
        name = draw(st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]))
        parts, ftype = draw(TARGETS)
        op: dict[str, Any] = {"op": name, "path": pointer_of(parts)}
        if name in ("move", "copy"):
            op["from"] = pointer_of(draw(TARGETS)[0])
        if name in ("add", "replace", "test"):
            choice = draw(st.integers(0, 3))
            if choice == 0 and ftype is not None:
                op["value"] = draw(values(ftype, 1))
            elif choice == 1:
                found = [v for p, v, _ in PLACES if p == parts]
                op["value"] = found[0] if found else None
            elif choice == 2:
                op["value"] = draw(st.sampled_from(PLACES))[1]
            else:
                op["value"] = draw(SCALARS)
            op["value"] = orjson.loads(orjson.dumps(op["value"]))
        ops.append(op)
    return ops


def reference_json_patch(
    base: dict[str, Any], ops: list[dict[str, Any]], options: Options
) -> Outcome:
    """Each operation applied strictly (RFC 6902, no schema), then the whole document
    normalised, as validating everything after every operation would."""
    if len(ops) > options.max_items or _levels(ops) > options.max_depth:
        return ("error", MalformedBody, 400)
    plain = Options(max_depth=256)
    doc: Any = base
    for op in ops:
        try:
            doc = apply_json_patch(doc, [op], None, plain)
        except NegotiateError as exc:
            return ("error", type(exc), exc.status)
        try:
            doc = CONTACT.normalize(doc, options)
        except InvalidValue:
            return ("error", Unprocessable, 422)
    return ("ok", orjson.dumps(doc))


@settings(max_examples=300, deadline=None)
@given(json_patches(), *LIMITS)
def test_json_patch_fast_path_is_the_reference(
    ops: list[dict[str, Any]], unknown: Any, max_items: int, max_depth: int
) -> None:
    options = Options(unknown=unknown, max_items=max_items, max_depth=max_depth)
    base = contact()
    before = orjson.dumps(base)
    body = orjson.dumps(ops)
    codec = JsonPatchCodec(options)
    fast = outcome(lambda: codec.decode(body, CONTACT, base=NormalizedBase(base)))
    assert orjson.dumps(base) == before  # shared, never written
    assert fast == outcome(lambda: codec.decode(body, CONTACT, base=base))
    expected = reference_json_patch(base, ops, options)
    if expected[0] == "ok":
        assert fast == expected
        assert CONTACT.normalize(orjson.loads(fast[1]), options) == orjson.loads(fast[1])
    else:
        assert fast[0] == "error", f"expected {expected}, got a result"
        assert issubclass(fast[1], expected[1]) and fast[2] == expected[2], fast
    assert orjson.dumps(base) == before


def test_json_patch_copies_only_what_it_changes() -> None:
    base = contact()
    before = orjson.dumps(base)
    ops = [
        {"op": "replace", "path": "/Urls/0/Description", "value": "Home page"},
        {"op": "remove", "path": "/Phones/0"},
        {"op": "move", "from": "/Faxes/0", "path": "/Faxes/-"},
        {"op": "move", "from": "/Emails/0", "path": "/Urls/-"},
        {"op": "test", "path": "/ContactId", "value": 599},
    ]
    result = apply_json_patch(NormalizedBase(base), ops, CONTACT)
    assert orjson.dumps(base) == before
    assert result["Persons"] is base["Persons"]  # untouched: shared
    assert result["Urls"] is not base["Urls"] and result["Urls"][0] is not base["Urls"][0]
    assert result["Urls"][1] is base["Urls"][1]  # an element beside the change
    assert result["Phones"] == base["Phones"][1:]
    assert result == apply_json_patch(base, ops, CONTACT)


def test_a_moved_value_is_copied_before_it_is_normalised() -> None:
    """Normalising works in place; a value moved out of a shared base to a place of another
    type is copied first, so the base keeps it as it was."""
    base = contact()
    before = orjson.dumps(base)
    person = get_schema("Person")
    for ops in (
        [{"op": "move", "from": "/Emails/0", "path": "/Persons/-"}],
        [{"op": "move", "from": "/Emails", "path": "/Persons"}],  # its elements, in place
    ):
        result = apply_json_patch(NormalizedBase(base), ops, CONTACT)
        assert orjson.dumps(base) == before
        assert result == apply_json_patch(base, ops, CONTACT)
        assert result["Persons"][-1] == person.normalize(base["Emails"][-1])


@pytest.mark.parametrize(
    ("ops", "options"),
    [
        (
            [{"op": "copy", "from": "/Persons", "path": "/Persons/0/Emails"}] * 3,
            Options(max_nodes=99),
        ),
        ([{"op": "move", "from": "/Persons", "path": "/Emails"}] * 2, Options(max_nodes=100)),
        ([{"op": "copy", "from": "/Emails/0", "path": "/Emails/-"}] * 5, Options(max_items=4)),
        ([{"op": "copy", "from": "/Interests", "path": "/Emails"}] * 3, Options(max_body=1000)),
        (
            [{"op": "copy", "from": "/Interests/0", "path": "/Interests/0/ChildItems/0"}] * 9,
            Options(max_depth=8),
        ),
    ],
)
def test_json_patch_budgets_hold_on_the_fast_path(ops: list[Any], options: Options) -> None:
    """Copies and moves count against max_nodes, copies against max_body, growth against
    max_items, nesting against max_depth: the same answers as the default path."""
    base = contact()
    body = orjson.dumps(ops)
    codec = JsonPatchCodec(options)
    fast = outcome(lambda: codec.decode(body, CONTACT, base=NormalizedBase(base)))
    assert fast[0] == "error"
    assert fast == outcome(lambda: codec.decode(body, CONTACT, base=base))


def test_merge_growth_is_held_to_max_items_on_the_fast_path() -> None:
    merge = MergePatchCodec(Options(max_items=3))
    body = orjson.dumps({"Emails": {"Value": "a@b.example"}})  # appends one element
    grown = merge.decode(body, CONTACT, base=NormalizedBase(contact()))  # 3 of 3
    with pytest.raises(Unprocessable) as info:
        merge.decode(body, CONTACT, base=NormalizedBase(grown))
    assert info.value.location == "/Emails"


# -- NormalizedBase itself ----------------------------------------------------------------


def test_normalized_base_elsewhere() -> None:
    base = contact()
    wrapped = NormalizedBase(base)
    assert repr(wrapped) == f"NormalizedBase({len(base)} properties)"
    # An empty body is an empty patch: a copy, never the base itself.
    for codec in (JsonPatchCodec(), MergePatchCodec()):
        empty = codec.decode(b"", CONTACT, base=wrapped)
        assert empty == base and empty is not base
        # The diff side reads it as the value it holds.
        changed = {**base, "Name": "x"}
        assert codec.encode(changed, CONTACT, base=wrapped) == codec.encode(
            changed, CONTACT, base=base
        )
    # Without a schema the patch works on a copy, strictly.
    plain = {"a": {"b": 1}}
    assert apply_merge_patch(NormalizedBase(plain), {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}
    assert apply_json_patch(NormalizedBase(plain), [{"op": "remove", "path": "/a/b"}]) == {"a": {}}
    assert plain == {"a": {"b": 1}}
    # A value that is not even an object is checked the default way: a 500.
    for apply in (apply_json_patch, apply_merge_patch):
        with pytest.raises(EncodeError):
            apply(NormalizedBase([1]), [] if apply is apply_json_patch else {}, CONTACT)  # type: ignore[arg-type]
