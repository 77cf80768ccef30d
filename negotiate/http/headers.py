"""Request headers: case-insensitive names, repeated fields joined, the shaping headers.

Part of :mod:`negotiate.http` (see its docstring).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["SHAPING_HEADERS", "Headers", "has_shaping", "shaping_headers"]


class Headers(Mapping[str, str]):
    """Request headers: case-insensitive names, repeated fields joined.

    Repeated fields are joined with ``", "`` (RFC 9110 §5.3), ``Cookie`` with
    ``"; "`` (RFC 6265 §5.4). Byte names and values (ASGI) are read as
    Latin-1, as HTTP/1.1 defines them.

    Args:
        items: a mapping or ``(name, value)`` pairs, ``str`` or ``bytes``.
    """

    # NOTE: one of two forms: _map, the decoded fields; or (from_asgi) _raw, the
    # server's bytes, decoded one value at a time as asked for and all at once
    # (into _map) the first time the whole mapping is needed.
    __slots__ = ("_map", "_raw")

    def __init__(
        self, items: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] = ()
    ) -> None:
        pairs: Iterable[tuple[str | bytes, str | bytes]] = (
            items.items() if isinstance(items, Mapping) else items
        )
        self._map: dict[str, str] | None = _joined(pairs, fold=True)
        self._raw: dict[bytes, bytes] | None = None

    @classmethod
    def from_asgi(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Headers from an ASGI scope, whose names the server has already lower-cased.

        Args:
            raw: the scope's ``headers``.
        """
        # PERF: the hot path of every ASGI request. dict() builds the table in C; a
        # request reads four or five of its fields, so only those are decoded.
        pairs = raw if isinstance(raw, list) else list(raw)
        table = dict(pairs)
        headers = cls.__new__(cls)
        if len(table) == len(pairs):
            headers._raw, headers._map = table, None
        else:  # a repeated field: join the values now
            headers._raw, headers._map = None, _joined(pairs, fold=False)
        return headers

    def _value(self, raw_name: bytes, name: str) -> str | None:
        """The value of a lower-case name, given both as bytes and as text."""
        raw = self._raw
        if raw is None:
            assert self._map is not None
            return self._map.get(name)
        value = raw.get(raw_name)
        return None if value is None else value.decode("latin-1")

    def _head(self) -> tuple[str | None, str | None, str | None, str | None, bool]:
        """``Accept``, ``Content-Type``, ``Content-Length``, ``Content-Encoding`` and
        whether any shaping header is present: what :meth:`App.start` reads, at once."""
        # PERF: one call instead of five on every request (a call costs more than the
        # lookups); the values are decoded only when present.
        raw = self._raw
        if raw is None:
            assert self._map is not None
            found = self._map
            return (
                found.get("accept"),
                found.get("content-type"),
                found.get("content-length"),
                found.get("content-encoding"),
                not SHAPING_HEADERS.isdisjoint(found),
            )
        accept = raw.get(b"accept")
        content_type = raw.get(b"content-type")
        length = raw.get(b"content-length")
        coding = raw.get(b"content-encoding")
        return (
            None if accept is None else accept.decode("latin-1"),
            None if content_type is None else content_type.decode("latin-1"),
            None if length is None else length.decode("latin-1"),
            None if coding is None else coding.decode("latin-1"),
            not _SHAPING_RAW.isdisjoint(raw),
        )

    def _decoded(self) -> dict[str, str]:
        found = self._map
        if found is None:
            assert self._raw is not None
            found = self._map = _joined(self._raw.items(), fold=False)
            self._raw = None
        return found

    def any_of(self, names: Iterable[str]) -> bool:
        """Whether any of these lower-case header names is present."""
        return any(name in self for name in names)

    def __getitem__(self, name: str) -> str:
        value: str | None = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        """The value of a header (case-insensitive), or ``default``."""
        raw = self._raw
        if raw is None:
            assert self._map is not None
            return self._map.get(name.lower(), default)
        # PERF: callers mostly ask for a name this package reads, in lower case: no fold.
        key = _RAW_NAMES.get(name)
        if key is None:
            name = name.lower()
            key = _RAW_NAMES.get(name)
            if key is None:
                try:
                    key = name.encode("latin-1")
                except UnicodeEncodeError:  # no HTTP field has such a name
                    return default
        value = raw.get(key)
        return default if value is None else value.decode("latin-1")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._raw) if self._raw is not None else len(self._decoded())

    def __repr__(self) -> str:
        return f"Headers({self._decoded()!r})"


# PERF: the byte forms of the names this package reads, for lookups in an ASGI table.
_RAW_NAMES = {
    name: name.encode("ascii")
    for name in (
        "accept",
        "accept-encoding",
        "accept-language",
        "authorization",
        "content-encoding",
        "content-length",
        "content-type",
        "cookie",
        "so-culture",
        "so-language",
        "so-timezone",
        "x-xsrf-token",
    )
}


def _joined(pairs: Iterable[tuple[str | bytes, str | bytes]], *, fold: bool) -> dict[str, str]:
    """Decoded, (with ``fold``) lower-cased fields, repeated ones joined."""
    found: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
        if fold:
            name = name.lower()
        if name in found:
            found[name] += ("; " if name == "cookie" else ", ") + value
        else:
            found[name] = value
    return found


_SHAPING_NAMES = ("so-timezone", "so-language", "accept-language", "so-culture")
SHAPING_HEADERS: frozenset[str] = frozenset(_SHAPING_NAMES)
"""The lower-case names of the request headers response shaping reads (``so-timezone``...)."""
_SHAPING_RAW = frozenset(name.encode("ascii") for name in SHAPING_HEADERS)


def shaping_headers(headers: Headers) -> dict[str, str] | None:
    """The shaping headers present, by lower-case name, or ``None`` when there are none.

    What :meth:`negotiate.pipeline.Pipeline.plan` takes as its ``headers``.
    """
    # PERF: most requests carry none of them; a set test on the raw names, no decoding.
    if not has_shaping(headers):
        return None
    found = {}
    for name in _SHAPING_NAMES:
        value = headers.get(name)
        if value is not None:
            found[name] = value
    return found


def has_shaping(headers: Headers) -> bool:
    """Whether any of the shaping headers is present."""
    # PERF: most requests carry none of them; a set test on the raw names, no decoding.
    raw = headers._raw
    if raw is not None:
        return not _SHAPING_RAW.isdisjoint(raw)
    return not SHAPING_HEADERS.isdisjoint(headers._decoded())
