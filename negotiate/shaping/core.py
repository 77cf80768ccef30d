"""Response shaping: ``SO-TimeZone``, ``SO-Language`` / ``Accept-Language``, ``SO-Culture``.

:meth:`Shaping.from_headers` reads the request headers once;
:meth:`Shaping.apply` rewrites a response carrier (after ``$select``, before
the codec). Without any of these headers :meth:`~Shaping.apply` returns the
value as it is. The value passed in is never modified: containers are copied
only along the paths where something changed (copy-on-write), so unchanged
subtrees are shared with the input.

Time zone (``SO-TimeZone: US-NY, includeTZOffset``)
    The zone is a SuperOffice zone code or numeric id (:data:`TIME_ZONES`,
    case-insensitive) or, as an extension, an IANA name (``Europe/Oslo``,
    case-insensitive). Every date-time field of the carrier (found through
    the schema, in nested carriers, arrays and dictionaries) is converted to
    that zone and written without an offset, or with ``-0500`` (no colon)
    after ``includeTZOffset``. A value with ``Z`` is UTC, one with an offset
    is at that offset, one without is in the server's base zone (the
    ``base_zone`` argument, UTC by default). All fractional digits survive
    (the conversion works on whole seconds; the digits are carried as text).
    ``CreatedDate`` and ``UpdatedDate`` are UTC and are never converted; with
    ``includeTZOffset`` one without an offset is tagged ``Z``, as SuperOffice
    documents ("always tagged as UTC times"). Left untouched: the .NET
    defaults ``0001-01-01T00:00:00`` and ``9999-12-31T23:59:59.9999999``
    (they mean "no date"; converting them would produce an invalid year 0 or
    10000), values whose conversion leaves years 1-9999, and text that is
    not a date-time. A wall time in the base zone's spring-forward gap or
    fall-back overlap is read with the offset in force before the change
    (PEP 495 ``fold=0``). Historical offsets with seconds (local mean time,
    before about 1900) are rounded to whole minutes, so that the written
    time and offset stay consistent.

Language (``SO-Language: nb-no``, ``Accept-Language: en;q=0.8, de``)
    ``SO-Language`` (one tag) overrides ``Accept-Language`` (a list with
    q-values, RFC 9110 §12.5.4; malformed items are dropped, ``q=0``
    excludes). ``*`` or ``x`` turns translation off. Languages are chosen by
    RFC 4647 §3.4 lookup (:func:`negotiate.media.lookup_language`) among the
    ones the server has: the tags of :data:`LANGUAGE_CODES` (``en``→``US``,
    ``nb``/``nn``/``no``→``NO``, ``de``→``GE``, ``sv``→``SW``, ``nl``→``DU``,
    ...), SuperOffice's codes themselves (``US`` or ``GE`` given directly
    also work; ``sw`` is read as SuperOffice's Swedish, not ISO Swahili) and
    the languages of the resource table when it lists them
    (:attr:`~negotiate.resources.ResourceTable.languages`; ``IT`` there makes
    ``it`` available). A range is truncated until it names one (``de-CH``
    finds ``de``, never the reverse), and a language a ``q=0`` range covers
    is never chosen (``de;q=0, de-CH`` chooses no German). Each wanted range
    in preference order adds its language: the first is the response's
    (:attr:`Shaping.content_language`, the ``Content-Language``), the others
    are fallbacks for texts it lacks. A range that finds nothing is skipped.
    Every string in the carrier (fields, array items, dictionary values;
    dictionary keys are left alone) is translated:

    - a multi-language value in the strict form ``US:"Supplier";NO:"Leverandør";``
      (two upper-case letters, a colon, text in double quotes without
      quotes inside, ``;`` between and optionally after; nothing else, no
      spaces) becomes the text of the most preferred language it has, else
      its first text; anything else is left as it is;
    - resource references ``[SR_NAME]`` anywhere in the text are replaced
      from the resource table (:mod:`negotiate.resources`, pluggable) in the
      most preferred language that has them; unknown ones stay.

Culture (``SO-Culture: sv``)
    Parsed and validated (a BCP 47 style tag; ``*`` or ``x`` means none),
    exposed as :attr:`Shaping.culture` and ignored without a language, as the
    server does; it defaults to the language's tag. It concerns only values
    an API returns as culture-formatted strings. In these carriers no field
    is such a value (numbers are JSON numbers, date-times ISO 8601, and the
    encoded ``CustomFields`` values such as ``[I:123]`` are culture-neutral),
    so this library formats nothing with it; the application can.

Errors: a malformed or unknown header value is a 400
(:class:`~negotiate.errors.MalformedBody`) whose location is the header name.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, available_timezones

from negotiate._codegen import Source
from negotiate.errors import EncodeError, MalformedBody, excerpt
from negotiate.media import lookup_language
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import SCHEMAS, FieldType, Kind, Schema
from negotiate.schema.values import DATETIME_DEFAULT

__all__ = [
    "LANGUAGE_CODES",
    "NO_SHAPING",
    "TIME_ZONES",
    "Shaping",
    "convert_datetime",
    "parse_accept_language",
    "resolve_zone",
    "superoffice_language",
    "translate",
]

# -- time zones ----------------------------------------------------------------

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


# -- languages -----------------------------------------------------------------

LANGUAGE_CODES: Final[Mapping[str, str]] = {
    "en": "US",
    "nb": "NO",
    "nn": "NO",
    "no": "NO",
    "de": "GE",
    "sv": "SW",
    "da": "DA",
    "fr": "FR",
    "fi": "FI",
    "nl": "DU",
}
"""ISO 639-1 primary language subtag -> SuperOffice language code, where the
two differ or SuperOffice documents the code. Other subtags are upper-cased."""

# RFC 4647 language-range (with ``_`` tolerated, as .NET culture names use it).
_RANGE = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*", re.ASCII)
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*", re.ASCII)
_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?", re.ASCII)
_OFF = frozenset({"*", "x", "X"})
_MULTI = re.compile(r'(?:[A-Z]{2}:"[^"]*";)*[A-Z]{2}:"[^"]*";?')
_PART = re.compile(r'([A-Z]{2}):"([^"]*)"')
_RESOURCE = re.compile(r"\[(SR_[A-Za-z0-9_]+)\]", re.ASCII)


def superoffice_language(tag: str) -> str:
    """The SuperOffice language code for a language tag (``nb-NO`` -> ``NO``)."""
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGE_CODES.get(primary, primary.upper())


def parse_accept_language(header: str) -> tuple[str, ...]:
    """The language ranges of an ``Accept-Language`` header, most preferred first.

    Ties keep header order; ``q=0`` ranges are left out; items with a
    malformed range or q-value are dropped (the rest of the header counts).
    Parameters other than ``q`` are ignored. ``*`` is kept (it means any).
    """
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        language, *params = item.split(";")
        language = language.strip()
        if language != "*" and _RANGE.fullmatch(language) is None:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                if _QVALUE.fullmatch(value) is None:
                    quality = -1.0
                    break
                quality = float(value)
        if quality <= 0.0:
            continue
        ranked.append((-quality, index, language))
    ranked.sort()
    return tuple(language for _, _, language in ranked)


def translate(text: str, languages: tuple[str, ...], resources: Resources) -> str:
    """Translate one string (see the module docstring).

    Args:
        text: the value.
        languages: SuperOffice codes, most preferred first (non-empty).
        resources: where ``[SR_NAME]`` references are looked up.

    Returns:
        The translated text, or ``text`` itself when nothing applied.
    """
    out = text
    if ':"' in out and _MULTI.fullmatch(out) is not None:
        texts = dict(_PART.findall(out))
        for language in languages:
            if language in texts:
                out = texts[language]
                break
        else:
            out = next(iter(texts.values()))
    if "[SR_" in out:

        def replace(match: re.Match[str]) -> str:
            for language in languages:
                found = resources.lookup(match[1], language)
                if found is not None:
                    return found
            return match[0]

        replaced = _RESOURCE.sub(replace, out)
        if replaced != out:
            out = replaced
    return out


def _canonical_tag(tag: str) -> str:
    """``nb-no`` -> ``nb-NO``, ``zh_hant_tw`` -> ``zh-Hant-TW`` (BCP 47 case)."""
    primary, *rest = tag.replace("_", "-").split("-")
    parts = [primary.lower()]
    for sub in rest:
        if len(sub) == 2 and sub.isalpha():
            parts.append(sub.upper())
        elif len(sub) == 4 and sub.isalpha():
            parts.append(sub.title())
        else:
            parts.append(sub.lower())
    return "-".join(parts)


# -- the shaping ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shaping:
    """What the request's headers ask of the response.

    Build it with :meth:`from_headers`; the fields are public for tests and
    for applications that shape by other means.

    Attributes:
        timezone: the zone date-times are converted to, or ``None``.
        timezone_name: its canonical name (``US-NY``, ``Europe/Oslo``).
        include_offset: write the offset (``-0500``) after converted values.
        base_zone: the zone of date-times written without an offset.
        languages: SuperOffice language codes, most preferred first; empty
            means no translation.
        language_tag: the tag the most preferred language came from (``nb-NO``),
            as the client wrote it (in BCP 47 case).
        content_language: the tag of the language the response is translated
            to, the one RFC 4647 lookup found (``nb`` for ``nb-NO``), for
            ``Content-Language``; ``None`` without a language.
        culture: the formatting culture (``SO-Culture``, else the language
            tag); ``None`` without a language.
        resources: where ``[SR_NAME]`` references are looked up.
    """

    timezone: tzinfo | None = None
    timezone_name: str | None = None
    include_offset: bool = False
    base_zone: tzinfo = UTC
    languages: tuple[str, ...] = ()
    language_tag: str | None = None
    culture: str | None = None
    content_language: str | None = None
    resources: Resources = DEFAULT_RESOURCES

    @property
    def language(self) -> str | None:
        """The most preferred SuperOffice language code, or ``None``."""
        return self.languages[0] if self.languages else None

    @property
    def active(self) -> bool:
        """Whether :meth:`apply` changes anything at all."""
        return self.timezone is not None or bool(self.languages)

    @classmethod
    def from_headers(
        cls,
        headers: Mapping[str, str],
        *,
        base_zone: str | tzinfo = "UTC",
        resources: Resources = DEFAULT_RESOURCES,
    ) -> Shaping:
        """Read ``SO-TimeZone``, ``SO-Language``, ``Accept-Language`` and ``SO-Culture``.

        Args:
            headers: request headers; names are matched case-insensitively
                (repeated headers must already be joined with ``, ``).
            base_zone: the server's zone for date-times without an offset:
                a zone code, id, IANA name or a ``tzinfo``.
            resources: the resource table for ``[SR_NAME]`` references.

        Returns:
            The shaping; :data:`NO_SHAPING` when none of the headers is there.

        Raises:
            MalformedBody: a header value is malformed or names an unknown
                zone (400; ``location`` is the header name).
            ValueError: ``base_zone`` is not a known zone (a configuration
                error, not the client's).
        """
        found: dict[str, str] = {}
        for name, value in headers.items():
            lower = name.lower()
            if lower in _HEADERS:
                found[lower] = value
        if not found:
            return NO_SHAPING
        if isinstance(base_zone, str):
            base = _lookup_zone(base_zone)
            if base is None:
                raise ValueError(f"unknown base time zone {base_zone!r}")
            base_tz = base[1]
        else:
            base_tz = base_zone
        zone, zone_name, include_offset = _timezone_header(found.get("so-timezone"))
        languages, tag, content_language = _language_headers(
            found.get("so-language"), found.get("accept-language"), _language_offers(resources)
        )
        culture = _culture_header(found.get("so-culture"))
        if not languages:
            culture = None
        elif culture is None:
            culture = tag
        return cls(
            timezone=zone,
            timezone_name=zone_name,
            include_offset=include_offset,
            base_zone=base_tz,
            languages=languages,
            language_tag=tag,
            culture=culture,
            content_language=content_language,
            resources=resources,
        )

    def apply(self, schema: Schema, value: Any) -> Any:
        """Shape a response carrier; ``value`` is not modified.

        Args:
            schema: the carrier's schema (it says where the date-times and
                strings are).
            value: a normalised carrier (after ``$select``), or ``None``.

        Returns:
            The shaped value: ``value`` itself when nothing changed, else a
            copy of the containers that changed.

        Raises:
            EncodeError: the value nests too deeply to walk.
        """
        if value is None or not self.active:
            return value
        walker = _walker(schema, self.timezone is not None, bool(self.languages))
        if walker is None:
            return value
        try:
            return walker(value, self._ops())
        except RecursionError:
            raise EncodeError(f"{schema.name} nests too deeply to shape") from None

    def _ops(self) -> _Ops:
        target = self.timezone
        base = self.base_zone
        include = self.include_offset
        languages = self.languages
        resources = self.resources

        # PERF: one response often repeats a date-time; convert each text once.
        seen: dict[str, str] = {}

        def times(value: Any) -> Any:
            if type(value) is not str or target is None:
                return value
            done = seen.get(value)
            if done is None:
                done = seen[value] = convert_datetime(
                    value, target, base=base, include_offset=include
                )
            return done

        def created(value: Any) -> Any:
            if type(value) is not str or not include:
                return value
            return _tag_utc(value)

        def texts(value: Any) -> Any:
            if type(value) is not str or not languages:
                return value
            if ':"' not in value and "[SR_" not in value:
                return value
            return translate(value, languages, resources)

        return (times, created, texts)


NO_SHAPING: Final = Shaping()
"""The shaping of a request without any of the headers: changes nothing."""

_HEADERS = frozenset({"so-timezone", "so-language", "accept-language", "so-culture"})


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


# The tag Content-Language names for a SuperOffice code (the ISO 639-1 code of its
# language); a code without one here is named by itself in lower case.
_CODE_TAGS: Final[Mapping[str, str]] = {
    "US": "en",
    "NO": "no",
    "GE": "de",
    "SW": "sv",
    "DA": "da",
    "FR": "fr",
    "FI": "fi",
    "DU": "nl",
}
_KNOWN_OFFERS: Final = tuple(dict.fromkeys((*LANGUAGE_CODES, *(c.lower() for c in _CODE_TAGS))))


def _language_offers(resources: Resources) -> tuple[str, ...]:
    """The language tags this server has, for RFC 4647 lookup (see the module docs)."""
    listed = getattr(resources, "languages", ())
    if not listed:
        return _KNOWN_OFFERS
    extra = []
    for code in listed:
        if isinstance(code, str) and _TAG.fullmatch(code) is not None:
            tag = code.lower()
            if tag not in _KNOWN_OFFERS and tag not in extra:
                extra.append(tag)
    return (*_KNOWN_OFFERS, *extra) if extra else _KNOWN_OFFERS


def _offer_code(offer: str) -> str:
    # an ISO tag maps through LANGUAGE_CODES; a SuperOffice code is itself
    return LANGUAGE_CODES.get(offer) or offer.upper()


def _offer_tag(offer: str) -> str:
    if offer in LANGUAGE_CODES:
        return offer
    code = offer.upper()
    return _CODE_TAGS.get(code, offer)


def _language_headers(
    so_language: str | None, accept_language: str | None, offers: tuple[str, ...]
) -> tuple[tuple[str, ...], str | None, str | None]:
    """(SuperOffice codes, most preferred first; the client's tag; the Content-Language)."""
    if so_language is not None and so_language.strip():
        tag = so_language.strip()
        if tag in _OFF:
            return (), None, None
        if _TAG.fullmatch(tag) is None:
            raise MalformedBody(
                f"Expected a language tag (such as 'nb-NO') or '*' or 'x', got {excerpt(tag)}",
                location="SO-Language",
            )
        found = lookup_language(tag, offers)
        if found is None:
            return (), None, None
        return (_offer_code(found),), _canonical_tag(tag), _offer_tag(found)
    if accept_language is None:
        return (), None, None
    return _accepted_languages(accept_language, offers)


@functools.lru_cache(maxsize=256)
def _accepted_languages(
    header: str, offers: tuple[str, ...]
) -> tuple[tuple[str, ...], str | None, str | None]:
    codes: list[str] = []
    first: str | None = None
    content: str | None = None
    for wanted in parse_accept_language(header):
        if wanted in _OFF:
            continue
        # NOTE: RFC 4647 lookup of this range alone, then of the whole header over
        # what it found: the second says whether a q=0 range excludes it.
        found = lookup_language(wanted, offers)
        if found is None:
            continue
        code = _offer_code(found)
        if code in codes or lookup_language(header, (found,)) is None:
            continue
        codes.append(code)
        if first is None:
            first, content = _canonical_tag(wanted), _offer_tag(found)
    return tuple(codes), first, content


def _culture_header(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    tag = value.strip()
    if tag in _OFF:
        return None
    if _TAG.fullmatch(tag) is None:
        raise MalformedBody(
            f"Expected a culture name (such as 'sv' or 'nb-NO'), got {excerpt(tag)}",
            location="SO-Culture",
        )
    return _canonical_tag(tag)


# -- walking carriers by schema ------------------------------------------------
#
# One walker per (carrier, what is converted), generated as Python source per
# mode (time zone, language, both) and graph of carriers the first time a carrier
# of the graph is shaped in the mode, as the schema's normalisers are: the
# built-in catalogue is one graph, a user's carrier is the carriers it reaches
# that have no walker yet (those that have are called). Walkers are keyed by the
# Schema object, never by carrier name: two carriers may share a name.
# A walker visits only the fields that can hold something to convert (the
# schema says which), tests each leaf inline and calls the leaf function only
# when there may be work (a date-time that is not the default; a string with
# ``:"`` or ``[SR_``), and copies a container only when a child changed. A
# carrier with nothing relevant is not entered.
# PERF: straight-line code per carrier; no per-field dispatch or calls.

_Ops = tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any]]
_Walk = Callable[[Any, _Ops], Any]
_TIMES, _CREATED, _TEXTS = 0, 1, 2
_OP_NAMES: Final = ("times", "created", "texts")  # the ops as the generated code names them
_UTC_FIELDS = frozenset({"CreatedDate", "UpdatedDate"})
# Per mode: schema -> its walker, or None when it holds nothing the mode converts.
# NOTE: a plain dict (keyed by identity), as it is read once per shaped response;
# it holds a schema for good, as the compiled schema cache does not.
_WALKERS: dict[tuple[bool, bool], dict[Schema, _Walk | None]] = {}
_SOURCES: dict[tuple[bool, bool], Source] = {}
"""The built-in catalogue's walkers of each mode, for reading
(``print(_SOURCES[mode].source)``)."""
_COMPILE_LOCK = threading.Lock()


