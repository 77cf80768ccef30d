"""Shaping's fast paths against their reference paths.

Fast paths: the generated walkers (only the fields that can hold something to
shape, tested inline) with the cached leaf functions (date-times converted per
instant and memoised, :func:`negotiate.shaping.zones._converter`), the
memoised :meth:`Shaping.from_headers` and the per-shaping preparation.
References: :func:`negotiate.shaping.core._reference_apply` (every field visited
by the schema, :func:`convert_datetime` called each time), the uncached header
parse, and :func:`convert_datetime` itself.
"""

from __future__ import annotations

import copy
import importlib
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from strategies import carriers, datetimes

from negotiate import DateTime, schema_of
from negotiate.errors import MalformedBody
from negotiate.resources import DEFAULT_RESOURCES, ResourceTable
from negotiate.schema import Schema, get_schema
from negotiate.shaping import NO_SHAPING, TIME_ZONES, Shaping, convert_datetime

core = importlib.import_module("negotiate.shaping.core")
zones = importlib.import_module("negotiate.shaping.zones")
_reference_apply = core._reference_apply
_converter = zones._converter

CONTACT = get_schema("ContactEntity")


# -- user carriers: nested, in lists and dictionaries, recursive, and one with nothing to shape


class Stamp(TypedDict):
    At: DateTime
    CreatedDate: DateTime
    Label: str | None
    Notes: dict[str, str | None] | None
    Times: list[DateTime] | None


class Log(TypedDict):
    Stamps: list[Stamp | None] | None
    ByKey: dict[str, Stamp | None] | None
    Grid: list[list[Stamp | None] | None] | None
    First: Stamp | None
    Parent: Log | None
    UpdatedDate: DateTime
    Count: int


class Counts(TypedDict):
    N: int
    Ratio: float
    Ok: bool
    More: list[Counts | None] | None


LOG = schema_of(Log)
STAMP = schema_of(Stamp)
COUNTS = schema_of(Counts)
SCHEMAS = [CONTACT, LOG, STAMP]


# -- what the headers may ask ----------------------------------------------------

ZONE_NAMES = [
    *TIME_ZONES,
    "460",
    "Europe/Oslo",
    "asia/kolkata",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Africa/Monrovia",  # historical offsets with seconds
    "America/St_Johns",
    "Pacific/Kiritimati",  # +14:00
]
BASE_ZONES: list[str | tzinfo] = [
    "UTC",
    "NO",
    "America/New_York",
    timezone(timedelta(hours=-3, minutes=-30)),
    ZoneInfo("Asia/Kathmandu"),
]
TABLE = ResourceTable(
    {
        "US": {"SR_GREETING": "Hello", "SR_NAME": "Name"},
        "NO": {"SR_GREETING": "Hei"},
        "IT": {"SR_GREETING": "Ciao"},
    }
)


@st.composite
def shaping_headers(draw: st.DrawFn) -> dict[str, str]:
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        zone = draw(st.sampled_from(ZONE_NAMES))
        headers["SO-TimeZone"] = zone + (", includeTZOffset" if draw(st.booleans()) else "")
    language = draw(st.sampled_from([None, "nb-NO", "en", "de", "it", "sv", "x", "*", "fr-CA"]))
    if language is not None:
        headers["SO-Language"] = language
    accept = draw(st.sampled_from([None, "de, en;q=0.5", "it, no;q=0.2", "*", "en;q=0, fi"]))
    if accept is not None:
        headers["Accept-Language"] = accept
    if draw(st.booleans()):
        headers["SO-Culture"] = draw(st.sampled_from(["sv", "nb-NO", "x"]))
    return headers


# -- odd date-time texts: what a value that did not go through the normaliser may hold

