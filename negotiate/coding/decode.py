"""Content codings (RFC 9110 §8.4): compressing responses, decompressing requests, bounded.

Response side: :func:`choose_coding` picks a coding for ``Accept-Encoding``
and a body size (bodies under :data:`MIN_ENCODE_SIZE` stay ``identity`` when
the client allows it), :func:`encode_body` applies it, :func:`available_codings`
lists what this installation can write, in the server's preference order.

Request side: :func:`decode_body` undoes a ``Content-Encoding``;
:class:`Decoder` does the same incrementally, a chunk at a time, while the
body arrives. Both stop as soon as the decoded size passes the limit.

The codings:

``gzip`` (also ``x-gzip``; RFC 1952, stdlib ``zlib``)
    Every member of a multi-member body is decoded, in order (at most
    :data:`MAX_MEMBERS`). Anything after the last member that is not another
    member (garbage, NUL padding) is a 400: it is data the client sent that would
    otherwise be lost silently.
``deflate`` (stdlib ``zlib``)
    Written as RFC 9110 §8.4.1.2 says: a zlib stream (RFC 1950). Read either
    way, since real clients send both: a body that starts with a valid zlib
    header (CM 8, CINFO at most 7, FCHECK) is a zlib stream, anything else raw
    deflate (RFC 1951). A raw stream could pass the header check only by starting
    with a stored block padded with non-zero bits, which no encoder writes.
    Data after the end of the stream is a 400.
``br`` (RFC 7932; the ``brotli`` package, extra ``br``)
    Needs brotli 1.2 or later, whose decompressor takes ``output_buffer_limit``;
    earlier versions cannot bound the output of one call.
``zstd`` (RFC 8878; the ``zstandard`` package, extra ``zstd``)
    Frames may use a window of at most 8 MiB (RFC 9659); one that needs more is
    a 400, so a frame header cannot make the decoder reserve more memory than
    that. Several frames are decoded in order (at most :data:`MAX_MEMBERS`).
``identity``
    No coding; skipped where it appears in ``Content-Encoding``.

Stacked codings (``Content-Encoding: gzip, br``: gzip applied first) are
undone in reverse order, at most :data:`MAX_STACKED` of them; the stages
stream into each other, so no intermediate form is ever held whole, and each
is bounded (the innermost by the limit, the outer ones by the limit plus the
little that compression adds to incompressible data). An empty body decodes to
an empty body under any coding (clients label empty bodies too).

Errors: an unknown or unavailable coding is a 415
(:class:`~negotiate.errors.UnsupportedMediaType`) whose ``supported`` detail
lists the codings this installation reads, for the ``Accept-Encoding``
response header RFC 9110 §15.5.16 asks for; corrupt, truncated or trailing
data is a 400 (:class:`~negotiate.errors.MalformedBody`); a body that decodes
past the limit is a 413 (:class:`~negotiate.errors.BodyTooLarge`, detail
``limit``). The optional packages are imported on first use; asking
:func:`encode_body` for a coding whose package is missing raises
:class:`ImportError` naming the install command.
"""

from __future__ import annotations

import importlib
import threading
import zlib
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from types import ModuleType
from typing import Any, Final

from negotiate.errors import BodyTooLarge, MalformedBody, UnsupportedMediaType, excerpt
from negotiate.media import (
    CODING_BR,
    CODING_DEFLATE,
    CODING_GZIP,
    CODING_IDENTITY,
    CODING_ZSTD,
    canonical_coding,
    select_coding,
)

__all__ = [
    "BROTLI_QUALITY",
    "GZIP_LEVEL",
    "MAX_MEMBERS",
    "MAX_STACKED",
    "MIN_ENCODE_SIZE",
    "ZSTD_LEVEL",
    "ZSTD_MAX_WINDOW",
    "Decoder",
    "available_codings",
    "choose_coding",
    "decodable_codings",
    "decode_body",
    "encode_body",
    "parse_content_encoding",
]

MIN_ENCODE_SIZE: Final = 1024
"""Bodies smaller than this (bytes) are sent as ``identity`` when the client allows it.

A response this small fits one TCP segment with its headers (an Ethernet MSS is
1460 bytes), so compressing it saves no packet and no round trip, only a few
hundred bytes of a packet already sent, while it still costs a compressor
set-up and ~20 bytes of gzip framing."""

