"""``Accept``: parsing media ranges, their weight for an offer, the best offer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, overload

from negotiate.media._grammar import (
    _CACHE_SIZE,
    _ESSENCE_RE,
    _MEMO_SIZE,
    _PARAM_RE,
    _QUOTED_PAIR_RE,
    _QVALUE_RE,
    _Params,
)
from negotiate.media.types import (
    MediaType,
    _is_json,
    _params_match,
    _parse_media_type,
    _quote,
)

__all__ = [
    "MediaRange",
    "best_match",
    "parse_accept",
    "quality",
]

# A list element: characters other than comma and quote, or a quoted string (an unterminated
# one runs to the end and makes its element malformed).
_ELEMENT_RE: Final = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\[\s\S])*"?)+')


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


def _clear_caches() -> None:
    parse_accept.cache_clear()
    _accept_index.cache_clear()
    _offer.cache_clear()
    _offers.cache_clear()
    _best.clear()
