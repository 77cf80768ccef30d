"""SO-TimeZone: the SuperOffice zone codes and ids, IANA names, date-time conversion.

Part of :mod:`negotiate.shaping` (see its docstring).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from negotiate.errors import MalformedBody, excerpt
from negotiate.schema.values import DATETIME_DEFAULT

__all__ = ["TIME_ZONES", "convert_datetime", "resolve_zone"]


TIME_ZONES: Final[Mapping[str, tuple[int, str]]] = {
    "UTC": (1, "UTC"),
    "AU-ACT": (36, "Australia/Sydney"),  # Canberra; IANA's Australia/Canberra links here
    "BD": (50, "Asia/Dhaka"),
    "CA-QC": (114, "America/Toronto"),  # Quebec; IANA's America/Montreal links here
    "DK": (140, "Europe/Copenhagen"),
    "FR": (156, "Europe/Paris"),
    "NO": (261, "Europe/Oslo"),
    "US-CA": (425, "America/Los_Angeles"),
    "US-HI": (433, "Pacific/Honolulu"),
    "US-NY": (460, "America/New_York"),
}
"""SuperOffice zone code -> (numeric id, IANA zone), as the ``/api/v1/timezone``
archive lists them in SuperOffice's documentation. Only documented codes are
here; any other zone can be named by its IANA name."""

_BY_CODE = {code.casefold(): code for code in TIME_ZONES}
_BY_ID = {str(zone_id): code for code, (zone_id, _) in TIME_ZONES.items()}
_INCLUDE_OFFSET = "includetzoffset"
_MAX_ZONE_TEXT = 128


@functools.cache
def _iana_names() -> dict[str, str]:
    # NOTE: IANA names are matched against the installed database's list, never
    # opened as given: a header value must not become a file lookup.
    return {name.casefold(): name for name in available_timezones()}


def _zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


@functools.lru_cache(maxsize=256)
def _lookup_zone(text: str) -> tuple[str, tzinfo] | None:
    key = text.strip()
    code = _BY_ID.get(key) or _BY_CODE.get(key.casefold())
    if code is not None:
        return code, _zone(TIME_ZONES[code][1])
    name = _iana_names().get(key.casefold())
    if name is None:
        return None
    return name, _zone(name)


def resolve_zone(text: str) -> tuple[str, tzinfo]:
    """A zone from a SuperOffice code (``US-NY``), id (``460``) or IANA name.

    Returns:
        The canonical name (the SuperOffice code, or the IANA name as the
        database spells it) and the zone.

    Raises:
        MalformedBody: unknown zone (400, located at ``SO-TimeZone``).
    """
    # NOTE: no zone name is this long (IANA's longest are about 32 characters); a long
    # header is refused before it can become a key of the lookup cache.
    found = _lookup_zone(text) if len(text) <= _MAX_ZONE_TEXT else None
    if found is None:
        codes = ", ".join(f"{code}/{zone_id}" for code, (zone_id, _) in TIME_ZONES.items())
        raise MalformedBody(
            f"Unknown time zone {excerpt(text.strip())}; expected a SuperOffice zone code or id "
            f"({codes}) or an IANA zone name",
            location="SO-TimeZone",
        )
    return found


_DATETIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,7}))?)?"
    r"(?:(Z)|([+-])(\d\d):?(\d\d))?",
    re.ASCII,
)
_MIN = datetime(1, 1, 1)
_MAX = datetime(9999, 12, 31, 23, 59, 59)


@functools.lru_cache(maxsize=64)
def _fixed(minutes: int) -> tzinfo:
    return timezone(timedelta(minutes=minutes))


def convert_datetime(
    text: str, target: tzinfo, *, base: tzinfo = UTC, include_offset: bool = False
) -> str:
    """Convert ISO 8601 date-time text to another zone, keeping every digit.

    Args:
        text: ``2015-11-08T11:24:47.8282933+01:00``, ``...Z``, ``...-0500`` or
            without an offset (then it is in ``base``).
        target: the zone to convert to.
        base: the zone of values without an offset.
        include_offset: append the target offset as ``-0500``.

    Returns:
        The wall time in ``target`` (``2015-11-08T05:24:47.8282933``), with
        the offset when asked; ``text`` itself when it is not a date-time,
        is a .NET default, or cannot be converted (see the module docstring).
    """
    if text == DATETIME_DEFAULT:
        return text  # PERF: the commonest value once $select has nulled fields
    match = _DATETIME.fullmatch(text)
    if match is None:
        return text
    (year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m) = match.groups()
    source: tzinfo
    if zulu:
        source = UTC
    elif sign:
        offset = int(off_h) * 60 + int(off_m)
        if offset >= 24 * 60:
            return text
        source = _fixed(-offset if sign == "-" else offset)
    else:
        source = base
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), 0, source
        )
    except ValueError:
        return text
    if (year == "0001" or year == "9999") and _is_sentinel(moment.replace(tzinfo=None), fraction):
        return text
    try:
        local = moment.astimezone(target)
        utc_offset = local.utcoffset()
        assert utc_offset is not None
        seconds = utc_offset.days * 86400 + utc_offset.seconds
        minutes = round(seconds / 60)
        if seconds != minutes * 60:
            # NOTE: local mean time offsets have seconds; round the offset and
            # move the wall time with it so the pair still names the instant.
            local += timedelta(seconds=minutes * 60 - seconds)
    except OverflowError:
        return text
    out = local.isoformat()[:19]  # the wall time, whole seconds (microsecond is 0)
    if fraction:
        out = f"{out}.{fraction}"
    if include_offset:
        out += _format_offset(minutes)
    return out


# -- the same conversion, cached per instant -------------------------------------
#
# PERF: converting one date-time costs a regular expression, two datetimes and a
# zone lookup (several µs); a response holds a few, and the same records are read
# again and again. The converter of a (target, base, offset form) keeps the zone
# conversion per instant: per wall-clock second and source offset, i.e. the text
# without its fraction, which every conversion carries through as text. A value
# is split at its fraction by position (no regular expression); a key is
# converted once by convert_datetime itself, so the cache cannot disagree with
# it, and years 0001 and 9999 skip it (whether they are the "no date" defaults
# depends on the fraction). In front of it, the whole text's result is memoised
# too, so a value seen before costs one dictionary lookup. Both are bounded.

_INSTANT_CACHE_SIZE: Final = 1024
"""Instants remembered per converter (then the oldest is dropped)."""
_LONGEST: Final = 40  # longer than any date-time text (33 characters at most)
_SIGNS: Final = frozenset("+-")
_UNCHANGED: Final = ""  # a key convert_datetime returns as it is (never a conversion's text)


@functools.lru_cache(maxsize=32)
def _converter(target: tzinfo, base: tzinfo, include_offset: bool) -> Callable[[str], str]:
    """:func:`convert_datetime` to ``target``, cached per instant (equal results).

    Zones must be hashable (``zoneinfo``, ``datetime.timezone`` and ``tzinfo``
    subclasses that do not define ``__eq__`` are).
    """
    seen: dict[str, str] = {}  # the text without its fraction -> its conversion or _UNCHANGED
    memo: dict[str, str] = {}  # the whole text -> its conversion (the usual hit: one lookup)

    def reference(text: str) -> str:
        return convert_datetime(text, target, base=base, include_offset=include_offset)

    def convert(text: str) -> str:
        done = memo.get(text)
        if done is None:
            if len(text) > _LONGEST:
                return reference(text)  # not a date-time: never a key
            done = instant(text)
            _remember(memo, text, done)
        return done

    def instant(text: str) -> str:
        size = len(text)
        if size > 20 and text[19] == ".":
            if text[-1] == "Z":
                end = size - 1
            elif text[-6] in _SIGNS:
                end = size - 6
            elif text[-5] in _SIGNS:
                end = size - 5
            else:
                end = size
            digits = text[20:end]
            if not (0 < len(digits) <= 7 and digits.isdigit() and digits.isascii()):
                return reference(text)  # not a date-time (or not one this splits)
            key = text[:19] + text[end:]
        else:
            key, end = text, 0
        done = seen.get(key)
        if done is None:
            if text.startswith(("0001", "9999")):
                return reference(text)
            converted = reference(key)
            done = _UNCHANGED if converted is key else converted
            _remember(seen, key, done)
        if not done:  # _UNCHANGED
            return text
        if not end:
            return done
        # the converted wall time is 19 characters; the fraction goes between it and the offset
        return f"{done[:19]}{text[19:end]}{done[19:]}"

    return convert


def _remember(cache: dict[str, str], key: str, value: str) -> None:
    """Store in a bounded cache, dropping the oldest entry when it is full."""
    if len(cache) >= _INSTANT_CACHE_SIZE:
        try:
            del cache[next(iter(cache))]
        except (KeyError, StopIteration, RuntimeError):
            pass  # another thread dropped it first
    cache[key] = value


@functools.lru_cache(maxsize=256)
def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{rest:02d}"


def _is_sentinel(naive: datetime, fraction: str | None) -> bool:
    """The .NET ``DateTime.MinValue`` / ``MaxValue``: "no date", never converted."""
    if naive == _MIN:
        return fraction is None or not fraction.strip("0")
    return naive == _MAX and fraction == "9999999"


def _tag_utc(text: str) -> str:
    """``CreatedDate``/``UpdatedDate`` with includeTZOffset: mark UTC, never convert."""
    match = _DATETIME.fullmatch(text)
    if match is None or match[8] or match[9]:
        return text
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return text
    return text if _is_sentinel(naive, match[7]) else text + "Z"


def _timezone_header(value: str | None) -> tuple[tzinfo | None, str | None, bool]:
    if value is None or not value.strip():
        return None, None, False
    zone_text, *options = value.split(",")
    include = False
    for option in options:
        if option.strip().casefold() != _INCLUDE_OFFSET:
            raise MalformedBody(
                f"Unknown SO-TimeZone option {excerpt(option.strip())}; expected 'includeTZOffset'",
                location="SO-TimeZone",
            )
        include = True
    if not zone_text.strip():
        raise MalformedBody(
            f"SO-TimeZone {excerpt(value)} names no zone before its options",
            location="SO-TimeZone",
        )
    name, zone = resolve_zone(zone_text)
    return zone, name, include