GZIP_LEVEL: Final = 6
"""zlib's default level: on the large contact, level 9 saves 5% for 4x the time, level 1
costs 30% more bytes."""

BROTLI_QUALITY: Final = 5
"""On the large contact, quality 5 writes 10% fewer bytes than gzip level 6 in about the
same time; quality 11 (brotli's default) is for static files, 150x slower."""

ZSTD_LEVEL: Final = 3
"""zstd's default level: the cheapest coding here by far, about gzip's size."""

ZSTD_MAX_WINDOW: Final = 8 * 1024 * 1024
"""The largest zstd window a request body may need (RFC 9659)."""

MAX_STACKED: Final = 4
"""The most codings one ``Content-Encoding`` may stack; more is a 415."""

MAX_MEMBERS: Final = 1024
"""The most gzip members (or zstd frames) one body may hold; more is a 400.

Each costs a decompressor set-up (about 3 µs) for as little as 20 bytes of
input, so 16 MiB of empty members would take seconds; a client that ends a
member per flush of 16 KiB still fits in 16 MiB."""

# PERF: each decompression call writes at most _OUT_CHUNK bytes and is given at most
# _IN_CHUNK bytes, so a bomb is stopped within one chunk of the limit and zlib's
# unconsumed_tail (a copy of the input not yet read) stays small.
_OUT_CHUNK: Final = 64 * 1024
_IN_CHUNK: Final = 64 * 1024
# NOTE: a zstd decompressobj cannot bound its output, only its input: a 4-byte RLE block
# yields up to 128 KiB, so n input bytes yield at most about n * 2**15 bytes. For a frame
# that does not declare its content size, each call gets input for the budget left (at
# least 16 bytes: 512 KiB past the limit at worst).
_ZSTD_RATIO_SHIFT: Final = 15
_ZSTD_MIN_STEP: Final = 16
_ZSTD_HEADER: Final = 18  # the longest zstd frame header

_INSTALL: Final = {
    CODING_BR: ("brotli", "pip install 'negotiate[br]'"),
    CODING_ZSTD: ("zstandard", "pip install 'negotiate[zstd]'"),
}
_ORDER: Final = (CODING_BR, CODING_ZSTD, CODING_GZIP, CODING_DEFLATE)


# -- optional packages ---------------------------------------------------------


@cache
def _optional(coding: str) -> ModuleType | None:
    """The package behind ``coding``, or ``None`` when it cannot be imported (or is too old)."""
    module_name, _ = _INSTALL[coding]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if coding == CODING_BR and not hasattr(module.Decompressor, "can_accept_more_data"):
        return None  # brotli < 1.2: no output_buffer_limit, so no bounded decompression
    return module


def _require(coding: str) -> ModuleType:
    module = _optional(coding)
    if module is None:
        package, command = _INSTALL[coding]
        raise ImportError(
            f"The {coding!r} content coding needs the {package} package"
            f"{' (1.2 or later)' if coding == CODING_BR else ''}: {command}"
        )
    return module


@cache
def available_codings() -> tuple[str, ...]:
    """The codings this installation can write, in the server's preference order.

    ``br`` (smallest bodies, at gzip's cost with :data:`BROTLI_QUALITY`), then
    ``zstd`` (8x cheaper, about gzip's size), then ``gzip`` and ``deflate``;
    ``br`` and ``zstd`` only when their packages are installed. ``identity`` is
    not listed: it is always possible.
    """
    return tuple(c for c in _ORDER if c not in _INSTALL or _optional(c) is not None)


@cache
def decodable_codings() -> tuple[str, ...]:
    """The codings a request body may use here (for ``Accept-Encoding`` on a 415).

    The same as :func:`available_codings`; ``x-gzip`` and ``identity`` are read
    too but not listed.
    """
    return available_codings()


# -- the response side ---------------------------------------------------------

_local = threading.local()


def _zstd_compressor() -> Any:
    # NOTE: a ZstdCompressor must not be used by two threads at once; one per thread,
    # made once, instead of a new one (and its context) per response.
    compressor = getattr(_local, "zstd", None)
    if compressor is None:
        compressor = _require(CODING_ZSTD).ZstdCompressor(level=ZSTD_LEVEL)
        _local.zstd = compressor
    return compressor


