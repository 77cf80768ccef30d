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
:func:`clear_caches` empties every cache.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, overload

from negotiate.errors import UnsupportedMediaType, excerpt

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
    "lookup_language",
    "parse_accept",
    "parse_accept_encoding",
    "parse_content_type",
    "quality",
    "select_coding",
]

MEDIA_JSON: Final = "application/json"
MEDIA_TEXT_JSON: Final = "text/json"
MEDIA_XML: Final = "application/xml"
MEDIA_TEXT_XML: Final = "text/xml"
MEDIA_FORM: Final = "application/x-www-form-urlencoded"
MEDIA_JSON_PATCH: Final = "application/json-patch+json"
MEDIA_MERGE_PATCH: Final = "application/merge-patch+json"

_Params = tuple[tuple[str, str], ...]

_CACHE_SIZE: Final = 512
_MEMO_SIZE: Final = 1024

_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_ESSENCE_RE: Final = re.compile(rf"[{_TCHAR}]+/[{_TCHAR}]+")
_TOKEN_RE: Final = re.compile(rf"[{_TCHAR}]+")
# OWS ";" OWS [ name OWS "=" OWS ( token / quoted-string ) ]; the parameter is optional
# because RFC 9110 allows empty ones (";;").
_PARAM_RE: Final = re.compile(
    rf"[ \t]*;[ \t]*(?:([{_TCHAR}]+)[ \t]*=[ \t]*"
    rf'(?:([{_TCHAR}]+)|"((?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*)"))?'
)
_QUOTED_PAIR_RE: Final = re.compile(r"\\(.)", re.DOTALL)
_UNTERMINATED_RE: Final = re.compile(r'[^"]*"(?:[^"\\]|\\.)*\\?\Z', re.DOTALL)
_QVALUE_RE: Final = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
# A list element: characters other than comma and quote, or a quoted string (an unterminated
# one runs to the end and makes its element malformed).
_ELEMENT_RE: Final = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\[\s\S])*"?)+')


def _parse_params(text: str, pos: int) -> _Params | str:
    """Parameters of ``text`` from ``pos`` to the end, or a message saying what is wrong."""
    params: list[tuple[str, str]] = []
    end = len(text)
    match = _PARAM_RE.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            rest = text[pos:]
            if _UNTERMINATED_RE.match(rest):
                return f"Expected a closing quote in the parameters, got {excerpt(rest)}"
            return f"Expected parameters as ';name=value', got {excerpt(rest)}"
        pos = m.end()
        name = m[1]
        if name is None:
            continue  # an empty parameter
        name = name.lower()
        value = m[2]
        if value is None:
            value = _QUOTED_PAIR_RE.sub(r"\1", m[3])
        if name == "charset":
            value = value.lower()
        params.append((name, value))
    return tuple(params)


def _parse_media_type(text: str) -> MediaType | str:
    """A concrete media type, or a message saying what is wrong."""
    essence, sep, _ = text.partition(";")
    essence = essence.strip(" \t")
    m = _ESSENCE_RE.fullmatch(essence)
    if m is None:
        type_, slash, subtype = essence.partition("/")
        if not slash:
            return f"Expected a media type 'type/subtype', got {excerpt(text)} (no '/')"
        if not type_.strip(" \t") or not subtype.strip(" \t"):
            return (
                f"Expected a media type 'type/subtype', got {excerpt(text)} (empty type or subtype)"
            )
        return f"Expected token characters in the media type, got {excerpt(essence)}"
    type_, _, subtype = essence.lower().partition("/")
    if type_ == "*" or subtype == "*":
        return f"Expected a concrete media type, got the wildcard {excerpt(essence)}"
    params: _Params = ()
    if sep:
        body = text.rstrip(" \t")
        parsed = _parse_params(body, body.index(";"))
        if isinstance(parsed, str):
            return parsed
        names = [name for name, _ in parsed]
        if len(set(names)) != len(names):
            return f"Expected each parameter once, got {excerpt(text)}"
        params = parsed
    return MediaType(type_, subtype, params)


def _quote(value: str) -> str:
    if _TOKEN_RE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_json(type_: str, subtype: str) -> bool:
    return subtype.endswith("+json") or (subtype == "json" and type_ in ("application", "text"))


