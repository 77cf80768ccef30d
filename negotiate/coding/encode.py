"""The response side: choosing a content coding and applying it."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from typing import Any, Final

from negotiate.coding._backends import _ORDER, _require, available_codings
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
    "MIN_ENCODE_SIZE",
    "ZSTD_LEVEL",
    "choose_coding",
    "encode_body",
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
