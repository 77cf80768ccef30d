"""The registry: which codec reads a Content-Type, which writes for an Accept.

Lookups are memoised by the header string and the memo is cleared whenever a
codec is registered. Nothing matching raises the typed 415 or 406 here, with
the supported types in the error (``to_dict()["Supported"]``).

A negotiated response side is a :class:`Writer`: the codec, the media type it
writes, and what follows from the two once (the ``Content-Type`` header,
whether the format is a patch, how it writes an error).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from negotiate.codecs.base import Codec
from negotiate.errors import NotAcceptable, UnsupportedMediaType, excerpt
from negotiate.media import MediaType
from negotiate.media.accept import _best_match
from negotiate.media.types import _scan_media_type
from negotiate.schema import Schema

__all__ = ["CodecRegistry", "Writer"]

_MEMO_LIMIT = 1024


@dataclass(frozen=True, slots=True, eq=False)
class Writer:
    """A negotiated response writer: a codec, the type it writes, and the facts of the pair.

    Build one with :meth:`of` (or get one from :meth:`CodecRegistry.writer_for_accept`);
    the registry memoises them, so a writer is built once per Accept header, not per
    response. Writers compare by identity.

    Attributes:
        codec: the codec that writes the body.
        media_type: the media type written (``application/xml``).
        content_type: the ``Content-Type`` header value (with the format's charset).
        is_patch: the format is a patch (JSON Patch, merge patch): a response is the
            diff from a base, and an error is written as JSON (it is not a change).
        header: the ``("content-type", content_type)`` pair, shared by every response.
        raw_header: the same pair as Latin-1 bytes (as ASGI sends it).
    """

    codec: Codec
    media_type: str
    content_type: str
    is_patch: bool
    header: tuple[str, str]
    raw_header: tuple[bytes, bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        name, value = self.header
        object.__setattr__(self, "raw_header", (name.encode("latin-1"), value.encode("latin-1")))

    @classmethod
    def of(cls, codec: Codec, media_type: str) -> Writer:
        """The writer of ``media_type`` by ``codec``."""
        content_type = codec.content_type(media_type)
        # NOTE: read with a default: a codec that only follows the Codec protocol (not
        # BaseCodec) has no is_patch, and is then a document format.
        is_patch = bool(getattr(codec, "is_patch", False))
        return cls(codec, media_type, content_type, is_patch, ("content-type", content_type))

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """``codec.encode``: see :meth:`negotiate.codecs.base.Codec.encode`."""
        return self.codec.encode(value, schema, base=base)

    def encode_error(self, error: dict[str, Any]) -> bytes | None:
        """An error document (``NegotiateError.to_dict()``) in this format.

        Returns:
            The body, or ``None`` when the format writes errors as JSON (patches).

        Raises:
            Exception: whatever the codec raises for a document it cannot write (the
                caller falls back to JSON).
        """
        write = getattr(self.codec, "encode_error", None)
        if write is None:  # a Codec-protocol codec without BaseCodec: the plain document
            return self.codec.encode(error, None)
        body: bytes | None = write(error)
        return body


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
        # PERF: register() in one pass (the table, then the offers once), not per codec.
        table: dict[str, Codec] = {}
        for codec in codecs:
            for media_type in codec.media_types:
                table[media_type] = codec
        self._codecs = table
        self._offers: tuple[str, ...] = tuple([t for t, c in table.items() if c.offered])
        self._read_memo: dict[str, tuple[Codec, MediaType]] = {}
        self._write_memo: dict[str | None, tuple[Codec, str]] = {}
        self._writer_memo: dict[str | None, Writer] = {}
        self.generation = 0
        """Moves on whenever the codecs change or the memos are cleared: what a caller
        memoised from this registry (writers, plans) is stale once it has moved."""

    def register(self, codec: Codec) -> None:
        """Add a codec for its media types (replacing any earlier one)."""
        for media_type in codec.media_types:
            self._codecs[media_type] = codec
        self._offers = tuple(t for t, c in self._codecs.items() if c.offered)
        self.clear_memos()

    def clear_memos(self) -> None:
        """Forget every memoised lookup (for benchmarks and tests): the next lookup of a
        header is a first-seen one. :func:`negotiate.media.clear_caches` empties the
        parse caches beneath."""
        self._read_memo.clear()
        self._write_memo.clear()
        self._writer_memo.clear()
        self.generation += 1

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
        # NOTE: not parse_content_type: its cache would hold what _read_memo holds. PERF:
        # the fast pass first; MediaType.parse (which tries it again) for the rare rest.
        media_type = _scan_media_type(content_type) or MediaType.parse(content_type)
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
        # NOTE: not best_match: its memo would hold what _write_memo holds (its rules
        # for an absent Accept and no offers, then the match).
        offers = self._offers
        if not offers:
            chosen = None
        elif accept is None:
            chosen = offers[0]
        else:
            chosen = _best_match(accept, offers)
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

    def writer_for_accept(self, accept: str | None) -> Writer:
        """The :class:`Writer` for this Accept (as :meth:`for_accept`), memoised.

        Raises:
            NotAcceptable: as :meth:`for_accept`.
        """
        found = self._writer_memo.get(accept)
        if found is None:
            found = Writer.of(*self.for_accept(accept))
            if len(self._writer_memo) >= _MEMO_LIMIT:
                self._writer_memo.clear()
            self._writer_memo[accept] = found
        return found

    def writer(self, media_type: str) -> Writer:
        """The :class:`Writer` of an exact media type, offered or not (form-urlencoded too).

        Args:
            media_type: the type to write; parameters are ignored.

        Raises:
            UnsupportedMediaType: no codec for that type.
        """
        codec, parsed = self.for_content_type(media_type)
        return Writer.of(codec, parsed.essence)
