"""The bounded decompressors: one stage per coding, each writing at most its limit."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, Final

from negotiate.coding._backends import _require
from negotiate.errors import BodyTooLarge, MalformedBody
from negotiate.media import CODING_BR, CODING_DEFLATE, CODING_GZIP, CODING_ZSTD

__all__ = [
    "MAX_MEMBERS",
    "ZSTD_MAX_WINDOW",
]

ZSTD_MAX_WINDOW: Final = 8 * 1024 * 1024
"""The largest zstd window a request body may need (RFC 9659)."""
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
