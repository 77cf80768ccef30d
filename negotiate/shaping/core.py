"""Shaping: what the SO-TimeZone, SO-Language, Accept-Language and SO-Culture headers ask.

Applying it to a carrier is :meth:`Shaping.apply`. Part of :mod:`negotiate.shaping`
(see its docstring).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, Final

from negotiate.errors import EncodeError
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema
from negotiate.shaping.languages import (
    _culture_header,
    _language_headers,
    _language_offers,
    translate,
)
from negotiate.shaping.walkers import _Ops, _walker
from negotiate.shaping.zones import (
    _lookup_zone,
    _tag_utc,
    _timezone_header,
    convert_datetime,
)

__all__ = ["NO_SHAPING", "Shaping"]


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