def _walker(schema: Schema, times: bool, texts: bool) -> _Walk | None:
    mode = (times, texts)
    walkers = _WALKERS.get(mode)
    if walkers is not None:
        try:
            return walkers[schema]
        except KeyError:
            pass
    with _COMPILE_LOCK:
        walkers = _WALKERS.setdefault(mode, {})
        if schema not in walkers:
            # NOTE: the catalogue first, as one graph (one text), when the schema reaches it.
            graph = _graph([schema])
            if any(s._catalogue and s not in walkers for s in graph):
                catalogue = [SCHEMAS[name] for name in SCHEMAS]
                generator = _Generator(times, texts, catalogue, walkers)
                walkers.update(generator.compile())
                _SOURCES[mode] = generator.source
            if schema not in walkers:
                generator = _Generator(times, texts, [schema], walkers)
                walkers.update(generator.compile())
        return walkers[schema]


def _graph(roots: list[Schema]) -> list[Schema]:
    """The roots and every carrier they reach, each once, in the order met."""
    seen = set(roots)
    order = list(roots)
    for schema in order:
        for field in schema.fields:
            ftype: FieldType | None = field.type
            while ftype is not None:
                if ftype.kind is Kind.CARRIER and ftype.schema not in seen:
                    seen.add(ftype.schema)
                    order.append(ftype.schema)
                ftype = ftype.item
    return order


