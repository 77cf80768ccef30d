"""``Accept-Language`` (RFC 9110 §12.5.4): RFC 4647 §3.4 lookup with q-values."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from negotiate.media._grammar import _CACHE_SIZE, _MEMO_SIZE, _QVALUE_RE

__all__ = [
    "language_ranges",
    "lookup_language",
]

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
            # NOTE: the grammar has only q; another parameter is ignored (SuperOffice's
            # own example, "en-us; en-gb", reads as en-us), a malformed q drops the item.
            for param in rest.split(";"):
                key, eq, value = param.partition("=")
                if key.strip(" \t") in ("q", "Q"):
                    value = value.strip(" \t")
                    q = float(value) if eq and _QVALUE_RE.fullmatch(value) else -1.0
                    break
            if q < 0.0:
                continue
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


def language_ranges(header: str) -> tuple[str, ...]:
    """The language ranges of an ``Accept-Language`` header that want something.

    Most preferred first (highest q; ties in header order), each once, lower
    case with ``_`` read as ``-``; ``q=0`` ranges and ``*`` left out. An item
    with a malformed range or q-value is dropped (the rest of the header
    counts); parameters other than ``q`` are ignored. The same reading
    :func:`lookup_language` makes. Cached by the header.
    """
    return _language_plan(header)[0]


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


def _clear_caches() -> None:
    _language_plan.cache_clear()
    _language_offers.cache_clear()
    _language_memo.clear()
