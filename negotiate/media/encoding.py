"""``Accept-Encoding`` (RFC 9110 §12.5.3): content-coding names, weights, the choice."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from negotiate.media._grammar import _CACHE_SIZE, _MEMO_SIZE, _QVALUE_RE, _TOKEN_RE

__all__ = [
    "CODING_BR",
    "CODING_DEFLATE",
    "CODING_GZIP",
    "CODING_IDENTITY",
    "CODING_ZSTD",
    "accept_encoding_quality",
    "canonical_coding",
    "parse_accept_encoding",
    "select_coding",
]

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


def _clear_caches() -> None:
    parse_accept_encoding.cache_clear()
    _encoding_index.cache_clear()
    _codings_memo.clear()
