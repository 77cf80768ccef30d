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
    _LIST_CHARS,
    _MEMO_SIZE,
    _PARAM_RE,
    _QUOTED_PAIR_RE,
    _QVALUE_RE,
    _QVALUES,
    _TCHARS,
    _Params,
)
from negotiate.media.types import (
    MediaType,
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


# A range as the index holds it: (number of parameters, q, parameters).
_Entry = tuple[int, float, _Params]
# A parsed range: (essence, (entry,)), essence lower case. PERF: the entry comes as a bucket
# of one, so that the index of a header naming each type once is dict(ranges).
_Parsed = tuple[str, tuple[_Entry, ...]]
_PLAIN: Final[tuple[_Entry, ...]] = ((0, 1.0, ()),)
_WEIGHTED: Final[dict[str, tuple[_Entry, ...]]] = {
    "q=" + text: ((0, q, ()),) for text, q in _QVALUES.items()
}


def _reference_ranges(header: str) -> list[_Parsed]:
    """The valid ranges of ``header`` by the strict grammar (the reference parser)."""
    ranges: list[_Parsed] = []
    for element in _elements(header):
        element = element.strip(" \t")
        if element and (parsed := _parse_range(element)) is not None:
            essence, _, _, params, q = parsed
            ranges.append((essence, ((len(params), q, params),)))
    return ranges


def _scan_accept(header: str) -> list[_Parsed] | None:
    """The fast pass: the ranges of a header of tokens, or ``None`` to ask the reference.

    ``None`` for what the scan does not read (a quoted string, a non-ASCII or control
    character, a parameter value whose case would be lost) and for any malformed
    element: the reference alone decides what is dropped, so the two cannot disagree.
    """
    if not header.isascii():
        return None
    # Only tchars and ", ; / =" and blanks: the delimiters then tell the structure.
    others = header.encode().translate(None, _LIST_CHARS)
    if others and others.translate(None, b" \t"):
        return None
    # NOTE: lower() is safe: the header is ASCII (see _parse_range's note).
    low = header.lower()
    # A value's case is lost with the header's: then only q and charset are read here.
    cased = low != header
    if others:  # blanks
        # OWS: blanks beside a "," ";" or "=" go (a run of them read as one); any other
        # (inside a token, beside a "/") is left to the reference, which drops its element.
        low = (
            " ".join(low.split())
            .replace(" ,", ",")
            .replace(", ", ",")
            .replace(" ;", ";")
            .replace("; ", ";")
            .replace(" =", "=")
            .replace("= ", "=")
        )
        if " " in low or "\t" in low:
            return None
    # A "/" with nothing before or after it: an empty type or subtype somewhere.
    if low.startswith("/") or low.endswith("/") or ",/" in low or "/," in low or "/;" in low:
        return None
    ranges: list[_Parsed] = []
    for element in low.split(","):
        if ";" in element:
            essence, _, rest = element.partition(";")
            # PERF: a lone "q=0.9", the commonest parameter, is one lookup.
            entries = _WEIGHTED.get(rest)
            if entries is None:
                parsed = _scan_range_params(rest, cased)
                if parsed is None:
                    return None
                params, q = parsed
                entries = ((len(params), q, params),)
        elif element:
            essence, entries = element, _PLAIN
        else:
            continue  # an empty element
        # The "/" count is checked after the loop: one per essence, none elsewhere.
        if "/" not in essence or "=" in essence or (essence[0] == "*" and essence != "*/*"):
            return None
        ranges.append((essence, entries))
    if low.count("/") != len(ranges):
        return None  # two in an essence, or one in a parameter
    return ranges


def _scan_range_params(rest: str, cased: bool) -> tuple[_Params, float] | None:
    """The parameters and weight of a folded element (no blanks) after its first ``;``."""
    params: list[tuple[str, str]] = []
    q = None
    for part in rest.split(";"):
        name, _, value = part.partition("=")
        if not name or not value or "=" in value:
            if part:
                return None
            continue  # an empty parameter (";;"), which RFC 9110 allows
        if q is not None:
            continue  # a parameter after q (accept-ext): checked, ignored
        if name == "q":
            q = _QVALUES.get(value)
            if q is None:
                return None
        elif cased and name != "charset":
            return None  # the value's case was folded with the header's
        else:
            params.append((name, value))
    return tuple(params), 1.0 if q is None else q


def _ranges(header: str) -> list[_Parsed]:
    """The valid ranges of ``header``: the fast pass, else the reference."""
    # PERF: a header of tokens (nearly every one) is read by one scan with str methods;
    # only what that scan cannot decide pays for the grammar.
    return _scan_accept(header) or _reference_ranges(header)


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
    for essence, ((_, q, params),) in _ranges(header):
        type_, _, subtype = essence.partition("/")
        ranges.append(MediaRange(type_, subtype, params, q))
    return tuple(ranges)


# An Accept header indexed for matching: "type/subtype", "type/*" and "*/*" each map to
# (number of parameters, q, parameters) entries, most specific and highest q first.
_Index = dict[str, tuple[_Entry, ...]]


@lru_cache(maxsize=_CACHE_SIZE)
def _accept_index(header: str) -> _Index:
    ranges = _scan_accept(header) or _reference_ranges(header)  # _ranges(), one call less
    # PERF: nearly always each type/subtype is named once: one bucket each, nothing to sort.
    index = dict(ranges)
    if len(index) == len(ranges):
        return index
    buckets: dict[str, list[_Entry]] = {}
    for key, entries in ranges:
        buckets.setdefault(key, []).extend(entries)
    for bucket in buckets.values():
        bucket.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return {key: tuple(bucket) for key, bucket in buckets.items()}


# An offer prepared for matching: (essence, "type/*", params).
_Offer = tuple[str, str, _Params]


def _prepare_offer(text: str) -> _Offer:
    # PERF: most offers are a bare "type/subtype".
    if ";" not in text:
        essence = text.strip(" \t")
        if _ESSENCE_RE.fullmatch(essence) is not None:
            essence = essence.lower()
            type_, _, subtype = essence.partition("/")
            if type_ != "*" and subtype != "*":
                return (essence, type_ + "/*", ())
    parsed = _parse_media_type(text)
    if isinstance(parsed, str):
        raise ValueError(f"Invalid offer {text!r}: {parsed}")
    return (parsed.essence, parsed.type + "/*", parsed.params)


_offer = lru_cache(maxsize=_CACHE_SIZE)(_prepare_offer)


# Offers prepared for matching, column by column: essences, "type/*" keys, parameters.
_Offers = tuple[list[str], list[str], tuple[_Params, ...]]


@lru_cache(maxsize=64)
def _offers(offers: tuple[str, ...]) -> _Offers:
    found = _scan_offers(offers)
    if found is not None:
        return found
    prepared = [_prepare_offer(offer) for offer in offers]
    return [p[0] for p in prepared], [p[1] for p in prepared], tuple(p[2] for p in prepared)


def _scan_offers(offers: tuple[str, ...]) -> _Offers | None:
    """The fast pass: offers that are all a bare ``type/subtype``, prepared at once.

    ``None`` for anything else (parameters, blanks, a ``*`` anywhere, a malformed
    offer): :func:`_prepare_offer` reads it or raises.
    """
    # PERF: checked and split as one string, in C: no loop over the offers.
    joined = ",".join(offers)
    if not joined.isascii() or "*" in joined:
        return None
    # Tokens, and exactly one "/" in each offer (between commas).
    if joined.encode().translate(None, _TCHARS) != b"/," * (len(offers) - 1) + b"/":
        return None
    joined = joined.lower()
    names = joined.replace(",", "/").split("/")  # type, subtype, type, subtype, ...
    if "" in names:
        return None  # an empty type or subtype
    wildcards = ("/*,".join(names[::2]) + "/*").split(",")
    return joined.split(","), wildcards, ((),) * len(offers)


def _quality(index: _Index, offer: _Offer) -> float:
    essence, wildcard, params = offer
    for key in (essence, wildcard, "*/*"):
        bucket = index.get(key)
        if bucket is not None:
            for count, q, wanted in bucket:
                if not count or _params_match(wanted, params, _is_json_essence(essence)):
                    return q
    return 0.0


def _is_json_essence(essence: str) -> bool:
    # As types._is_json: "+json" cannot reach across the "/", so it ends the subtype.
    return essence.endswith("+json") or essence == "application/json" or essence == "text/json"


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
_MISSING: Final = ""  # no offer is the empty string (it is not a media type)


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
    # PERF: get() with a marker, not try/except: a first-seen header would pay a raise.
    found = _best.get(key, _MISSING)
    if found == _MISSING:
        found = _best_match(accept, key[1])
        if len(_best) >= _MEMO_SIZE:
            _best.clear()
        _best[key] = found
    return default if found is None else found


def _best_match(accept: str, offers: tuple[str, ...]) -> str | None:
    essences, wildcards, params = _offers(offers)
    index = _accept_index(accept)
    if not index:
        return offers[0]
    best, best_q = None, 0.0
    get = index.get
    anything = get("*/*")
    for text, essence, wildcard, offered in zip(offers, essences, wildcards, params, strict=True):
        # PERF: the most specific bucket, when its first range has no parameters, is the
        # answer (_quality's walk, without the call); buckets are never empty.
        bucket = get(essence) or get(wildcard) or anything
        if bucket is None:
            continue  # q = 0
        count, q, _ = bucket[0]
        if count:
            q = _quality(index, (essence, wildcard, offered))
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
