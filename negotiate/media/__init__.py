"""Media types: Content-Type parsing, Accept parsing and matching (RFC 9110).

The rules (RFC 9110 §5.6, §8.3.1, §12.4.2, §12.5.1):

* Type, subtype and parameter names are case-insensitive and folded to lower
  case. Parameter values keep their case, except ``charset``, which is folded.
  Quoted-string values are unquoted. Whitespace around ``=`` is tolerated.
* ``Accept`` is a comma-separated list; a comma inside a quoted string does not
  split it and empty elements are ignored.
* A malformed element is dropped, never the whole header: a missing subtype,
  ``*/html``, a character outside the token set, an unterminated quote, a bad
  ``q``, and a bare ``*`` (not a media range in RFC 9110; python-mimeparse
  reads it as ``*/*`` for old Java clients, whose ``*; q=.2`` fails the qvalue
  grammar anyway).
* ``q`` follows the strict qvalue grammar, ``0[.ddd]`` or ``1[.000]`` (the name
  is case-insensitive). ``q=``, ``q=.5``, ``q=-1``, ``q=2``, ``q=1.5``,
  ``q=0.1234`` and ``q=foo`` drop the element (falcon raises, werkzeug drops,
  python-mimeparse reads them as ``q=1``). Parameters after ``q`` (RFC 7231's
  accept-ext) are ignored.
* An offer takes the q of its most specific matching range: type/subtype with
  parameters (more parameters first) > type/subtype > type/* > */*; between
  equally specific ranges the higher q counts. A range with parameters matches
  only an offer that carries all of them with equal values.
* For JSON offers (``application/json``, ``text/json``, any ``+json``) a
  ``charset`` on the range never blocks a match.
* ``q=0`` means "not acceptable", even where ``*/*`` would allow it.
* :func:`best_match`: the highest q wins and ties go to the server's order of
  offers. No ``Accept``, an empty one, or one whose every element was dropped
  selects the first offer (the server's default). Nothing acceptable returns
  ``default``; the caller raises :class:`~negotiate.errors.NotAcceptable`.

``Accept-Encoding`` (RFC 9110 §12.5.3; :func:`select_coding`): the same list
and qvalue rules; coding names are case-insensitive and ``x-gzip`` is ``gzip``;
``*`` covers every coding not named, ``identity`` included; ``identity`` is
acceptable unless ``identity;q=0`` or ``*;q=0`` excludes it. No header selects
``identity`` (the policy: see :func:`select_coding`); an empty one accepts only
``identity``.

``Accept-Language`` (RFC 9110 §12.5.4; :func:`lookup_language`): RFC 4647 §3.4
lookup with q-values, progressive truncation (``nb-NO`` -> ``nb``) and ``q=0``
exclusions.

Parsing and matching are pure and cached by the header string (bounded);
:func:`clear_caches` empties every cache. A first-seen ``Accept`` or
``Content-Type`` made of tokens (nearly all) is read by one scan with str methods;
what that scan cannot decide (a quoted string, odd blanks, a malformed element) goes
to the strict grammar, the reference the scan is tested against.
"""

from __future__ import annotations

from negotiate.media.accept import (
    MediaRange as MediaRange,
    _clear_caches as _clear_accept_caches,
    best_match as best_match,
    parse_accept as parse_accept,
    quality as quality,
)
from negotiate.media.encoding import (
    CODING_BR as CODING_BR,
    CODING_DEFLATE as CODING_DEFLATE,
    CODING_GZIP as CODING_GZIP,
    CODING_IDENTITY as CODING_IDENTITY,
    CODING_ZSTD as CODING_ZSTD,
    _clear_caches as _clear_encoding_caches,
    accept_encoding_quality as accept_encoding_quality,
    canonical_coding as canonical_coding,
    parse_accept_encoding as parse_accept_encoding,
    select_coding as select_coding,
)
from negotiate.media.language import (
    _clear_caches as _clear_language_caches,
    language_ranges as language_ranges,
    lookup_language as lookup_language,
)
from negotiate.media.types import (
    MEDIA_FORM as MEDIA_FORM,
    MEDIA_JSON as MEDIA_JSON,
    MEDIA_JSON_PATCH as MEDIA_JSON_PATCH,
    MEDIA_MERGE_PATCH as MEDIA_MERGE_PATCH,
    MEDIA_TEXT_JSON as MEDIA_TEXT_JSON,
    MEDIA_TEXT_XML as MEDIA_TEXT_XML,
    MEDIA_XML as MEDIA_XML,
    MediaType as MediaType,
    _clear_caches as _clear_types_caches,
    parse_content_type as parse_content_type,
)

__all__ = [
    "CODING_BR",
    "CODING_DEFLATE",
    "CODING_GZIP",
    "CODING_IDENTITY",
    "CODING_ZSTD",
    "MEDIA_FORM",
    "MEDIA_JSON",
    "MEDIA_JSON_PATCH",
    "MEDIA_MERGE_PATCH",
    "MEDIA_TEXT_JSON",
    "MEDIA_TEXT_XML",
    "MEDIA_XML",
    "MediaRange",
    "MediaType",
    "accept_encoding_quality",
    "best_match",
    "canonical_coding",
    "clear_caches",
    "language_ranges",
    "lookup_language",
    "parse_accept",
    "parse_accept_encoding",
    "parse_content_type",
    "quality",
    "select_coding",
]


def clear_caches() -> None:
    """Empty every parse and match cache (for benchmarks and tests)."""
    _clear_types_caches()
    _clear_accept_caches()
    _clear_encoding_caches()
    _clear_language_caches()