def encode_body(body: bytes, coding: str) -> bytes:
    """Apply a content coding to a response body.

    Args:
        body: the body.
        coding: ``gzip`` (or ``x-gzip``), ``deflate`` (zlib-wrapped), ``br``,
            ``zstd`` or ``identity``, any case; normally what
            :func:`choose_coding` returned.

    Returns:
        The encoded body (``body`` itself for ``identity``).

    Raises:
        ImportError: ``br`` or ``zstd`` without its package; the message names
            the install command.
        ValueError: any other coding (a programming error).
    """
    name = canonical_coding(coding)
    if name == CODING_GZIP:
        # NOTE: zlib writes the gzip header with mtime 0, so equal bodies give equal bytes.
        return zlib.compress(body, GZIP_LEVEL, wbits=31)
    if name == CODING_DEFLATE:
        return zlib.compress(body, GZIP_LEVEL)
    if name == CODING_BR:
        result: bytes = _require(CODING_BR).compress(body, quality=BROTLI_QUALITY)
        return result
    if name == CODING_ZSTD:
        result = _zstd_compressor().compress(body)
        return result
    if name == CODING_IDENTITY:
        return body
    raise ValueError(
        f"Unknown content coding {coding!r}; expected one of "
        f"{', '.join((*_ORDER, CODING_IDENTITY))}"
    )


def choose_coding(
    accept_encoding: str | None, size: int, available: Sequence[str] | None = None
) -> str | None:
    """The content coding for a response of ``size`` bytes.

    :func:`~negotiate.media.select_coding` over ``available`` (by default
    :func:`available_codings`), with ``identity`` put first when ``size`` is
    under :data:`MIN_ENCODE_SIZE`, so that a small body is compressed only for a
    client that excludes ``identity``.

    Args:
        accept_encoding: the request's ``Accept-Encoding``; ``None`` when absent.
        size: the length of the body in bytes.
        available: the codings to choose from, preferred first.

    Returns:
        A coding name, or ``None`` when nothing is acceptable, not even
        ``identity`` (see :func:`~negotiate.media.select_coding` for the policy).
    """
    offers = available_codings() if available is None else tuple(available)
    if size < MIN_ENCODE_SIZE:
        offers = (CODING_IDENTITY, *offers)
    return select_coding(accept_encoding, offers)


# -- the request side ----------------------------------------------------------


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


