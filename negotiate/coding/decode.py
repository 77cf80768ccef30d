"""The request side: undoing a ``Content-Encoding``, whole or a chunk at a time, bounded."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from negotiate.coding._backends import decodable_codings
from negotiate.coding.decompress import _STAGES, _outer_limit, _Stage
from negotiate.errors import BodyTooLarge, UnsupportedMediaType, excerpt
from negotiate.media import CODING_IDENTITY, canonical_coding

__all__ = [
    "MAX_STACKED",
    "Decoder",
    "decode_body",
    "parse_content_encoding",
]

MAX_STACKED: Final = 4
"""The most codings one ``Content-Encoding`` may stack; more is a 415."""


def _unsupported(message: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        message, location="Content-Encoding", supported=list(decodable_codings())
    )


@lru_cache(maxsize=256)
def parse_content_encoding(header: str) -> tuple[str, ...]:
    """The codings of a ``Content-Encoding`` header, in the order they were applied.

    Names are canonical (``X-GZIP`` is ``gzip``); ``identity`` and empty list
    elements are left out. Cached by the header string.

    Args:
        header: the header value.

    Returns:
        The codings; empty for ``identity`` or an empty header.

    Raises:
        UnsupportedMediaType: (415) a coding this installation cannot read
            (``compress``, ``br`` without brotli, a malformed name), or more than
            :data:`MAX_STACKED` codings; ``supported`` lists what can be read.
    """
    readable = decodable_codings()
    codings = []
    for element in header.split(","):
        name = canonical_coding(element)
        if not name or name == CODING_IDENTITY:
            continue
        if name not in readable:
            shown = excerpt(element.strip(" \t"))
            raise _unsupported(
                f"Unsupported Content-Encoding {shown}; expected {', '.join(readable)} or identity"
            )
        codings.append(name)
    if len(codings) > MAX_STACKED:
        raise _unsupported(
            f"Expected at most {MAX_STACKED} stacked content codings, got {len(codings)} "
            f"in Content-Encoding {excerpt(header)}"
        )
    return tuple(codings)


class Decoder:
    """Undoes a ``Content-Encoding`` incrementally, bounded by ``limit``.

    Feed the body's chunks as they arrive (split anywhere), then call
    :meth:`finish`. The decoded bytes come back as they are produced; the total
    never passes ``limit`` (a :class:`~negotiate.errors.BodyTooLarge` is raised
    as soon as it would). After an error the decoder is spent.

    Args:
        codings: the ``Content-Encoding`` header value (``"gzip"``, ``"gzip, br"``).
        limit: the most decoded bytes to accept.

    Raises:
        UnsupportedMediaType: (415) from the constructor, for a coding this
            installation cannot read (see :func:`parse_content_encoding`).
        ValueError: ``limit`` is negative.
    """

    __slots__ = ("codings", "limit", "_first", "_last", "_size", "_finished")

    def __init__(self, codings: str, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        self.codings: tuple[str, ...] = parse_content_encoding(codings)
        """The codings in the order they were applied (canonical names)."""
        self.limit = limit
        count = len(self.codings)
        stages: list[_Stage] = []
        # the last coding applied is undone first
        for depth, name in enumerate(reversed(self.codings)):
            label = name if count == 1 else f"{name} (coding {count - depth} of {count})"
            stage_limit = limit if depth == count - 1 else _outer_limit(limit)
            stages.append(_STAGES[name](label, stage_limit, limit))
        for outer, inner in zip(stages, stages[1:], strict=False):
            outer.sink = inner
        self._first = stages[0] if stages else None
        self._last = stages[-1] if stages else None
        self._size = 0  # for identity
        self._finished = False

    @property
    def size(self) -> int:
        """Decoded bytes so far."""
        return self._size if self._last is None else self._last.size

    def feed(self, chunk: bytes) -> bytes:
        """Decode the next chunk of the body.

        Args:
            chunk: the next bytes as they came (any length, empty too).

        Returns:
            The decoded bytes this chunk completed (often empty).

        Raises:
            BodyTooLarge: (413) the decoded body passed ``limit``.
            MalformedBody: (400) the data is corrupt or has data after its end.
            ValueError: called after :meth:`finish`.
        """
        if self._finished:
            raise ValueError("Decoder.feed() after finish()")
        first = self._first
        if first is None:
            self._size += len(chunk)
            if self._size > self.limit:
                raise BodyTooLarge(
                    f"Body is over the limit of {self.limit} bytes", limit=self.limit
                )
            return chunk
        try:
            first.write(chunk)
        except BaseException:
            self._finished = True
            raise
        return self._take()

    def finish(self) -> bytes:
        """End the body: the last decoded bytes.

        Returns:
            The decoded bytes not returned yet.

        Raises:
            MalformedBody: (400) the coded data ends early (truncated).
            BodyTooLarge: (413) the decoded body passed ``limit``.
        """
        if self._finished:
            raise ValueError("Decoder.finish() called twice, or after an error")
        self._finished = True
        if self._first is not None:
            self._first.close()
        return self._take()

    def _take(self) -> bytes:
        last = self._last
        if last is None or not last.out:
            return b""
        out = last.out
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data


def decode_body(body: bytes, codings: str, limit: int) -> bytes:
    """Undo a ``Content-Encoding``, stopping as soon as the result passes ``limit``.

    A 1 GiB gzip of zeros (about 1 MB on the wire) costs about ``limit`` bytes
    of memory and the time to inflate ``limit`` bytes before the 413.

    Args:
        body: the body as received.
        codings: the ``Content-Encoding`` value (``"gzip"``, ``"gzip, br"``,
            ``"identity"``, ``""``).
        limit: the most decoded bytes to accept.

    Returns:
        The decoded body (``body`` itself when there is no coding).

    Raises:
        UnsupportedMediaType: (415) a coding this installation cannot read;
            ``supported`` lists those it can.
        MalformedBody: (400) corrupt or truncated coded data, or data after its end.
        BodyTooLarge: (413) the decoded body is larger than ``limit``.
    """
    decoder = Decoder(codings, limit)
    head = decoder.feed(body)
    tail = decoder.finish()
    return head + tail if tail else head