def _params_match(wanted: _Params, offered: _Params, is_json: bool) -> bool:
    for item in wanted:
        if item not in offered and not (is_json and item[0] == "charset"):
            return False
    return True


@dataclass(frozen=True, slots=True)
class MediaType:
    """A concrete media type, as a Content-Type header (or an offer) names it.

    Attributes:
        type: the top-level type, lower case.
        subtype: the subtype, lower case.
        params: ``(name, value)`` pairs in header order; names lower case, values
            unquoted and case-preserved, except ``charset``, which is lower case.
    """

    type: str
    subtype: str
    params: _Params = ()

    @classmethod
    def parse(cls, text: str) -> MediaType:
        """Parse a Content-Type value.

        Args:
            text: the header value, such as ``application/json; charset=utf-8``.

        Returns:
            The media type.

        Raises:
            UnsupportedMediaType: (415) the value is malformed: no ``/``, an empty
                type or subtype, a wildcard, a character outside the token set, a
                malformed or repeated parameter, an unterminated quote.
        """
        parsed = _parse_media_type(text)
        if isinstance(parsed, str):
            raise UnsupportedMediaType(f"Malformed Content-Type: {parsed}")
        return parsed

    @property
    def essence(self) -> str:
        """``type/subtype``, without parameters."""
        return f"{self.type}/{self.subtype}"

    def param(self, name: str) -> str | None:
        """The value of parameter ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter, lower case, or ``None``."""
        return self.param("charset")

    @property
    def is_json(self) -> bool:
        """Whether this is JSON: ``application/json``, ``text/json`` or ``+json``."""
        return _is_json(self.type, self.subtype)

    def to_header(self) -> str:
        """The media type as a header value, quoting values that need it."""
        return self.essence + "".join(f"; {n}={_quote(v)}" for n, v in self.params)


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One element of an ``Accept`` header.

    Attributes:
        type: the type, lower case, or ``*``.
        subtype: the subtype, lower case, or ``*``.
        params: the parameters before ``q`` (as in :class:`MediaType`).
        q: the weight, 0.0 to 1.0.
    """

    type: str
    subtype: str
    params: _Params = ()
    q: float = 1.0

    @property
    def specificity(self) -> tuple[int, int]:
        """Rank among ranges matching the same offer; greater is more specific.

        ``(2, n)`` for type/subtype with ``n`` parameters, ``(1, n)`` for
        type/*, ``(0, n)`` for */*.
        """
        level = 0 if self.type == "*" else 1 if self.subtype == "*" else 2
        return (level, len(self.params))

    def matches(self, offer: MediaType) -> bool:
        """Whether this range covers ``offer``.

        Every parameter of the range must be on the offer with an equal value,
        except ``charset`` when the offer is JSON.
        """
        if self.type != "*" and self.type != offer.type:
            return False
        if self.subtype != "*" and self.subtype != offer.subtype:
            return False
        return _params_match(self.params, offer.params, offer.is_json)

    def to_header(self) -> str:
        """The range as an ``Accept`` element (``q`` omitted when 1)."""
        text = f"{self.type}/{self.subtype}" + "".join(f";{n}={_quote(v)}" for n, v in self.params)
        if self.q != 1.0:
            text += ";q=" + (f"{self.q:.3f}".rstrip("0").rstrip(".") or "0")
        return text


# (essence, type, subtype, params, q); essence, type, subtype and parameter names lower case
_Range = tuple[str, str, str, _Params, float]


def _parse_range(element: str) -> _Range | None:
    """One stripped Accept element, or ``None`` when it is malformed."""
    essence, sep, rest = element.partition(";")
    essence = essence.rstrip(" \t")
    # NOTE: validate before lower(): str.lower() maps some non-ASCII letters to ASCII ones
    # (KELVIN SIGN -> "k"), so folding first would accept them.
    if _ESSENCE_RE.fullmatch(essence) is None:
        return None  # no subtype, a bare "*", a non-token character
    essence = essence.lower()
    type_, _, subtype = essence.partition("/")
    if type_ == "*" and subtype != "*":
        return None
    if not sep:
        return (essence, type_, subtype, (), 1.0)
    # PERF: a lone ";q=0.9", the commonest parameter, skips the scanner.
    name, eq, value = rest.partition("=")
    if eq and name.strip(" \t") in ("q", "Q"):
        value = value.strip(" \t")
        if _QVALUE_RE.fullmatch(value) is not None:
            return (essence, type_, subtype, (), float(value))
    return _parse_range_params(element, len(element) - len(rest) - 1, essence)


def _parse_range_params(element: str, pos: int, essence: str) -> _Range | None:
    """The parameters and weight of an Accept element, or ``None`` when malformed."""
    params: list[tuple[str, str]] = []
    q: float | None = None
    end = len(element)
    match = _PARAM_RE.match
    while pos < end:
        m = match(element, pos)
        if m is None:
            return None
        pos = m.end()
        name = m[1]
        if name is None or q is not None:
            continue  # an empty parameter, or one after q (accept-ext): checked, ignored
        name = name.lower()
        if name == "q":
            value = m[2]  # None when quoted: the qvalue grammar has no quotes
            if value is None or _QVALUE_RE.fullmatch(value) is None:
                return None
            q = float(value)
            continue
        value = m[2]
        if value is None:
            value = _QUOTED_PAIR_RE.sub(r"\1", m[3])
        if name == "charset":
            value = value.lower()
        params.append((name, value))
    type_, _, subtype = essence.partition("/")
    return (essence, type_, subtype, tuple(params), 1.0 if q is None else q)


def _elements(header: str) -> list[str]:
    # PERF: split on "," unless a quoted string could hide one.
    return _ELEMENT_RE.findall(header) if '"' in header else header.split(",")


@lru_cache(maxsize=_CACHE_SIZE)
def parse_accept(header: str) -> tuple[MediaRange, ...]:
    """Parse an ``Accept`` header into its valid ranges, in header order.

    Malformed elements are dropped (see the module docstring); a bad ``q``
    (anything outside ``0[.ddd]`` / ``1[.000]``) drops its element, never the
    header. A bare ``*`` is dropped too. Cached by the header string.

    Args:
        header: the header value.

    Returns:
        The ranges; empty when the header is empty or every element was dropped.
    """
    ranges = []
    for element in _elements(header):
        element = element.strip(" \t")
        if element and (parsed := _parse_range(element)) is not None:
            _, type_, subtype, params, q = parsed
            ranges.append(MediaRange(type_, subtype, params, q))
    return tuple(ranges)


# An Accept header indexed for matching: "type/subtype", "type/*" and "*/*" each map to
# (number of parameters, q, parameters) entries, most specific and highest q first.
_Index = dict[str, list[tuple[int, float, _Params]]]


@lru_cache(maxsize=_CACHE_SIZE)
def _accept_index(header: str) -> _Index:
    index: _Index = {}
    for element in _elements(header):
        element = element.strip(" \t")
        if element and (parsed := _parse_range(element)) is not None:
            key, _, _, params, q = parsed
            bucket = index.get(key)
            if bucket is None:
                index[key] = [(len(params), q, params)]
            else:
                bucket.append((len(params), q, params))
    for bucket in index.values():
        if len(bucket) > 1:
            bucket.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return index


# An offer prepared for matching: (essence, "type/*", params, is JSON).
_Offer = tuple[str, str, _Params, bool]


def _prepare_offer(text: str) -> _Offer:
    # PERF: most offers are a bare "type/subtype".
    if ";" not in text:
        essence = text.strip(" \t")
        if _ESSENCE_RE.fullmatch(essence) is not None:
            essence = essence.lower()
            type_, _, subtype = essence.partition("/")
            if type_ != "*" and subtype != "*":
                return (essence, type_ + "/*", (), _is_json(type_, subtype))
    parsed = _parse_media_type(text)
    if isinstance(parsed, str):
        raise ValueError(f"Invalid offer {text!r}: {parsed}")
    return (
        parsed.essence,
        parsed.type + "/*",
        parsed.params,
        _is_json(parsed.type, parsed.subtype),
    )


_offer = lru_cache(maxsize=_CACHE_SIZE)(_prepare_offer)


@lru_cache(maxsize=64)
def _offers(offers: tuple[str, ...]) -> tuple[_Offer, ...]:
    return tuple(map(_prepare_offer, offers))


def _quality(index: _Index, offer: _Offer) -> float:
    essence, wildcard, params, is_json = offer
    for key in (essence, wildcard, "*/*"):
        bucket = index.get(key)
        if bucket is not None:
            for count, q, wanted in bucket:
                if not count or _params_match(wanted, params, is_json):
                    return q
    return 0.0


def quality(accept: str | None, offer: str) -> float:
    """The weight ``accept`` gives ``offer``: the q of its most specific matching range.

    Args:
        accept: the ``Accept`` header value; ``None`` when absent.
        offer: a concrete media type the server can produce.

    Returns:
        0.0 to 1.0; 0.0 when no range matches. 1.0 when ``accept`` is ``None``,
        empty, or had every element dropped (treated as absent).

    Raises:
        ValueError: ``offer`` is not a concrete media type (a programming error).
    """
    prepared = _offer(offer)
    if accept is None:
        return 1.0
    index = _accept_index(accept)
    if not index:
        return 1.0
    return _quality(index, prepared)


_best: dict[tuple[str, tuple[str, ...]], str | None] = {}


@overload
def best_match(accept: str | None, offers: Sequence[str], default: str) -> str: ...


@overload
def best_match(accept: str | None, offers: Sequence[str], default: None = None) -> str | None: ...


def best_match(accept: str | None, offers: Sequence[str], default: str | None = None) -> str | None:
    """Pick the offer ``accept`` prefers.

    The highest q wins; ``q=0`` excludes an offer even under ``*/*``; ties go to
    the order of ``offers`` (the first wins). An absent or empty ``accept``, or
    one whose every element was malformed, selects ``offers[0]``, the server's
    default. Results are memoised by ``(accept, offers)``.

    Args:
        accept: the ``Accept`` header value; ``None`` when absent.
        offers: concrete media types the server can produce, preferred first.
        default: what to return when nothing is acceptable.

    Returns:
        One of ``offers`` (the same string), or ``default``.

    Raises:
        ValueError: an offer is not a concrete media type (a programming error).
    """
    if not offers:
        return default
    if accept is None:
        return offers[0]
    key = (accept, offers if isinstance(offers, tuple) else tuple(offers))
    try:
        found = _best[key]
    except KeyError:
        found = _best_match(accept, key[1])
        if len(_best) >= _MEMO_SIZE:
            _best.clear()
        _best[key] = found
    return default if found is None else found


def _best_match(accept: str, offers: tuple[str, ...]) -> str | None:
    prepared = _offers(offers)
    index = _accept_index(accept)
    if not index:
        return offers[0]
    best, best_q = None, 0.0
    for text, offer in zip(offers, prepared, strict=True):
        q = _quality(index, offer)
        if q > best_q:
            best, best_q = text, q
            if q == 1.0:
                break  # nothing later can beat it
    return best


@lru_cache(maxsize=_CACHE_SIZE)
def parse_content_type(header: str) -> MediaType:
    """Parse a ``Content-Type`` header; cached by the header string.

    Args:
        header: the header value.

    Returns:
        The media type.

    Raises:
        UnsupportedMediaType: (415) the value is malformed (see :meth:`MediaType.parse`).
    """
    return MediaType.parse(header)


def clear_caches() -> None:
    """Empty every parse and match cache (for benchmarks and tests)."""
    parse_accept.cache_clear()
    parse_content_type.cache_clear()
    _accept_index.cache_clear()
    _offer.cache_clear()
    _offers.cache_clear()
    _best.clear()
    parse_accept_encoding.cache_clear()
    _encoding_index.cache_clear()
    _codings_memo.clear()
    _language_plan.cache_clear()
    _language_offers.cache_clear()
    _language_memo.clear()


# -- Accept-Encoding (RFC 9110 §12.5.3) -----------------------------------------

CODING_IDENTITY: Final = "identity"
CODING_GZIP: Final = "gzip"
CODING_DEFLATE: Final = "deflate"
CODING_BR: Final = "br"
CODING_ZSTD: Final = "zstd"

# RFC 9110 §8.4.1.1 and §8.4.1.3: recipients SHOULD treat x-compress and x-gzip as
# compress and gzip.
_CODING_ALIASES: Final = {"x-gzip": CODING_GZIP, "x-compress": "compress"}

_codings_memo: dict[tuple[str, tuple[str, ...]], str | None] = {}


def canonical_coding(name: str) -> str:
    """A content-coding name as compared: lower case, ``x-gzip`` read as ``gzip``.

    Args:
        name: a coding name from a header or an offer (surrounding blanks are ignored).

    Returns:
        The canonical name (``"gzip"`` for ``" X-GZip "``).
    """
    folded = name.strip(" \t").lower()
    return _CODING_ALIASES.get(folded, folded)


def _parse_coding(element: str) -> tuple[str, float] | None:
    """One stripped Accept-Encoding element, or ``None`` when it is malformed."""
    name, sep, rest = element.partition(";")
    name = name.rstrip(" \t")
    # NOTE: validated before lower(), for the reason _parse_range gives.
    if _TOKEN_RE.fullmatch(name) is None:
        return None
    if not sep:
        return canonical_coding(name), 1.0
    # codings [ OWS ";" OWS "q=" qvalue ]: a weight is the only parameter the grammar has,
    # so anything else ("gzip;level=9", a second ";") drops the element.
    key, eq, value = rest.partition("=")
    value = value.strip(" \t")
    if not eq or key.strip(" \t") not in ("q", "Q") or _QVALUE_RE.fullmatch(value) is None:
        return None
    return canonical_coding(name), float(value)


@lru_cache(maxsize=_CACHE_SIZE)
def parse_accept_encoding(header: str) -> tuple[tuple[str, float], ...]:
    """Parse an ``Accept-Encoding`` header into ``(coding, q)`` pairs, in header order.

    Coding names are canonical (see :func:`canonical_coding`); ``*`` and
    ``identity`` are kept as they are. A malformed element (a character outside
    the token set, a bad ``q`` under the strict qvalue grammar, a parameter other
    than ``q``) is dropped, never the header. Cached by the header string.

    Args:
        header: the header value.

    Returns:
        The pairs; empty when the header is empty or every element was dropped.
    """
    pairs = []
    for element in header.split(","):
        element = element.strip(" \t")
        if element and (parsed := _parse_coding(element)) is not None:
            pairs.append(parsed)
    return tuple(pairs)


@lru_cache(maxsize=_CACHE_SIZE)
def _encoding_index(header: str) -> dict[str, float]:
    """coding -> q for a present header; ``identity`` always has an entry."""
    index: dict[str, float] = {}
    for name, q in parse_accept_encoding(header):
        if index.get(name, -1.0) < q:
            index[name] = q  # a coding named twice takes its highest q
    if CODING_IDENTITY not in index:
        star = index.get("*")
        if star is not None:
            index[CODING_IDENTITY] = star
        else:
            # NOTE: identity that is not named is acceptable (rule 2 of §12.5.3) but ranks
            # with the least preferred coding the client did name, so that "gzip;q=0.5"
            # still gets gzip; ties go to the server's order, where implicit identity is last.
            named = [q for q in index.values() if q > 0.0]
            index[CODING_IDENTITY] = min(named) if named else 1.0
    return index


def accept_encoding_quality(header: str | None, coding: str) -> float:
    """The weight ``header`` gives the content coding ``coding``.

    Args:
        header: the ``Accept-Encoding`` value; ``None`` when absent.
        coding: a coding name (``gzip``, ``x-gzip``, ``identity``, ...), any case.

    Returns:
        0.0 to 1.0; 0.0 means not acceptable. Without a header every coding gets
        1.0 (§12.5.3 rule 1). An empty header (or one whose every element was
        dropped) accepts only ``identity``. A coding the header does not name gets
        the q of ``*``, else 0.0; ``identity`` not named gets the q of ``*``, else
        the lowest positive q the header names (1.0 when it names none): it is
        acceptable unless ``identity;q=0`` or ``*;q=0`` excludes it (rule 2).
    """
    if header is None:
        return 1.0
    index = _encoding_index(header)
    name = canonical_coding(coding)
    q = index.get(name)
    if q is None:
        q = index.get("*", 0.0)
    return q


def select_coding(header: str | None, available: Sequence[str]) -> str | None:
    """Pick the content coding for a response (RFC 9110 §12.5.3).

    The highest weight (:func:`accept_encoding_quality`) wins; ties go to the
    order of ``available``. ``identity`` (no coding) needs no work, so it is
    always a candidate: at its place in ``available`` when listed there (list it
    first to prefer it, as for small bodies), else after every listed coding.

    Policy: without an ``Accept-Encoding`` header the answer is ``identity``:
    the RFC makes every coding acceptable then, but a client that sends no header
    is usually one that cannot decode (a script, ``curl`` without
    ``--compressed``). An empty header also gets ``identity``. Results are
    memoised by ``(header, available)``.

    Args:
        header: the ``Accept-Encoding`` value; ``None`` when absent.
        available: codings the server can apply, preferred first (names as
            :func:`canonical_coding` compares them; ``identity`` may be among them).

    Returns:
        One of ``available`` (the same string) or ``"identity"``; ``None`` when
        every candidate, identity included, is excluded (``identity;q=0`` or
        ``*;q=0`` and no acceptable coding). RFC 9110 §12.5.3 then lets the server
        either answer 406 or disregard the header; the recommended policy is to
        send ``identity`` anyway (what common servers do, and what keeps error
        responses readable), a strict server answers
        :class:`~negotiate.errors.NotAcceptable`.

    Raises:
        ValueError: an entry of ``available`` is not a coding name (a programming
            error), such as ``*`` or an empty string.
    """
    if header is None:
        return CODING_IDENTITY
    key = (header, available if isinstance(available, tuple) else tuple(available))
    try:
        return _codings_memo[key]
    except KeyError:
        pass
    found = _select_coding(_encoding_index(header), key[1])
    if len(_codings_memo) >= _MEMO_SIZE:
        _codings_memo.clear()
    _codings_memo[key] = found
    return found


def _select_coding(index: dict[str, float], available: tuple[str, ...]) -> str | None:
    star = index.get("*", 0.0)
    best: str | None = None
    best_q = 0.0
    listed_identity = False
    for offer in available:
        name = canonical_coding(offer)
        if name == "*" or _TOKEN_RE.fullmatch(name) is None:
            raise ValueError(f"Invalid coding offer {offer!r}: expected a coding name")
        if name == CODING_IDENTITY:
            listed_identity = True
        q = index.get(name, star)
        if q > best_q:
            best, best_q = offer, q
    if not listed_identity and index[CODING_IDENTITY] > best_q:
        best = CODING_IDENTITY
    return best


# -- Accept-Language (RFC 9110 §12.5.4, RFC 4647 §3.4 lookup) -----------------------

# RFC 4647 basic language-range, with "_" tolerated as .NET culture names use it.
_LANGUAGE_RANGE_RE: Final = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*")

# A parsed Accept-Language header: the ranges with q > 0 other than "*", most preferred
# first (ties in header order), and every range (with "*") -> its highest q, for the
# exclusions.
_LanguagePlan = tuple[tuple[str, ...], dict[str, float]]

_language_memo: dict[tuple[str, tuple[str, ...], str | None], str | None] = {}


def _language_key(tag: str) -> str:
    return tag.strip(" \t").replace("_", "-").lower()


@lru_cache(maxsize=_CACHE_SIZE)
def _language_plan(header: str) -> _LanguagePlan:
    ranked: list[tuple[float, int, str]] = []
    rules: dict[str, float] = {}
    for position, element in enumerate(header.split(",")):
        text, sep, rest = element.partition(";")
        text = text.strip(" \t")
        if _LANGUAGE_RANGE_RE.fullmatch(text) is None:
            continue  # malformed (or empty): dropped
        q = 1.0
        if sep:
            key, eq, value = rest.partition("=")
            value = value.strip(" \t")
            if not eq or key.strip(" \t") not in ("q", "Q") or _QVALUE_RE.fullmatch(value) is None:
                continue
            q = float(value)
        name = _language_key(text)
        if rules.get(name, -1.0) < q:
            rules[name] = q
        if q > 0.0 and name != "*":
            ranked.append((-q, position, name))
    ranked.sort()
    seen: set[str] = set()
    order = []
    for _, _, name in ranked:
        if name not in seen:
            seen.add(name)
            order.append(name)
    return tuple(order), rules


def _language_acceptable(tag: str, rules: dict[str, float], wildcard: bool = True) -> bool:
    """Whether the most specific range matching ``tag`` (basic filtering) has q > 0.

    ``en`` matches ``en`` and ``en-GB`` (RFC 4647 §3.3.1); ``*`` matches every tag
    (unless ``wildcard`` is false: a tag that lookup reached by truncating a wanted
    range is wanted, whatever ``*;q=0`` says of the others); a tag no range matches
    is acceptable.
    """
    candidate = tag
    while True:
        q = rules.get(candidate)
        if q is not None:
            return q > 0.0
        cut = candidate.rfind("-")
        if cut < 0:
            break
        candidate = candidate[:cut]
    return not wildcard or rules.get("*", 1.0) > 0.0


def _truncate(tag: str) -> str | None:
    """The next lookup fallback of ``tag`` (RFC 4647 §3.4), or ``None`` after the last.

    The last subtag goes, and with it a singleton (``x``, an extension letter)
    that would be left at the end: ``zh-hant-cn-x-private1`` -> ``zh-hant-cn``.
    """
    cut = tag.rfind("-")
    if cut < 0:
        return None
    tag = tag[:cut]
    if len(tag) >= 2 and tag[-2] == "-":
        tag = tag[:-2]
    return tag


@lru_cache(maxsize=64)
def _language_offers(available: tuple[str, ...]) -> dict[str, str]:
    offers: dict[str, str] = {}
    for tag in available:
        key = _language_key(tag)
        if _LANGUAGE_RANGE_RE.fullmatch(key) is None or key == "*":
            raise ValueError(f"Invalid language offer {tag!r}: expected a language tag")
        offers.setdefault(key, tag)
    return offers


def lookup_language(
    header: str | None, available: Sequence[str], default: str | None = None
) -> str | None:
    """Pick the language of a response by RFC 4647 §3.4 lookup over ``Accept-Language``.

    The ranges are tried most preferred first (highest q; ties in header order).
    Each range is progressively truncated (``nb-NO`` -> ``nb``; a singleton goes
    with the subtag after it, ``zh-Hant-CN-x-private1`` -> ``zh-Hant-CN``) until
    it equals an available tag; lookup never picks a tag more specific than the
    range (``en`` does not pick ``en-GB``). Comparison is case-insensitive and
    ``_`` counts as ``-``. ``q=0`` excludes: a tag whose most specific matching
    range (``en`` covers ``en-GB``) has ``q=0`` is never picked, ``*;q=0``
    excludes every tag no other range covers (a tag reached by truncating a
    wanted range counts as covered: ``de-AT, *;q=0`` still picks ``de``).
    ``*`` with ``q > 0`` is skipped, as RFC 4647 says: it alone carries no
    choice. Malformed elements (a bad range, a bad ``q``) are dropped. Results
    are memoised by the arguments.

    Args:
        header: the ``Accept-Language`` value; ``None`` when absent.
        available: the language tags the server has, preferred first.
        default: returned when no range finds a tag (RFC 4647 §3.4.1), unless
            the header excludes it with ``q=0``; then, if the header has ``*``
            with ``q > 0``, the first available tag it does not exclude.

    Returns:
        One of ``available`` (the same string), else ``default``; ``None`` when
        nothing is left (no match, and ``default`` is ``None`` or excluded). The
        caller then serves its default
        language anyway (RFC 9110 §12.5.4 allows disregarding the header) or
        answers :class:`~negotiate.errors.NotAcceptable`.

    Raises:
        ValueError: an entry of ``available`` is not a language tag (a
            programming error).
    """
    key = (header or "", available if isinstance(available, tuple) else tuple(available), default)
    offers = _language_offers(key[1])
    if header is None:
        return default
    try:
        return _language_memo[key]
    except KeyError:
        pass
    found = _lookup_language(header, offers, default)
    if len(_language_memo) >= _MEMO_SIZE:
        _language_memo.clear()
    _language_memo[key] = found
    return found


def _lookup_language(header: str, offers: dict[str, str], default: str | None) -> str | None:
    order, rules = _language_plan(header)
    for wanted in order:
        candidate: str | None = wanted
        while candidate is not None:
            tag = offers.get(candidate)
            if tag is not None and _language_acceptable(candidate, rules, wildcard=False):
                return tag
            candidate = _truncate(candidate)
    if default is not None and _language_acceptable(_language_key(default), rules):
        return default
    if rules.get("*", 0.0) > 0.0:
        # NOTE: "*" picks nothing in RFC 4647 lookup, but "en;q=0, *" with the default
        # excluded still accepts the server's other languages: the first one not excluded.
        for key, tag in offers.items():
            if _language_acceptable(key, rules):
                return tag
    return None
