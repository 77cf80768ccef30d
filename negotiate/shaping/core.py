"""Shaping: what the SO-TimeZone, SO-Language, Accept-Language and SO-Culture headers ask.

Applying it to a carrier is :meth:`Shaping.apply`. Part of :mod:`negotiate.shaping`
(see its docstring).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, tzinfo
from typing import Any, Final

from negotiate.errors import EncodeError
from negotiate.resources import DEFAULT_RESOURCES, Resources, ResourceTable
from negotiate.schema import Schema
from negotiate.shaping.languages import (
    _culture_header,
    _language_headers,
    _language_offers,
    translate,
)
from negotiate.shaping.walkers import (
    _Mode,
    _Ops,
    _reference_walk,
    _Walk,
    _walker,
    _walkers_of,
)
from negotiate.shaping.zones import (
    _converter,
    _lookup_zone,
    _tag_utc,
    _timezone_header,
    convert_datetime,
)

__all__ = ["NO_SHAPING", "Shaping"]


# -- the shaping ---------------------------------------------------------------

# What Shaping.apply needs, found once per shaping: the walkers of its mode by
# schema, the leaf functions, the mode.
_Prepared = tuple[dict[Schema, "_Walk | None"], _Ops, _Mode]


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
    _prepared: _Prepared | None = field(default=None, init=False, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # NOTE: pickled and copied without what apply prepared (generated functions).
        return (type(self), tuple(getattr(self, f.name) for f in fields(self) if f.init))

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
        # PERF: a shaping is immutable and requests repeat their headers: parsed once
        # per (headers as given, base zone, resource table). Callers pass the shaping
        # headers alone, so the mapping is small and its items are the key; only
        # tables whose languages cannot change are kept (the offers are read from
        # them), and only short texts (headers are client input).
        key = None
        if len(headers) <= _MEMO_HEADERS:
            key = (cls, base_zone, resources, *headers.items())
            try:
                known = _MEMO.get(key)
            except TypeError:  # an unhashable base zone or resource table: never kept
                key = known = None
            if known is not None:
                return known
        found: dict[str, str] = {}
        for name, value in headers.items():
            lower = name.lower()
            if lower in _HEADERS:
                found[lower] = value
        if not found:
            return NO_SHAPING
        shaping = cls._parse(found, base_zone, resources)
        if (
            key is not None
            and (resources is DEFAULT_RESOURCES or type(resources) is ResourceTable)
            and sum(len(name) + len(value) for name, value in headers.items()) <= _MEMO_TEXT
        ):
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[key] = shaping
        return shaping

    @classmethod
    def _parse(
        cls, found: dict[str, str], base_zone: str | tzinfo, resources: Resources
    ) -> Shaping:
        if isinstance(base_zone, str):
            base = _lookup_zone(base_zone)
            if base is None:
                raise ValueError(f"unknown base time zone {base_zone!r}")
            base_tz = base[1]
        else:
            base_tz = base_zone
        zone, zone_name, include_offset = _timezone_header(found.get("so-timezone"))
        so_language, accept_language = found.get("so-language"), found.get("accept-language")
        languages: tuple[str, ...]
        tag: str | None
        content_language: str | None
        if so_language is None and accept_language is None:
            # PERF: the offers are listed only when a language is asked for.
            languages, tag, content_language = (), None, None
        else:
            languages, tag, content_language = _language_headers(
                so_language, accept_language, _language_offers(resources)
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
        if value is None:
            return value
        prepared = self._prepared
        if prepared is None:
            if not self.active:
                return value
            prepared = self._prepare()
        walkers, ops, mode = prepared
        try:
            walker = walkers[schema]
        except KeyError:
            walker = _walker(schema, mode)
        if walker is None:
            return value
        try:
            return walker(value, ops)
        except RecursionError:
            raise EncodeError(f"{schema.name} nests too deeply to shape") from None

    def _ops(self) -> _Ops:
        """The leaf functions the walkers call (made once per shaping)."""
        return (self._prepared or self._prepare())[1]

    def _prepare(self) -> _Prepared:
        # PERF: what apply needs, found once per shaping (from_headers memoises shapings):
        # the walkers of its mode and the leaf functions.
        times = self.timezone is not None
        mode = (times, bool(self.languages), times and self.include_offset)
        prepared = (_walkers_of(mode), _leaf_ops(self), mode)
        object.__setattr__(self, "_prepared", prepared)  # a cache, not state: frozen stays
        return prepared


def _leaf_ops(shaping: Shaping) -> _Ops:
    """(times, created, texts): the functions the walkers call on the leaves they test."""
    target = shaping.timezone
    include = shaping.include_offset
    languages = shaping.languages
    resources = shaping.resources

    times: Callable[[Any], Any]
    if target is None:
        times = _unchanged
    else:
        try:
            times = _converter(target, shaping.base_zone, include)
        except TypeError:  # an unhashable tzinfo: converted each time, uncached
            times = functools.partial(
                convert_datetime, target=target, base=shaping.base_zone, include_offset=include
            )

    def tag(value: Any) -> Any:
        return value if type(value) is not str else _tag_utc(value)

    def texts(value: Any) -> Any:
        if type(value) is not str or not languages:
            return value
        if ':"' not in value and "[SR_" not in value:
            return value
        return translate(value, languages, resources)

    return (times, tag if include else _unchanged, texts)


def _unchanged(value: Any) -> Any:
    return value


def _reference_apply(shaping: Shaping, schema: Schema, value: Any) -> Any:
    """:meth:`Shaping.apply` the slow way: the reference walk, uncached conversions.

    The reference path of the property tests (``tests/test_shaping_fast.py``):
    it must give what the generated walkers with the cached converters give.
    """
    target = shaping.timezone
    include = shaping.include_offset
    languages = shaping.languages
    resources = shaping.resources

    def times(value: Any) -> Any:
        if type(value) is not str or target is None:
            return value
        return convert_datetime(value, target, base=shaping.base_zone, include_offset=include)

    def created(value: Any) -> Any:
        if type(value) is not str or not include:
            return value
        return _tag_utc(value)

    def texts(value: Any) -> Any:
        if type(value) is not str or not languages:
            return value
        return translate(value, languages, resources)

    if value is None:
        return None
    return _reference_walk(
        schema, value, (times, created, texts), target is not None, bool(languages)
    )


NO_SHAPING: Final = Shaping()
"""The shaping of a request without any of the headers: changes nothing."""

_HEADERS = frozenset({"so-timezone", "so-language", "accept-language", "so-culture"})
# Shaping.from_headers: (class, base zone, resources, *header items) -> the shaping.
# NOTE: bounded by clearing (headers are client input); mappings of more than
# _MEMO_HEADERS headers or _MEMO_TEXT characters are parsed each time, never kept.
_MEMO: dict[tuple[Any, ...], Shaping] = {}
_MEMO_SIZE: Final = 256
_MEMO_HEADERS: Final = 4
_MEMO_TEXT: Final = 512
