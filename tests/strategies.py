"""Hypothesis strategies for carriers, driven by the compiled schema.

``carriers(schema)`` draws *normalised* carriers: every field present, values
of the declared types, including the awkward ones (non-ASCII and empty
strings, nulls, empty arrays and dictionaries, 7-digit date-times with and
without offsets, flag combinations). Codecs must round-trip them unchanged.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from negotiate.schema import FieldType, Kind, Schema

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
