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

from negotiate.shaping.core import NO_SHAPING as NO_SHAPING, Shaping as Shaping
from negotiate.shaping.languages import (
    LANGUAGE_CODES as LANGUAGE_CODES,
    parse_accept_language as parse_accept_language,
    superoffice_language as superoffice_language,
    translate as translate,
)
from negotiate.shaping.zones import (
    TIME_ZONES as TIME_ZONES,
    convert_datetime as convert_datetime,
    resolve_zone as resolve_zone,
)

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