ODD_TEXTS = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00.0000000",
    "0001-01-01T00:00:00.0000001",
    "0001-01-01T00:00:00Z",
    "0001-01-01T03:00:00+05:00",
    "9999-12-31T23:59:59.9999999",
    "9999-12-31T23:59:59.9999998",
    "9999-12-31T23:59:59.9999999+01:00",
    "9999-12-31T22:00:00-05:00",
    "2015-11-08T11:24:47.82829331+01:00",  # 8 digits
    "2015-11-08T11:24:47.+01:00",
    "2015-11-08T11:24:47.",
    "2015-11-08T11:24:47.12a4567",
    "2015-11-08T11:24:47.١٢٣",  # non-ASCII digits
    "2015-11-08T11:24:47.8282933+01:0x",
    "2015-11-08T11:24:47.8282933z",
    "2015-11-08T11:24:47.8282933+24:00",
    "2015-11-08T11:24:47.8282933+2400",
    "2015-11-08T11:24:47.8282933-05",
    "2015-11-08T11:24",
    "2015-11-08T11:24Z",
    "2015-11-08T11:24+01:00",
    "2015-02-30T11:24:47.5",
    "2015-11-08T24:00:00.5Z",
    "2015-11-08 11:24:47.5",
    "0000-01-01T00:00:00.5",
    "2024-03-10T02:30:00.25",  # in New York's spring-forward gap
    "2024-11-03T01:30:00.25",  # in its fall-back overlap
    "1880-06-01T12:00:00.1234567",  # local mean time in many zones
    "x" * 50,
    "",
    "[SR_GREETING]",
    'US:"Supplier";NO:"Leverandør";',
]
DATETIME_TEXTS = st.one_of(datetimes(), st.sampled_from(ODD_TEXTS))


def odd_values() -> st.SearchStrategy[Any]:
    """What may stand where a date-time is declared in a value not normalised."""
    return st.one_of(DATETIME_TEXTS, st.none(), st.integers(), st.just([]))


@st.composite
def with_odd_leaves(draw: st.DrawFn, schema: Schema, value: Any, depth: int = 0) -> Any:
    """``value`` with some date-time and string leaves replaced by odd ones (a new value)."""
    if type(value) is not dict or depth > 6:
        return value
    out = dict(value)
    for field in schema.fields:
        old = out.get(field.name)
        kind = field.type.kind.name
        if kind in ("DATETIME", "STRING") and draw(st.integers(0, 3)) == 0:
            out[field.name] = draw(odd_values())
        elif kind == "CARRIER" and old is not None:
            out[field.name] = draw(with_odd_leaves(field.type.schema, old, depth + 1))
        elif kind == "ARRAY" and old and field.type.item is not None:
            item = field.type.item
            if item.kind.name == "CARRIER":
                out[field.name] = [
                    draw(with_odd_leaves(item.schema, x, depth + 1)) if x is not None else None
                    for x in old
                ]
            elif item.kind.name == "DATETIME" and draw(st.booleans()):
                out[field.name] = [draw(odd_values()) for _ in old]
    if draw(st.integers(0, 5)) == 0 and out:
        del out[draw(st.sampled_from(sorted(out)))]  # a partial dict
    return out


@st.composite
def shaped_cases(draw: st.DrawFn) -> tuple[Schema, Any]:
    schema = draw(st.sampled_from(SCHEMAS))
    value = draw(carriers(schema, 3))
    if draw(st.booleans()):
        value = draw(with_odd_leaves(schema, value))
    return schema, value


# -- the walkers and leaf functions against the reference walk ----------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=shaped_cases(),
    headers=shaping_headers(),
    base=st.sampled_from(BASE_ZONES),
    table=st.sampled_from([DEFAULT_RESOURCES, TABLE]),
    twice=st.booleans(),
)
def test_the_compiled_walk_equals_the_reference_walk(
    case: tuple[Schema, Any], headers: dict[str, str], base: str | tzinfo, table: Any, twice: bool
) -> None:
    schema, value = case
    shaping = Shaping.from_headers(headers, base_zone=base, resources=table)
    before = copy.deepcopy(value)
    expected = _reference_apply(shaping, schema, value)
    assert value == before
    got = shaping.apply(schema, value)
    assert got == expected
    assert value == before  # the input is never changed
    if expected is value:
        assert got is value  # nothing to shape: the value itself, not a copy
    if twice:  # the second time every conversion comes from the caches
        assert shaping.apply(schema, value) == expected
        assert (
            Shaping.from_headers(headers, base_zone=base, resources=table).apply(
                schema, copy.deepcopy(value)
            )
            == expected
        )


