"""Hypothesis strategies for carriers, driven by the compiled schema, and their inverse check.

``carriers(schema)`` draws *normalised* carriers: every field present, values
of the declared types, including the awkward ones (non-ASCII and empty
strings, nulls, empty arrays and dictionaries, 7-digit date-times with and
without offsets, flag combinations). Codecs must round-trip them unchanged.

``mutated(body)`` draws a body with a few random byte edits (for fuzzing a
decoder near valid input), and :func:`check_normalised` asserts that what a
decoder returned has exactly that normalised shape, without asking the schema
under test.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from negotiate.errors import escape_pointer
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import check_datetime

# Text that XML 1.0 can carry: no C0 controls except tab and newline, no
# surrogates, no U+FFFE/U+FFFF. Carriage returns are included on purpose.
_TEXT_CHARS = st.characters(
    codec="utf-8",
    exclude_categories=("Cs",),
    exclude_characters="".join(chr(c) for c in range(0x20) if c not in (9, 10, 13))
    + "\ufffe\uffff",
)
TEXT = st.one_of(
    st.just(""),
    st.text(_TEXT_CHARS, max_size=12),
    st.sampled_from(["Nordvik Maskin & Service AS", "Øst", "Ærøskøbing", "東京", "<a&b>", " x "]),
)
INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
DOUBLE = st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f + 0.0)


@st.composite
def datetimes(draw: st.DrawFn) -> str:
    """ISO 8601 date-times as .NET writes them: 0-7 fractional digits, offsets or none."""
    year = draw(st.integers(1, 9999))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    digits = draw(st.integers(0, 7))
    if digits:
        text += "." + "".join(
            draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits))
        )
    offset = draw(
        st.sampled_from(["", "Z", "+01:00", "+02:00", "-05:00", "-0500", "+0530", "+14:00"])
    )
    return text + offset


def values(ftype: FieldType, depth: int) -> st.SearchStrategy[Any]:
    """Values of one field type (non-null for value types)."""
    kind = ftype.kind
    if kind is Kind.INT32:
        return INT32
    if kind is Kind.DOUBLE:
        return DOUBLE
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.DATETIME:
        return datetimes()
    if kind is Kind.ENUM:
        assert ftype.enum is not None
        names = list(ftype.enum.values)
        if not ftype.enum.flags:
            return st.sampled_from(names)
        return st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True).map(", ".join)
    nullable: st.SearchStrategy[Any]
    if kind is Kind.STRING:
        nullable = TEXT
    elif kind is Kind.CARRIER:
        if depth <= 0:
            return st.none()
        nullable = carriers(ftype.schema, depth - 1)
    elif kind is Kind.ARRAY:
        assert ftype.item is not None
        if depth <= 0:
            return st.one_of(st.none(), st.just([]))
        nullable = st.lists(values(ftype.item, depth - 1), max_size=2)
    else:
        assert ftype.item is not None
        if depth <= 0:
            return st.one_of(st.none(), st.just({}))
        nullable = st.dictionaries(
            st.one_of(
                st.text(_TEXT_CHARS, min_size=1, max_size=12),
                st.sampled_from(["SuperOffice:1", "fieldName", "Øst", "東京", "<a&b>"]),
            ),
            values(ftype.item, depth - 1),
            max_size=2,
        )
    return st.one_of(st.none(), nullable)


def carriers(schema: Schema, depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """Normalised carriers of ``schema``, nested at most ``depth`` levels."""
    names = schema.names
    return st.fixed_dictionaries({f.name: values(f.type, depth) for f in schema.fields}).map(
        lambda drawn: {name: drawn[name] for name in names}  # declaration order
    )


@st.composite
def mutated(draw: st.DrawFn, body: bytes, tokens: tuple[bytes, ...] = ()) -> bytes:
    """``body`` after one to four random edits: a slice deleted, duplicated or replaced, or
    bytes inserted (random ones, or one of the format's ``tokens``)."""
    noise = st.binary(min_size=1, max_size=4)
    if tokens:
        noise = st.one_of(noise, st.sampled_from(tokens))
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = min(len(data), start + draw(st.integers(0, 8)))
        edit = draw(st.sampled_from(["delete", "duplicate", "replace", "insert"]))
        if edit == "delete":
            del data[start:end]
        elif edit == "duplicate":
            data[start:start] = data[start:end]
        elif edit == "replace":
            data[start:end] = draw(noise)
        else:
            data[start:start] = draw(noise)
    return bytes(data)


def check_normalised(schema: Schema, value: Any, source: Any = None, where: str = "") -> None:
    """Assert that ``value`` is a normalised ``schema`` carrier, checked from the declarations.

    Every declared field is present, nothing else is, in declaration order;
    value types are non-null and of their exact type (int32 in range, finite
    double, bool, a valid date-time, the declared spelling of enum names);
    strings, carriers, arrays and dictionaries are null or of their type, all
    the way down.

    Args:
        schema: the carrier's schema.
        value: what a decoder returned.
        source: the plain data the value was read from, when it is JSON: a
            dict that came with exactly the declared names may keep its own
            order (the documented JSON exception); any other must be in
            declaration order.
        where: the JSON pointer of ``value``, for the messages.
    """
    assert type(value) is dict, f"{where or '/'}: {schema.name} is {type(value).__name__}"
    names = list(schema.names)
    keys = list(value)
    assert sorted(keys) == sorted(names), f"{where or '/'}: keys {keys} are not {names}"
    if keys != names:
        kept = type(source) is dict and list(source) == keys
        assert kept, f"{where or '/'}: {schema.name} keys {keys} not in declaration order"
    bound: dict[str, Any] = {}
    if type(source) is dict:
        for key, member in source.items():
            found = schema.field(key) if type(key) is str else None
            if found is not None:
                bound[found.name] = member
    for field in schema.fields:
        _check_value(field.type, value[field.name], bound.get(field.name), f"{where}/{field.name}")


def _valid(check: Any, value: Any) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


def _check_value(ftype: FieldType, value: Any, source: Any, where: str) -> None:
    kind = ftype.kind
    if kind is Kind.INT32:
        assert type(value) is int and -(2**31) <= value < 2**31, f"{where}: int32 {value!r}"
    elif kind is Kind.DOUBLE:
        assert type(value) is float and value - value == 0.0, f"{where}: double {value!r}"
    elif kind is Kind.BOOL:
        assert type(value) is bool, f"{where}: bool {value!r}"
    elif kind is Kind.DATETIME:
        assert type(value) is str and _valid(check_datetime, value), f"{where}: date-time {value!r}"
    elif kind is Kind.ENUM:
        spec = ftype.enum
        assert spec is not None
        normal = type(value) is str and _valid(spec.normalize, value) and spec.normalize(value)
        assert normal == value, f"{where}: enum {spec.name} {value!r}"
    elif value is None:
        pass  # a reference type: null is a value
    elif kind is Kind.STRING:
        assert type(value) is str, f"{where}: string {value!r}"
    elif kind is Kind.CARRIER:
        check_normalised(ftype.schema, value, source, where)
    elif kind is Kind.ARRAY:
        assert type(value) is list, f"{where}: array {type(value).__name__}"
        assert ftype.item is not None
        sources = source if type(source) is list and len(source) == len(value) else []
        for index, item in enumerate(value):
            inner = sources[index] if sources else None
            _check_value(ftype.item, item, inner, f"{where}/{index}")
    else:
        assert type(value) is dict, f"{where}: dictionary {type(value).__name__}"
        assert ftype.item is not None
        sources = source if type(source) is dict else {}
        for key, item in value.items():
            assert type(key) is str, f"{where}: key {key!r}"
            _check_value(ftype.item, item, sources.get(key), f"{where}/{key}")


# -- places in a normalised carrier, and patch paths to them ---------------------------------

Segment = tuple[str, bool]
"""A path token, and whether it names a property (matched case-insensitively)."""

Place = tuple[tuple[Segment, ...], Any, FieldType]


def places(value: Any, ftype: FieldType) -> list[Place]:
    """Every pointer into a normalised carrier, with the value and the type found there."""
    out: list[Place] = []
    stack: list[Place] = [((), value, ftype)]
    while stack:
        parts, found, kind_of = place = stack.pop()
        out.append(place)
        if found is None:
            continue
        if kind_of.kind is Kind.CARRIER:
            for field in reversed(kind_of.schema.fields):
                stack.append(((*parts, (field.name, True)), found[field.name], field.type))
        elif kind_of.kind in (Kind.ARRAY, Kind.DICT):
            assert kind_of.item is not None
            pairs = enumerate(found) if kind_of.kind is Kind.ARRAY else found.items()
            for key, item in reversed(list(pairs)):
                stack.append(((*parts, (str(key), False)), item, kind_of.item))
    return out


def pointer_of(parts: tuple[Segment, ...]) -> str:
    """The JSON pointer of a path."""
    return "".join("/" + escape_pointer(token) for token, _ in parts)


def patch_targets(
    found: list[Place], past_the_end: str
) -> st.SearchStrategy[tuple[tuple[Segment, ...], FieldType | None]]:
    """A path into ``found``: an existing place, a new element or member, an unknown
    property, or an index ``past_the_end``; with the type expected there."""
    containers = [(parts, ftype) for parts, value, ftype in found if isinstance(value, list | dict)]

    @st.composite
    def target(draw: st.DrawFn) -> tuple[tuple[Segment, ...], FieldType | None]:
        choice = draw(st.integers(0, 9))
        if choice < 6:
            parts, _, ftype = draw(st.sampled_from(found))
            return parts, ftype
        parts, ftype = draw(st.sampled_from(containers))
        if choice == 6 and ftype.kind is Kind.ARRAY:
            return (*parts, ("-", False)), ftype.item
        if choice == 7 and ftype.kind is Kind.DICT:
            return (*parts, ("new", False)), ftype.item
        if choice == 8 and ftype.kind is Kind.CARRIER:
            return (*parts, ("Bogus", True)), None
        return (*parts, (past_the_end, False)), ftype.item

    return target()
