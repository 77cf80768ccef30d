"""Response shaping: SO-TimeZone, SO-Language / Accept-Language, SO-Culture."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from strategies import carriers, datetimes

from negotiate.errors import EncodeError, MalformedBody
from negotiate.media import language_ranges, lookup_language
from negotiate.resources import DEFAULT_RESOURCES, Resources, ResourceTable
from negotiate.schema import FieldType, Kind, Schema, get_schema
from negotiate.select import select
from negotiate.shaping import (
    LANGUAGE_CODES,
    NO_SHAPING,
    TIME_ZONES,
    Shaping,
    convert_datetime,
    parse_accept_language,
    resolve_zone,
    superoffice_language,
    translate,
)

DATA = Path(__file__).parent / "data" / "superoffice"
CONTACT = get_schema("ContactEntity")
OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")


def sample(name: str = "contact-sample.json") -> dict[str, Any]:
    return CONTACT.normalize(orjson.loads((DATA / name).read_bytes()))


# -- time zones: codes, ids, names ---------------------------------------------

# WIRE.md ("Headers"), from SuperOffice's /api/v1/timezone table.
DOCUMENTED_ZONES = [
    ("UTC", "1", "UTC"),
    ("NO", "261", "Europe/Oslo"),
    ("DK", "140", "Europe/Copenhagen"),
    ("FR", "156", "Europe/Paris"),
    ("US-NY", "460", "America/New_York"),
    ("US-CA", "425", "America/Los_Angeles"),
    ("US-HI", "433", "Pacific/Honolulu"),
    ("CA-QC", "114", "America/Toronto"),
    ("AU-ACT", "36", "Australia/Sydney"),
    ("BD", "50", "Asia/Dhaka"),
]


def zone_key(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(zone)


@pytest.mark.parametrize(("code", "zone_id", "iana"), DOCUMENTED_ZONES, ids=lambda v: v)
def test_documented_zone_codes_and_ids(code: str, zone_id: str, iana: str) -> None:
    for text in (code, code.lower(), zone_id, f" {zone_id} "):
        name, zone = resolve_zone(text)
        assert name == code
        assert zone_key(zone) == iana
    assert TIME_ZONES[code] == (int(zone_id), iana)


def test_no_undocumented_codes() -> None:
    assert sorted(TIME_ZONES) == sorted(code for code, _, _ in DOCUMENTED_ZONES)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Europe/Oslo", "Europe/Oslo"),
        ("europe/oslo", "Europe/Oslo"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Asia/Kolkata", "Asia/Kolkata"),
    ],
)
def test_iana_names_are_an_extension(text: str, name: str) -> None:
    found, zone = resolve_zone(text)
    assert found == name and str(zone) == name


@pytest.mark.parametrize(
    "text",
    ["Mars/Olympus", "999", "0", "US-XX", "../../etc/passwd", "/etc/localtime", "America", "NO2"],
)
def test_unknown_zone_is_400(text: str) -> None:
    with pytest.raises(MalformedBody) as info:
        resolve_zone(text)
    assert info.value.status == 400 and info.value.location == "SO-TimeZone"
    assert "US-NY/460" in info.value.message


@pytest.mark.parametrize(
    ("header", "name", "include"),
    [
        ("NO", "NO", False),
        ("261", "NO", False),
        ("US-NY, includeTZOffset", "US-NY", True),
        ("us-ny,includetzoffset", "US-NY", True),
        ("460 , IncludeTZOffset", "US-NY", True),
        ("Europe/Paris, includeTZOffset", "Europe/Paris", True),
    ],
)
def test_timezone_header(header: str, name: str, include: bool) -> None:
    shaping = Shaping.from_headers({"SO-TimeZone": header})
    assert shaping.timezone_name == name
    assert shaping.include_offset is include
    assert shaping.active


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("NO, includeOffset", "Unknown SO-TimeZone option"),
        ("NO, includeTZOffset, x", "Unknown SO-TimeZone option"),
        (", includeTZOffset", "names no zone"),
        ("Nowhere", "Unknown time zone"),
    ],
)
def test_bad_timezone_header_is_400(header: str, fragment: str) -> None:
    with pytest.raises(MalformedBody, match=fragment) as info:
        Shaping.from_headers({"so-timezone": header})
    assert info.value.location == "SO-TimeZone"


def test_blank_timezone_header_converts_nothing() -> None:
    assert not Shaping.from_headers({"SO-TimeZone": "  "}).active


# -- time zones: converting one value -------------------------------------------


@pytest.mark.parametrize(
    ("text", "target", "base", "include", "expected"),
    [
        # SuperOffice's documented example: a UTC value asked for in US-NY.
        ("2018-12-24T12:34:45Z", NEW_YORK, UTC, True, "2018-12-24T07:34:45-0500"),
        ("2018-12-24T12:34:45Z", NEW_YORK, UTC, False, "2018-12-24T07:34:45"),
        # ... and one stored in the base zone NO, without an offset.
        ("2018-12-24T13:34:45", NEW_YORK, OSLO, False, "2018-12-24T07:34:45"),
        ("2018-12-24T12:34:45", OSLO, OSLO, False, "2018-12-24T12:34:45"),
        ("2018-12-24T12:34:45", OSLO, OSLO, True, "2018-12-24T12:34:45+0100"),
        # Offsets with and without a colon.
        ("2015-11-08T11:24:47.8282933+01:00", OSLO, UTC, False, "2015-11-08T11:24:47.8282933"),
        (
            "2015-11-08T11:24:47.8282933+01:00",
            NEW_YORK,
            UTC,
            True,
            "2015-11-08T05:24:47.8282933-0500",
        ),
        ("2018-12-24T07:34:45-0500", UTC, UTC, True, "2018-12-24T12:34:45+0000"),
        ("2018-12-24T07:34:45-05:00", UTC, UTC, False, "2018-12-24T12:34:45"),
        ("2024-06-01T00:00:00+0530", UTC, UTC, True, "2024-05-31T18:30:00+0000"),
        # Without an offset: in the base zone (UTC by default).
        ("2016-01-04T13:27:28", OSLO, UTC, False, "2016-01-04T14:27:28"),
        ("2016-01-04T13:27", OSLO, UTC, False, "2016-01-04T14:27:00"),
        # The 7th fractional digit, and trailing zeros, survive.
        ("2024-06-01T12:00:00.0000001Z", OSLO, UTC, False, "2024-06-01T14:00:00.0000001"),
        ("2024-06-01T12:00:00.5000000Z", OSLO, UTC, False, "2024-06-01T14:00:00.5000000"),
        ("2024-06-01T12:00:00.9999999Z", NEW_YORK, UTC, True, "2024-06-01T08:00:00.9999999-0400"),
        # Across a day, month and year boundary.
        (
            "2024-01-01T02:00:00+01:00",
            ZoneInfo("Pacific/Honolulu"),
            UTC,
            True,
            "2023-12-31T15:00:00-1000",
        ),
        ("2024-02-29T23:30:00Z", ZoneInfo("Asia/Dhaka"), UTC, True, "2024-03-01T05:30:00+0600"),
        # Southern hemisphere summer and winter.
        (
            "2024-01-15T00:00:00Z",
            ZoneInfo("Australia/Sydney"),
            UTC,
            True,
            "2024-01-15T11:00:00+1100",
        ),
        (
            "2024-07-15T00:00:00Z",
            ZoneInfo("Australia/Sydney"),
            UTC,
            True,
            "2024-07-15T10:00:00+1000",
        ),
        # Local mean time (offset -4:56:02) is rounded to a whole minute, consistently.
        ("1850-01-01T00:00:00Z", NEW_YORK, UTC, True, "1849-12-31T19:04:00-0456"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_convert(text: str, target: tzinfo, base: tzinfo, include: bool, expected: str) -> None:
    assert convert_datetime(text, target, base=base, include_offset=include) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Europe/Oslo: spring forward 2024-03-31 01:00 UTC (02:00 -> 03:00).
        ("2024-03-31T00:59:59.9999999Z", "2024-03-31T01:59:59.9999999+0100"),
        ("2024-03-31T01:00:00Z", "2024-03-31T03:00:00+0200"),
        # Europe/Oslo: fall back 2024-10-27 01:00 UTC (03:00 -> 02:00): 02:30 twice.
        ("2024-10-27T00:30:00Z", "2024-10-27T02:30:00+0200"),
        ("2024-10-27T00:59:59.9999999Z", "2024-10-27T02:59:59.9999999+0200"),
        ("2024-10-27T01:00:00Z", "2024-10-27T02:00:00+0100"),
        ("2024-10-27T01:30:00Z", "2024-10-27T02:30:00+0100"),
    ],
)
def test_dst_edges_oslo(text: str, expected: str) -> None:
    assert convert_datetime(text, OSLO, include_offset=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # America/New_York: spring forward 2024-03-10 07:00 UTC (02:00 -> 03:00).
        ("2024-03-10T06:59:59.9999999Z", "2024-03-10T01:59:59.9999999-0500"),
        ("2024-03-10T07:00:00Z", "2024-03-10T03:00:00-0400"),
        ("2024-03-10T02:30:00-05:00", "2024-03-10T03:30:00-0400"),
        # America/New_York: fall back 2024-11-03 06:00 UTC (02:00 -> 01:00): 01:30 twice.
        ("2024-11-03T05:30:00Z", "2024-11-03T01:30:00-0400"),
        ("2024-11-03T06:00:00Z", "2024-11-03T01:00:00-0500"),
        ("2024-11-03T06:30:00.1234567Z", "2024-11-03T01:30:00.1234567-0500"),
    ],
)
def test_dst_edges_new_york(text: str, expected: str) -> None:
    assert convert_datetime(text, NEW_YORK, include_offset=True) == expected


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        # A wall time in the base zone's gap or overlap reads with the earlier offset.
        ("2024-03-31T02:30:00", OSLO, "2024-03-31T01:30:00+0000"),
        ("2024-10-27T02:30:00", OSLO, "2024-10-27T00:30:00+0000"),
        ("2024-11-03T01:30:00", NEW_YORK, "2024-11-03T05:30:00+0000"),
        ("2024-03-10T02:30:00", NEW_YORK, "2024-03-10T07:30:00+0000"),
    ],
)
def test_ambiguous_base_times_read_with_fold_0(text: str, base: tzinfo, expected: str) -> None:
    assert convert_datetime(text, UTC, base=base, include_offset=True) == expected


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("0001-01-01T00:00:00", NEW_YORK),  # the .NET default: "no date"
        ("0001-01-01T00:00:00", OSLO),
        ("0001-01-01T00:00:00.0000000", OSLO),
        ("0001-01-01T00:00:00Z", NEW_YORK),
        ("9999-12-31T23:59:59.9999999", NEW_YORK),  # DateTime.MaxValue
        ("0001-01-01T03:00:00Z", NEW_YORK),  # would be year 0
        ("9999-12-31T23:00:00Z", OSLO),  # would be year 10000
        ("not a date", OSLO),
        ("2024-02-30T00:00:00", OSLO),  # no such day
        ("2024-06-01T00:00:00+25:00", OSLO),  # no such offset
        ("", OSLO),
    ],
)
def test_left_untouched(text: str, target: tzinfo) -> None:
    assert convert_datetime(text, target, include_offset=True) is text


def instant(text: str) -> tuple[datetime, str]:
    """The instant (whole seconds, UTC) and fractional digits a value names (UTC if naive)."""
    match = re.fullmatch(
        r"(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?", text
    )
    assert match is not None, text
    moment = datetime.fromisoformat(match[1])
    zone = match[3]
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment.replace(tzinfo=timezone(sign * offset))
    else:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), match[2] or ""


ZONES = [resolve_zone(code)[1] for code in TIME_ZONES] + [ZoneInfo("Asia/Kolkata")]


@settings(max_examples=200, deadline=None)
@given(text=datetimes(), target=st.sampled_from(ZONES))
def test_conversion_keeps_the_instant_and_every_digit(text: str, target: tzinfo) -> None:
    tagged = convert_datetime(text, target, include_offset=True)
    plain = convert_datetime(text, target)
    if tagged is text:  # a default, or out of range after conversion
        assert plain is text
        return
    assert plain == tagged[:-5]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?[+-]\d{4}", tagged)
    before, digits = instant(text)
    after, after_digits = instant(tagged)
    assert after_digits == digits
    assert after == before  # also with local mean time: the offset is rounded with the time


# -- time zones: a whole carrier -----------------------------------------------


def leaves(schema: Schema, a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Kind, Any, Any]]:
    """Pairs of leaf values at the same place in two carriers of ``schema``."""
    for field in schema.fields:
        yield from _leaves(field.type, a[field.name], b[field.name], f"{path}/{field.name}")


def _leaves(ftype: FieldType, a: Any, b: Any, path: str) -> Iterator[tuple[str, Kind, Any, Any]]:
    if a is None or b is None or ftype.kind not in (Kind.CARRIER, Kind.ARRAY, Kind.DICT):
        yield path, ftype.kind, a, b
    elif ftype.kind is Kind.CARRIER:
        yield from leaves(ftype.schema, a, b, path)
    elif ftype.kind is Kind.ARRAY:
        assert ftype.item is not None and len(a) == len(b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _leaves(ftype.item, x, y, f"{path}/{i}")
    else:
        assert ftype.item is not None and list(a) == list(b)
        for k in a:
            yield from _leaves(ftype.item, a[k], b[k], f"{path}/{k}")


def test_sample_in_new_york() -> None:
    value = sample()
    before = copy.deepcopy(value)
    out = Shaping.from_headers({"SO-TimeZone": "US-NY, includeTZOffset"}).apply(CONTACT, value)
    assert value == before
    # Documented: CreatedDate and UpdatedDate are UTC and never converted.
    assert out["UpdatedDate"] == value["UpdatedDate"] == "2015-11-08T11:24:47.8282933+01:00"
    assert out["CreatedDate"] == value["CreatedDate"]
    assert out["DbiLastSyncronized"] == "2000-07-20T05:24:47.8282933-0400"
    assert out["DbiLastModified"] == "2019-07-11T05:24:47.8282933-0400"
    assert out["Interests"][0]["LastChanged"] == "2005-08-02T05:24:47.8282933-0400"
    # Copy-on-write: what holds no date-time is shared, not copied.
    assert out["Persons"] is value["Persons"]
    assert out["Emails"] is value["Emails"]
    assert out["Interests"] is not value["Interests"]


@pytest.mark.parametrize(
    ("include", "stored", "expected"),
    [
        (True, "2016-01-04T13:27:28", "2016-01-04T13:27:28Z"),
        (False, "2016-01-04T13:27:28", "2016-01-04T13:27:28"),
        (True, "2016-01-04T13:27:28.1234567+01:00", "2016-01-04T13:27:28.1234567+01:00"),
        (True, "2016-01-04T13:27:28Z", "2016-01-04T13:27:28Z"),
        (True, "0001-01-01T00:00:00", "0001-01-01T00:00:00"),
    ],
)
def test_created_and_updated_are_only_tagged_utc(include: bool, stored: str, expected: str) -> None:
    value = CONTACT.normalize({"CreatedDate": stored, "UpdatedDate": stored})
    header = "FR, includeTZOffset" if include else "FR"
    out = Shaping.from_headers({"SO-TimeZone": header}).apply(CONTACT, value)
    assert out["CreatedDate"] == out["UpdatedDate"] == expected


def test_base_zone_is_configurable() -> None:
    value = CONTACT.normalize({"DbiLastModified": "2018-12-24T13:34:45"})
    for base in ("NO", "261", "Europe/Oslo", OSLO):
        shaping = Shaping.from_headers({"SO-TimeZone": "US-NY"}, base_zone=base)
        assert shaping.apply(CONTACT, value)["DbiLastModified"] == "2018-12-24T07:34:45"
    with pytest.raises(ValueError, match="unknown base time zone"):
        Shaping.from_headers({"SO-TimeZone": "US-NY"}, base_zone="Atlantis")


@settings(max_examples=100, deadline=None)
@given(
    value=carriers(CONTACT, 3),
    code=st.sampled_from(list(TIME_ZONES)),
    include=st.booleans(),
    language=st.sampled_from(["", "nb-NO", "fr"]),
)
def test_every_datetime_and_string_and_nothing_else_changes(
    value: dict[str, Any], code: str, include: bool, language: str
) -> None:
    before = copy.deepcopy(value)
    headers = {"SO-TimeZone": f"{code}, includeTZOffset" if include else code}
    if language:
        headers["Accept-Language"] = language
    shaping = Shaping.from_headers(headers)
    out = shaping.apply(CONTACT, value)
    assert value == before
    target = resolve_zone(code)[1]
    for path, kind, old, new in leaves(CONTACT, value, out):
        if kind is Kind.DATETIME and path.rsplit("/", 1)[-1] in ("CreatedDate", "UpdatedDate"):
            assert new in (old, old + "Z"), path
        elif kind is Kind.DATETIME:
            assert new == convert_datetime(old, target, include_offset=include), path
        elif kind is Kind.STRING and language and old is not None:
            assert new == translate(old, shaping.languages, DEFAULT_RESOURCES), path
        else:
            assert new is old, path


def test_select_then_shape() -> None:
    value = sample()
    projected = select(CONTACT, "Name,DbiLastModified", value)
    out = Shaping.from_headers({"SO-TimeZone": "NO"}).apply(CONTACT, projected)
    assert out["DbiLastModified"] == "2019-07-11T11:24:47.8282933"
    assert out["DbiLastSyncronized"] == "0001-01-01T00:00:00"  # nulled by $select, not converted


def test_too_deep_to_walk_is_an_encode_error() -> None:
    item: dict[str, Any] = {"LastChanged": "2020-01-01T00:00:00Z", "ChildItems": None}
    for _ in range(5000):
        item = {"LastChanged": "2020-01-01T00:00:00Z", "ChildItems": [item]}
    with pytest.raises(EncodeError, match="too deeply"):
        Shaping.from_headers({"SO-TimeZone": "NO"}).apply(CONTACT, {"Interests": [item]})


# -- languages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en", "US"),
        ("en-GB", "US"),
        ("en-us", "US"),
        ("nb", "NO"),
        ("nb-NO", "NO"),
        ("nn", "NO"),
        ("no", "NO"),
        ("de-DE", "GE"),
        ("de-CH", "GE"),
        ("sv", "SW"),
        ("sv_SE", "SW"),
        ("da", "DA"),
        ("fr-CA", "FR"),
        ("fi", "FI"),
        ("nl-BE", "DU"),
        ("it", "IT"),
        ("pl-PL", "PL"),
        ("US", "US"),
        ("GE", "GE"),
        ("SW", "SW"),
        ("DU", "DU"),
    ],
)
def test_superoffice_language(tag: str, code: str) -> None:
    assert superoffice_language(tag) == code


def test_language_table() -> None:
    assert LANGUAGE_CODES["en"] == "US" and LANGUAGE_CODES["de"] == "GE"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en", ("en",)),
        ("en-us; en-gb", ("en-us",)),  # SuperOffice's own example: the second is a parameter
        ("da, en-gb;q=0.8, en;q=0.7", ("da", "en-gb", "en")),
        ("fr;q=0.5, de", ("de", "fr")),
        ("fr;q=0.5, de;q=0.5, nl;q=0.5", ("fr", "de", "nl")),
        ("en;q=0, fr", ("fr",)),
        ("en;q=0.000, fr", ("fr",)),
        ("en;q=1.000, fr;q=1", ("en", "fr")),
        ("en;q=2, fr", ("fr",)),
        ("en;q=0.1234, fr", ("fr",)),
        ("en;q=abc, fr", ("fr",)),
        ("en;Q=0.5, fr", ("fr", "en")),
        ("12, fr", ("fr",)),
        ("*, fr;q=0.5", ("fr",)),  # "*" wants nothing in particular
        ("en;foo=bar;q=0.5, fr", ("fr", "en")),  # the q after another parameter
        ("nb_NO, DE", ("nb-no", "de")),
        ("", ()),
        (" , ,", ()),
    ],
)
def test_parse_accept_language(header: str, expected: tuple[str, ...]) -> None:
    assert parse_accept_language(header) == expected


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ('US:"Supplier";NO:"Leverandør";', ("NO",), "Leverandør"),
        ('US:"Supplier";NO:"Leverandør";', ("US",), "Supplier"),
        ('NO:"Leverandør";US:"Supplier"', ("US",), "Supplier"),  # no final ';'
        ('US:"Supplier";NO:"Leverandør";', ("GE",), "Supplier"),  # falls back to the first
        ('NO:"Leverandør";US:"Supplier";', ("GE",), "Leverandør"),
        ('US:"Supplier";GE:"Lieferant";NO:"Leverandør";', ("SW", "GE"), "Lieferant"),
        ('US:"";NO:"Leverandør";', ("US",), ""),
        ('US:"Supplier"', ("NO",), "Supplier"),
        # Not the strict form: left as it is.
        ('US: "Supplier";NO:"Leverandør";', ("NO",), 'US: "Supplier";NO:"Leverandør";'),
        ('us:"Supplier";no:"Leverandør";', ("NO",), 'us:"Supplier";no:"Leverandør";'),
        ('US:"Sup"plier";NO:"x";', ("NO",), 'US:"Sup"plier";NO:"x";'),
        ('Note US:"Supplier";', ("US",), 'Note US:"Supplier";'),
        ('US:"Supplier";;NO:"x";', ("NO",), 'US:"Supplier";;NO:"x";'),
        ('US:"Supplier"; NO:"x";', ("NO",), 'US:"Supplier"; NO:"x";'),
        ('USA:"Supplier";', ("US",), 'USA:"Supplier";'),
        ("Supplier", ("US",), "Supplier"),
        # Resource references, whole or inline; unknown ones stay.
        ("[SR_MANDATORY_FIELD_1281]", ("FR",), "Nom de société"),
        ("[SR_MANDATORY_FIELD_1281]", ("NO",), "Firmanavn"),
        ("[SR_MANDATORY_FIELD_1281]", ("IT", "GE"), "Firmenname"),
        ("Level: [SR_SLEVEL_INTERNAL].", ("US",), "Level: Internal."),
        ("[SR_NO_SUCH_RESOURCE]", ("US",), "[SR_NO_SUCH_RESOURCE]"),
        ("[SR_MANDATORY_FIELD_1281]", ("IT",), "[SR_MANDATORY_FIELD_1281]"),
        ('US:"[SR_SLEVEL_INTERNAL]";NO:"x";', ("US",), "Internal"),
    ],
)
def test_translate(text: str, languages: tuple[str, ...], expected: str) -> None:
    assert translate(text, languages, DEFAULT_RESOURCES) == expected


def test_untranslated_text_is_the_same_object() -> None:
    text = "[SR_NO_SUCH_RESOURCE] and more"
    assert translate(text, ("US",), DEFAULT_RESOURCES) is text


def test_resource_table_is_pluggable() -> None:
    class Upper:
        def lookup(self, name: str, language: str) -> str | None:
            return f"{name.lower()}@{language}" if name.startswith("SR_X") else None

    assert isinstance(Upper(), Resources)
    assert translate("[SR_X1] [SR_Y]", ("NO",), Upper()) == "sr_x1@NO [SR_Y]"
    table = ResourceTable({"no": {"sr_hello": "Hei"}})
    assert translate("[SR_HELLO]!", ("NO",), table) == "Hei!"
    assert table.languages == ("NO",)
    value = CONTACT.normalize({"Name": "[SR_HELLO]"})
    shaping = Shaping.from_headers({"SO-Language": "nb"}, resources=table)
    assert shaping.apply(CONTACT, value)["Name"] == "Hei"


@pytest.mark.parametrize(
    ("headers", "languages", "tag"),
    [
        ({"Accept-Language": "fr"}, ("FR",), "fr"),
        ({"Accept-Language": "en-us; en-gb", "SO-Language": "nb-no"}, ("NO",), "nb-NO"),
        ({"accept-language": "de, en;q=0.5, en-GB;q=0.4"}, ("GE", "US"), "de"),
        ({"SO-LANGUAGE": "sv_se"}, ("SW",), "sv-SE"),
        ({"Accept-Language": "en", "SO-Language": "x"}, (), None),
        ({"Accept-Language": "en", "SO-Language": "*"}, (), None),
        ({"Accept-Language": "en", "SO-Language": " "}, ("US",), "en"),
        ({"Accept-Language": "*"}, (), None),
        ({"Accept-Language": "x"}, (), None),
        ({"Accept-Language": "*, fi;q=0.1"}, ("FI",), "fi"),
        ({"Accept-Language": "en;q=0"}, (), None),
    ],
)
def test_language_headers(headers: dict[str, str], languages: tuple[str, ...], tag: str) -> None:
    shaping = Shaping.from_headers(headers)
    assert shaping.languages == languages
    assert shaping.language == (languages[0] if languages else None)
    assert shaping.language_tag == tag


@pytest.mark.parametrize("value", ["nb no", "1", "n", "nb-NO;q=0.5", "en,fr", "nb--no"])
def test_bad_so_language_is_400(value: str) -> None:
    with pytest.raises(MalformedBody) as info:
        Shaping.from_headers({"SO-Language": value})
    assert info.value.status == 400 and info.value.location == "SO-Language"


def test_every_string_is_translated() -> None:
    value = CONTACT.normalize(
        {
            "Name": "Nordvik",
            "Category": {"Id": 2, "Value": 'NO:"Leverandør";US:"Supplier"'},
            "Domains": ['US:"example.com";NO:"example.no";', None, "plain"],
            "UserDefinedFields": {'US:"key";': 'US:"Supplier";NO:"Leverandør";'},
            "FieldProperties": {
                "Name": {
                    "FieldRight": {"Mask": "Update", "Reason": "[SR_MANDATORY_FIELD_1281]"},
                    "FieldType": "System.String",
                    "FieldLength": 220,
                }
            },
            "Address": {"LocalizedAddress": [[{"Name": "city", "Label": "[SR_SLEVEL_INTERNAL]"}]]},
        }
    )
    before = copy.deepcopy(value)
    out = Shaping.from_headers({"Accept-Language": "fr, en;q=0.5"}).apply(CONTACT, value)
    assert value == before
    assert out["Name"] is value["Name"]
    assert out["Category"]["Value"] == "Supplier"
    assert out["Domains"] == ["example.com", None, "plain"]
    # Dictionary keys are left alone; values are translated.
    assert out["UserDefinedFields"] == {'US:"key";': "Supplier"}
    assert out["FieldProperties"]["Name"]["FieldRight"]["Reason"] == "Nom de société"
    assert out["Address"]["LocalizedAddress"][0][0]["Label"] == "Interne"
    assert out["Persons"] is value["Persons"]


# -- culture -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "culture"),
    [
        ({"SO-Language": "nb-no", "SO-Culture": "sv"}, "sv"),
        ({"Accept-Language": "en-us; en-gb", "SO-Language": "nb-no", "SO-Culture": "sv"}, "sv"),
        ({"SO-Language": "nb-no"}, "nb-NO"),
        ({"Accept-Language": "de-ch"}, "de-CH"),
        ({"SO-Language": "en", "SO-Culture": "sv_se"}, "sv-SE"),
        ({"SO-Language": "en", "SO-Culture": "zh-hant-tw"}, "zh-Hant-TW"),
        ({"SO-Language": "en", "SO-Culture": "*"}, "en"),
        ({"SO-Culture": "sv"}, None),  # ignored without a language
        ({"SO-Language": "x", "SO-Culture": "sv"}, None),
    ],
)
def test_culture(headers: dict[str, str], culture: str | None) -> None:
    assert Shaping.from_headers(headers).culture == culture


@pytest.mark.parametrize("value", ["12", "s", "sv SE", "sv-", "sv;q=1", "toolonglanguage"])
def test_bad_culture_is_400(value: str) -> None:
    with pytest.raises(MalformedBody) as info:
        Shaping.from_headers({"SO-Language": "en", "SO-Culture": value})
    assert info.value.location == "SO-Culture"


def test_culture_alone_changes_nothing() -> None:
    value = sample()
    shaping = Shaping.from_headers({"SO-Culture": "sv"})
    assert not shaping.active and shaping.apply(CONTACT, value) is value


# -- no headers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept": "application/json", "Content-Type": "text/xml"}],
    ids=["none", "other"],
)
def test_no_shaping_headers_is_a_no_op(headers: dict[str, str]) -> None:
    value = sample()
    shaping = Shaping.from_headers(headers)
    assert shaping is NO_SHAPING and not shaping.active
    assert shaping.apply(CONTACT, value) is value
    assert shaping.apply(CONTACT, None) is None


def test_carrier_with_nothing_to_convert_is_returned_as_is() -> None:
    rights = get_schema("TableRight")
    value = rights.normalize({"Mask": "Select", "Reason": "[SR_SLEVEL_INTERNAL]"})
    assert Shaping.from_headers({"SO-TimeZone": "NO"}).apply(rights, value) is value


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-us; en-gb", "en"),  # SuperOffice's example: the second is an ignored parameter
        ("de;foo=bar;q=0.5, en;q=0.4", "de"),
        ("de;q=0.5;foo=bar, en;q=0.6", "en"),
        ("de;q=x, en;q=0.1", "en"),  # a malformed q drops its item only
    ],
)
def test_shaping_and_content_language_read_accept_language_alike(
    header: str, language: str
) -> None:
    shaping = Shaping.from_headers({"Accept-Language": header})
    assert shaping.content_language == language
    assert lookup_language(header, ("en", "de")) == language
    assert parse_accept_language(header) == language_ranges(header)