@settings(max_examples=100, deadline=None)
@given(value=carriers(COUNTS, 3), headers=shaping_headers())
def test_a_carrier_with_nothing_to_shape_is_returned_as_it_is(
    value: dict[str, Any], headers: dict[str, str]
) -> None:
    assert Shaping.from_headers(headers).apply(COUNTS, value) is value
    assert _reference_apply(Shaping.from_headers(headers), COUNTS, value) is value


def test_a_date_time_field_holding_none_passes_through() -> None:
    shaping = Shaping.from_headers({"SO-TimeZone": "US-NY, includeTZOffset"})
    value = {**CONTACT.default(), "DbiLastModified": None, "CreatedDate": None}
    assert shaping.apply(CONTACT, value) is value
    stamp = {**STAMP.default(), "At": None, "Times": [None, "2024-01-01T12:00:00Z", None]}
    out = shaping.apply(STAMP, stamp)
    assert out == {**stamp, "Times": [None, "2024-01-01T07:00:00-0500", None]}
    assert out == _reference_apply(shaping, STAMP, stamp)
    assert stamp["Times"] == [None, "2024-01-01T12:00:00Z", None]


# -- the cached converter against convert_datetime ---------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    texts=st.lists(DATETIME_TEXTS, min_size=1, max_size=6),
    fractions=st.lists(st.text("0123456789", min_size=1, max_size=7), max_size=3),
    zone=st.sampled_from(ZONE_NAMES),
    base=st.sampled_from(BASE_ZONES),
    include=st.booleans(),
)
def test_the_converter_equals_convert_datetime(
    texts: list[str], fractions: list[str], zone: str, base: str | tzinfo, include: bool
) -> None:
    target = zones.resolve_zone(zone)[1]
    base_tz = zones.resolve_zone(base)[1] if isinstance(base, str) else base
    convert = _converter(target, base_tz, include)
    # The same instants again with other fractions: hits of the per-instant cache.
    again = [t[:19] + "." + f + t[19:].lstrip(".0123456789") for t in texts for f in fractions]
    for text in [*texts, *again, *texts]:
        expected = convert_datetime(text, target, base=base_tz, include_offset=include)
        assert convert(text) == expected, text


def test_the_converter_is_bounded() -> None:
    convert = _converter(ZoneInfo("Europe/Oslo"), UTC, False)
    limit = zones._INSTANT_CACHE_SIZE
    for second in range(limit + 50):
        text = f"2020-01-01T00:{second // 60 % 60:02d}:{second % 60:02d}.{second:07d}Z"
        day = f"2020-01-{1 + second // 3600:02d}"
        text = day + text[10:]
        assert convert(text) == convert_datetime(text, ZoneInfo("Europe/Oslo"))
    caches = closure_dicts(convert)
    assert len(caches) == 2 and all(0 < len(cache) <= limit for cache in caches)


def closure_dicts(function: Any, seen: set[int] | None = None) -> list[dict[Any, Any]]:
    """The dicts a function's closure holds, through the functions it closes over."""
    seen = set() if seen is None else seen
    found: list[dict[Any, Any]] = []
    for cell in function.__closure__ or ():
        content = cell.cell_contents
        if id(content) in seen:
            continue
        seen.add(id(content))
        if isinstance(content, dict):
            found.append(content)
        elif callable(content) and getattr(content, "__closure__", None):
            found += closure_dicts(content, seen)
    return found


def test_an_unhashable_zone_is_converted_uncached() -> None:
    class Odd(tzinfo):
        __hash__ = None  # type: ignore[assignment]

        def utcoffset(self, dt: Any) -> timedelta:
            return timedelta(hours=2)

        def dst(self, dt: Any) -> timedelta:
            return timedelta(0)

        def tzname(self, dt: Any) -> str:
            return "ODD"

        def fromutc(self, dt: Any) -> Any:
            return (dt + timedelta(hours=2)).replace(tzinfo=self)

    shaping = Shaping(timezone=Odd(), timezone_name="odd")
    value = {**STAMP.default(), "At": "2024-01-01T12:00:00.5Z"}
    assert shaping.apply(STAMP, value)["At"] == "2024-01-01T14:00:00.5"
    base = Shaping.from_headers({"SO-TimeZone": "UTC"}, base_zone=Odd())
    assert base.apply(STAMP, {**value, "At": "2024-01-01T12:00:00"})["At"] == "2024-01-01T10:00:00"