class _Stage:
    """One coding being undone; its output goes to the next stage or to ``out``."""

    __slots__ = ("label", "limit", "decoded_limit", "size", "sink", "out", "started")

    name = ""

    def __init__(self, label: str, limit: int, decoded_limit: int) -> None:
        self.label = label  # the coding's name, with its place in a stack
        self.limit = limit  # the most this stage may write
        self.decoded_limit = decoded_limit  # the caller's limit, for the 413
        self.size = 0
        self.sink: _Stage | None = None
        self.out: list[bytes] = []
        self.started = False  # any input seen

    def emit(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise self.too_large()
        if self.sink is None:
            self.out.append(data)
        else:
            self.sink.write(data)

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """The input is complete: raise if the coded data is unfinished."""
        raise NotImplementedError

    def close(self) -> None:
        self.end()
        if self.sink is not None:
            self.sink.close()

    def too_large(self) -> BodyTooLarge:
        return BodyTooLarge(
            f"Body is over the limit of {self.decoded_limit} bytes once its "
            f"{self.label} coding is undone",
            limit=self.decoded_limit,
        )

    def corrupt(self, reason: object) -> MalformedBody:
        return MalformedBody(f"The body is not valid {self.label} data: {reason}")

    def truncated(self) -> MalformedBody:
        return MalformedBody(f"The body's {self.label} data ends early (truncated)")

    def trailing(self) -> MalformedBody:
        return MalformedBody(
            f"The body has data after the end of its {self.label} data; expected nothing"
            + (" or another gzip member" if self.name == CODING_GZIP else "")
        )

    def inflate(self, inflater: Any, data: bytes, position: int) -> int:
        """Run zlib over ``data`` from ``position`` in bounded steps.

        Returns:
            Where the stream ended in ``data``, or ``len(data)`` when it goes on.
        """
        emit = self.emit
        view = memoryview(data)
        end = len(data)
        try:
            while position < end:
                # PERF: a slice of a memoryview, not of bytes: no copy of the input.
                piece: bytes | memoryview = view[position : position + _IN_CHUNK]
                size = len(piece)
                while True:
                    out = inflater.decompress(piece, _OUT_CHUNK)
                    if out:
                        emit(out)
                    if inflater.eof:
                        return position + size - len(inflater.unused_data)
                    piece = inflater.unconsumed_tail
                    if not piece and len(out) < _OUT_CHUNK:
                        break
                position += size
        except zlib.error as exc:
            raise self.corrupt(_zlib_reason(exc)) from exc
        return end


def _too_many(label: str, what: str) -> MalformedBody:
    return MalformedBody(
        f"Expected at most {MAX_MEMBERS} {what} in the body's {label} data, got more"
    )


def _zlib_reason(exc: zlib.error) -> str:
    # "Error -3 while decompressing data: invalid block type" -> "invalid block type"
    return str(exc).rpartition(": ")[2] or str(exc)


class _Gzip(_Stage):
    __slots__ = ("_inflater", "_pending", "_members")

    name = CODING_GZIP

    def __init__(self, label: str, limit: int, decoded_limit: int) -> None:
        super().__init__(label, limit, decoded_limit)
        self._inflater: Any = None
        self._pending = b""  # the start of a next member's magic, split across chunks
        self._members = 0

    def write(self, data: bytes) -> None:
        if self._pending:
            data, self._pending = self._pending + data, b""
        position, end = 0, len(data)
        while position < end:
            self.started = True
            inflater = self._inflater
            if inflater is None:
                magic = data[position : position + 2]
                if magic != b"\x1f\x8b"[: len(magic)]:
                    if self._members:
                        raise self.trailing()
                    raise self.corrupt(f"expected the gzip magic bytes 1f 8b, got {magic.hex(' ')}")
                if len(magic) < 2:
                    self._pending = magic  # wait for the second magic byte
                    return
                if self._members == MAX_MEMBERS:
                    raise _too_many(self.label, "members")
                inflater = self._inflater = zlib.decompressobj(31)
            position = self.inflate(inflater, data, position)
            if inflater.eof:
                self._inflater = None
                self._members += 1

    def end(self) -> None:
        if self._inflater is not None or self._pending:
            raise self.truncated()


class _Deflate(_Stage):
    __slots__ = ("_inflater", "_pending", "_done")

    name = CODING_DEFLATE

    def __init__(self, label: str, limit: int, decoded_limit: int) -> None:
        super().__init__(label, limit, decoded_limit)
        self._inflater: Any = None
        self._pending = b""  # a first byte, until the second says zlib or raw
        self._done = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.started = True
        if self._done:
            raise self.trailing()
        inflater = self._inflater
        if inflater is None:
            data, self._pending = self._pending + data, b""
            if len(data) < 2:
                self._pending = data
                return
            cmf, flg = data[0], data[1]
            zlib_header = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            inflater = self._inflater = zlib.decompressobj(15 if zlib_header else -15)
        stop = self.inflate(inflater, data, 0)
        if inflater.eof:
            self._done = True
            if stop < len(data):
                raise self.trailing()

    def end(self) -> None:
        if self.started and not self._done:
            raise self.truncated()


class _Brotli(_Stage):
    __slots__ = ("_decompressor", "_error")

    name = CODING_BR

    def __init__(self, label: str, limit: int, decoded_limit: int) -> None:
        super().__init__(label, limit, decoded_limit)
        brotli = _require(CODING_BR)
        self._decompressor = brotli.Decompressor()
        self._error: type[Exception] = brotli.error

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.started = True
        decompressor = self._decompressor
        if decompressor.is_finished():
            raise self.trailing()
        emit = self.emit
        view = memoryview(data)
        try:
            for start in range(0, len(data), _IN_CHUNK):
                out = decompressor.process(view[start : start + _IN_CHUNK], _OUT_CHUNK)
                # NOTE: with the output capped, brotli keeps what it has not written (and
                # the input it has not read) and yields it to calls with empty input; it
                # is drained here, so that each chunk's output comes out with the chunk.
                while out:
                    emit(out)
                    out = decompressor.process(b"", _OUT_CHUNK)
        except self._error as exc:
            # brotli says only "decoder failed", for corrupt data and for data past the end
            raise self.corrupt(f"{exc} (corrupt, or data after the end of the stream)") from exc

    def end(self) -> None:
        if self.started and not self._decompressor.is_finished():
            raise self.truncated()


_ZSTD_CONTEXTS: list[Any] = []  # idle decompression contexts (list.pop/append: atomic)
_ZSTD_POOL: Final = 8


class _Zstd(_Stage):
    __slots__ = ("_context", "_frame", "_frames", "_sized", "_error", "_parameters")

    name = CODING_ZSTD

    def __init__(self, label: str, limit: int, decoded_limit: int) -> None:
        super().__init__(label, limit, decoded_limit)
        zstandard = _require(CODING_ZSTD)
        # PERF: a decompression context costs ~9 µs to make, more than decoding a 68 KB
        # body; contexts are pooled. NOTE: pooled, not per thread: an ASGI server holds
        # several decoders at once in one thread, and they must not share a context.
        try:
            self._context = _ZSTD_CONTEXTS.pop()
        except IndexError:
            self._context = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._frame: Any = None
        self._frames = 0
        self._sized = False  # the current frame declares its content size
        self._error: type[Exception] = zstandard.ZstdError
        self._parameters = zstandard.get_frame_parameters

    def _content_size(self, head: bytes) -> int:
        """The content size the frame starting ``head`` declares, or -1."""
        try:
            size: int = self._parameters(head).content_size
        except self._error:
            return -1  # header incomplete in this chunk, or invalid (decompressing says)
        return -1 if size >= 1 << 63 else size  # ZSTD_CONTENTSIZE_UNKNOWN is 2**64 - 1

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.started = True
        emit = self.emit
        position, end = 0, len(data)
        try:
            while position < end:
                frame = self._frame
                if frame is None:
                    if self._frames == MAX_MEMBERS:
                        raise _too_many(self.label, "frames")
                    frame = self._frame = self._context.decompressobj(write_size=_OUT_CHUNK)
                    declared = self._content_size(data[position : position + _ZSTD_HEADER])
                    if declared > self.limit - self.size:
                        raise self.too_large()  # said in the frame header: no work spent
                    self._sized = declared >= 0
                if self._sized:
                    # NOTE: libzstd refuses to write past a declared content size, so such
                    # a frame's output is bounded by it (checked above) and needs no slicing.
                    step = _IN_CHUNK
                else:
                    budget = (self.limit - self.size) >> _ZSTD_RATIO_SHIFT
                    step = min(_IN_CHUNK, max(_ZSTD_MIN_STEP, budget))
                piece = data[position : position + step]
                position += len(piece)
                out = frame.decompress(piece)
                if out:
                    emit(out)
                if frame.eof:
                    self._frame = None
                    self._frames += 1
                    position -= len(frame.unused_data)  # the next frame starts there
        except self._error as exc:
            reason = str(exc).removeprefix("zstd decompressor error: ")
            if "memory" in reason:
                reason += f" (frames may use a window of at most {ZSTD_MAX_WINDOW >> 20} MiB)"
            raise self.corrupt(reason) from exc

    def end(self) -> None:
        if self._frame is not None:
            raise self.truncated()
        if len(_ZSTD_CONTEXTS) < _ZSTD_POOL:
            _ZSTD_CONTEXTS.append(self._context)  # no frame uses it any more


_STAGES: Final[dict[str, Callable[[str, int, int], _Stage]]] = {
    CODING_GZIP: _Gzip,
    CODING_DEFLATE: _Deflate,
    CODING_BR: _Brotli,
    CODING_ZSTD: _Zstd,
}


def _outer_limit(limit: int) -> int:
    # NOTE: an outer stage writes the coded form of the inner data, which is at most
    # `limit` bytes once decoded. Compressing incompressible data adds little: deflate
    # 5 bytes per 64 KiB stored block, zstd 3 per 128 KiB raw block, brotli a few per
    # uncompressed meta-block, plus headers. 1/256 and 4 KiB cover all of them.
    return limit + (limit >> 8) + 4096


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