def _label(ftype: FieldType) -> str:
    """A container type as part of a function name: ``list_EntityElement``, ``dict_string``."""
    if ftype.kind is Kind.CARRIER:
        return ftype.carrier
    if ftype.item is None:
        return ftype.spec
    return f"{'list' if ftype.kind is Kind.ARRAY else 'dict'}_{_label(ftype.item)}"


def _type_key(ftype: FieldType) -> tuple[Any, ...]:
    """What makes two container types the same: kinds and carrier schemas."""
    if ftype.kind is Kind.CARRIER:
        return (ftype.kind, id(ftype.schema))
    if ftype.item is not None:
        return (ftype.kind, _type_key(ftype.item))
    return (ftype.kind,)


class _Generator:
    """Writes and compiles the walkers of one mode for one graph of carriers.

    Args:
        roots: the carriers to write walkers for (with those they reach).
        known: the walkers already compiled in this mode (called, not written).
    """

    def __init__(
        self, times: bool, texts: bool, roots: list[Schema], known: Mapping[Schema, _Walk | None]
    ) -> None:
        self.times = times
        self.texts = texts
        mode = "+".join(m for m, on in (("times", self.times), ("texts", self.texts)) if on)
        title = f"shaping walkers: {mode}"
        if not roots[0]._catalogue:
            title += f" for {roots[0].name}"
        self.source = Source(title)
        self.default = self.source.constant(DATETIME_DEFAULT, "DATETIME_DEFAULT")
        self.functions: list[list[str]] = []
        self.graph = _graph(roots)
        self.known = known
        self.walkers: dict[Schema, str] = {}
        self.helpers: dict[tuple[Any, ...], str] = {}
        self.relevant: set[Schema] = set()

    def compile(self) -> dict[Schema, _Walk | None]:
        self.relevant = self.find_relevant()
        # NOTE: sorted by name (then declaration order) so that the text reads the same
        # on every run; every walker's name is fixed first: walkers call each other
        # (recursive carriers too) before all of them are written.
        order = {schema: index for index, schema in enumerate(self.graph)}
        written = sorted(
            (s for s in self.relevant if s not in self.known), key=lambda s: (s.name, order[s])
        )
        for schema in self.relevant:
            if schema in self.known:
                self.walkers[schema] = self.source.constant(
                    self.known[schema], f"walk_{schema.name}"
                )
        for schema in written:
            self.walkers[schema] = self.source.name(f"walk_{schema.name}")
        for schema in written:
            self.carrier(schema)
        for index, function in enumerate(self.functions):
            if index:
                self.source.add("")
            self.source.extend(function)
        namespace = self.source.compile()
        compiled: dict[Schema, _Walk | None] = {
            schema: None for schema in self.graph if schema not in self.known
        }
        for schema in written:
            compiled[schema] = namespace[self.walkers[schema]]
        return compiled

    def leaf(self, ftype: FieldType, name: str = "") -> int | None:
        if ftype.kind is Kind.DATETIME and self.times:
            return _CREATED if name in _UTC_FIELDS else _TIMES
        if ftype.kind is Kind.STRING and self.texts:
            return _TEXTS
        return None

    def find_relevant(self) -> set[Schema]:
        """Carriers of the graph that (transitively) hold something to convert."""
        found: set[Schema] = {s for s in self.graph if self.known.get(s) is not None}
        changed = True
        while changed:
            changed = False
            for schema in self.graph:
                if schema in found or schema in self.known:
                    continue
                if any(self.reaches(f.type, found) for f in schema.fields):
                    found.add(schema)
                    changed = True
        return found

    def reaches(self, ftype: FieldType, found: set[Schema]) -> bool:
        if ftype.kind is Kind.CARRIER:
            return ftype.schema in found
        if ftype.item is not None:
            return self.reaches(ftype.item, found)
        return self.leaf(ftype) is not None

    def test(self, var: str, slot: int) -> str:
        """The inline test: might the leaf function change this value?"""
        if slot == _TEXTS:
            return f"type({var}) is str and (':\"' in {var} or '[SR_' in {var})"
        return f"type({var}) is str and {var} != {self.default}"

    def carrier(self, schema: Schema) -> None:
        head = [f"def {self.walkers[schema]}(d, ops):", "    if type(d) is not dict: return d"]
        body = ["    out = None"]
        self.functions.append(head)  # before the helpers it brings: reads top-down
        uses_ops = False
        for field in schema.fields:
            slot = self.leaf(field.type, field.name)
            key = repr(field.name)
            if slot is not None:
                call = f"{_OP_NAMES[slot]}(v)"
                body += [f"    v = d.get({key})", f"    if {self.test('v', slot)}:"]
                uses_ops = True
            elif self.reaches(field.type, self.relevant):
                call = f"{self.container(field.type)}(v, ops)"
                body += [f"    v = d.get({key})", "    if v is not None:"]
            else:
                continue
            body += [
                f"        n = {call}",
                "        if n is not v:",
                "            if out is None: out = d.copy()",
                f"            out[{key}] = n",
            ]
        body.append("    return d if out is None else out")
        if uses_ops:
            head.append(f"    {', '.join(_OP_NAMES)} = ops")
        head += body

    def container(self, ftype: FieldType) -> str:
        """The function walking a non-null value of a relevant carrier, array or dict."""
        if ftype.kind is Kind.CARRIER:
            return self.walkers[ftype.schema]
        key = _type_key(ftype)
        if key in self.helpers:
            return self.helpers[key]
        name = self.helpers[key] = self.source.name(f"walk_{_label(ftype)}")
        lines: list[str] = []
        self.functions.append(lines)
        item = ftype.item
        assert item is not None
        slot = self.leaf(item)
        if slot is not None:
            test, call = self.test("x", slot), f"{_OP_NAMES[slot]}(x)"
        else:
            test, call = "x is not None", f"{self.container(item)}(x, ops)"
        if ftype.kind is Kind.ARRAY:
            kind, loop = "list", "for k, x in enumerate(v):"
        else:
            kind, loop = "dict", "for k, x in v.items():"
        lines += [
            f"def {name}(v, ops):",
            f"    if type(v) is not {kind}: return v",
            *([f"    {', '.join(_OP_NAMES)} = ops"] if slot is not None else []),
            "    out = None",
            f"    {loop}",
            f"        if {test}:",
            f"            n = {call}",
            "            if n is not x:",
            "                if out is None: out = v.copy()",
            "                out[k] = n",
            "    return v if out is None else out",
        ]
        return name