# -- from_headers: memoised against a fresh parse ---------------------------------------


@settings(max_examples=200, deadline=None)
@given(headers=shaping_headers(), base=st.sampled_from(BASE_ZONES), lower=st.booleans())
def test_memoised_headers_equal_a_fresh_parse(
    headers: dict[str, str], base: str | tzinfo, lower: bool
) -> None:
    if lower:
        headers = {name.lower(): value for name, value in headers.items()}
    first = Shaping.from_headers(headers, base_zone=base, resources=TABLE)
    found = {name.lower(): value for name, value in headers.items()}
    fresh = Shaping._parse(found, base, TABLE) if found else NO_SHAPING
    assert first == fresh
    assert Shaping.from_headers(headers, base_zone=base, resources=TABLE) == fresh
    other = Shaping.from_headers(headers, base_zone=base)
    assert other.resources is (DEFAULT_RESOURCES if found else NO_SHAPING.resources)


def test_the_memo_never_serves_another_table_or_zone() -> None:
    headers = {"SO-Language": "it"}
    assert Shaping.from_headers(headers).languages == ()  # the default table has no Italian
    with_table = Shaping.from_headers(headers, resources=TABLE)
    assert with_table.resources is TABLE and with_table.languages == ("IT",)
    assert Shaping.from_headers(headers).languages == ()
    oslo = Shaping.from_headers({"SO-TimeZone": "UTC"}, base_zone="NO")
    utc = Shaping.from_headers({"SO-TimeZone": "UTC"})
    assert oslo.base_zone is not utc.base_zone


def test_a_resource_table_of_its_own_kind_is_read_every_time() -> None:
    class Growing:
        def __init__(self) -> None:
            self.languages: tuple[str, ...] = ()

        def lookup(self, name: str, language: str) -> str | None:
            return None

    table = Growing()
    assert Shaping.from_headers({"SO-Language": "xx"}, resources=table).languages == ()
    table.languages = ("XX",)
    assert Shaping.from_headers({"SO-Language": "xx"}, resources=table).languages == ("XX",)


def test_refusals_are_raised_every_time() -> None:
    for _ in range(2):
        with pytest.raises(MalformedBody, match="Unknown time zone"):
            Shaping.from_headers({"SO-TimeZone": "Atlantis"})
        with pytest.raises(MalformedBody, match="option"):
            Shaping.from_headers({"SO-TimeZone": "UTC, sometimes"})


def test_the_memo_is_bounded() -> None:
    for index in range(core._MEMO_SIZE + 10):
        Shaping.from_headers({"Accept-Language": f"de;q=0.{index % 1000:03d}"})
    assert 0 < len(core._MEMO) <= core._MEMO_SIZE
    long = {"SO-Culture": "sv", "Accept-Language": "de, " + "en;q=0.5, " * 60}
    size = len(core._MEMO)
    Shaping.from_headers(long)
    assert len(core._MEMO) in (size, 1)
    assert not any(key[3:] == tuple(long.items()) for key in core._MEMO)
    # Nor a mapping of many headers (the whole request's, say): parsed, never kept.
    many = {**{f"X-Other-{n}": "1" for n in range(10)}, "SO-TimeZone": "US-NY"}
    assert Shaping.from_headers(many).timezone_name == "US-NY"
    assert not any(len(key) > 3 + core._MEMO_HEADERS for key in core._MEMO)


def test_a_prepared_shaping_pickles_and_copies_without_its_functions() -> None:
    import pickle

    shaping = Shaping.from_headers({"SO-TimeZone": "US-NY", "SO-Language": "nb"}, resources=TABLE)
    value = {**STAMP.default(), "At": "2024-06-01T12:00:00.5Z", "Label": "[SR_GREETING]"}
    shaped = shaping.apply(STAMP, value)
    assert shaping._prepared is not None
    for other in (pickle.loads(pickle.dumps(shaping)), copy.deepcopy(shaping)):
        assert other._prepared is None
        assert (other.timezone_name, other.languages) == ("US-NY", ("NO",))
        assert (
            other.apply(STAMP, value)
            == shaped
            == {
                **value,
                "At": "2024-06-01T08:00:00.5",
                "Label": "Hei",
            }
        )
