"""The registry: which codec reads a Content-Type, which writes for an Accept.

Lookups are memoised by the header string and the memo is cleared whenever a
codec is registered. Nothing matching raises the typed 415 or 406 here, with
the supported types in the error (``to_dict()["Supported"]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from negotiate.codecs.base import Codec
from negotiate.errors import NotAcceptable, UnsupportedMediaType, excerpt
from negotiate.media import MediaType, best_match, parse_content_type

__all__ = ["CodecRegistry"]

_MEMO_LIMIT = 1024


class CodecRegistry:
    """Codecs keyed by media type, in server preference order.

    Args:
        codecs: the codecs, most preferred first; the first offered type is
            the default response type (``application/json``).
        not_acceptable: ``"error"`` answers an unsatisfiable Accept with
            406; ``"default"`` falls back to the default type instead.
    """

    def __init__(
        self,
        codecs: Iterable[Codec] = (),
        *,
        not_acceptable: Literal["error", "default"] = "error",
    ) -> None:
        self.not_acceptable = not_acceptable
        self._codecs: dict[str, Codec] = {}
        self._offers: tuple[str, ...] = ()
        self._read_memo: dict[str, tuple[Codec, MediaType]] = {}
        self._write_memo: dict[str | None, tuple[Codec, str]] = {}
        for codec in codecs:
            self.register(codec)

    def register(self, codec: Codec) -> None:
        """Add a codec for its media types (replacing any earlier one)."""
        for media_type in codec.media_types:
            self._codecs[media_type] = codec
        self._offers = tuple(t for t, c in self._codecs.items() if c.offered)
        self._read_memo.clear()
        self._write_memo.clear()

    @property
    def request_types(self) -> tuple[str, ...]:
        """Every media type a request body may have."""
        return tuple(self._codecs)

    @property
    def response_types(self) -> tuple[str, ...]:
        """Every media type offered for responses, in preference order."""
        return self._offers

    def codec(self, media_type: str) -> Codec:
        """The codec for an exact media type (parameters ignored).

        Raises:
            UnsupportedMediaType: no codec for that type.
        """
        return self.for_content_type(media_type)[0]

    def for_content_type(self, content_type: str) -> tuple[Codec, MediaType]:
        """The codec that reads a body of this Content-Type, and the parsed type.

        Raises:
            UnsupportedMediaType: malformed or unsupported; lists the supported types.
        """
        found = self._read_memo.get(content_type)
        if found is not None:
            return found
        media_type = parse_content_type(content_type)
        codec = self._codecs.get(media_type.essence)
        if codec is None:
            raise UnsupportedMediaType(
                f"Unsupported Content-Type {excerpt(media_type.essence)}",
                supported=list(self._codecs),
            )
        if len(self._read_memo) >= _MEMO_LIMIT:
            self._read_memo.clear()
        self._read_memo[content_type] = found = (codec, media_type)
        return found

    def for_accept(self, accept: str | None) -> tuple[Codec, str]:
        """The codec that writes the best type for this Accept, and that type.

        Raises:
            NotAcceptable: nothing offered is acceptable (unless the registry
                falls back to the default); lists the available types.
        """
        found = self._write_memo.get(accept)
        if found is not None:
            return found
        chosen = best_match(accept, self._offers)
        if chosen is None:
            if self.not_acceptable == "error" or not self._offers:
                raise NotAcceptable(
                    f"None of the available types is acceptable: {excerpt(accept)}",
                    supported=list(self._offers),
                )
            chosen = self._offers[0]
        if len(self._write_memo) >= _MEMO_LIMIT:
            self._write_memo.clear()
        self._write_memo[accept] = found = (self._codecs[chosen], chosen)
        return found
