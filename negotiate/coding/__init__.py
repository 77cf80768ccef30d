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

from negotiate.coding._backends import (
    available_codings as available_codings,
    decodable_codings as decodable_codings,
)
from negotiate.coding.decode import (
    MAX_STACKED as MAX_STACKED,
    Decoder as Decoder,
    decode_body as decode_body,
    parse_content_encoding as parse_content_encoding,
)
from negotiate.coding.decompress import (
    MAX_MEMBERS as MAX_MEMBERS,
    ZSTD_MAX_WINDOW as ZSTD_MAX_WINDOW,
)
from negotiate.coding.encode import (
    BROTLI_QUALITY as BROTLI_QUALITY,
    GZIP_LEVEL as GZIP_LEVEL,
    MIN_ENCODE_SIZE as MIN_ENCODE_SIZE,
    ZSTD_LEVEL as ZSTD_LEVEL,
    choose_coding as choose_coding,
    encode_body as encode_body,
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
