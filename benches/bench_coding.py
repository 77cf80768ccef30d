"""Content codings: decompressing request bodies (bounded) and compressing responses.

Decode rows: ``coding.decode_body`` on the large contact, gzip-coded (and br
and zstd when their packages are installed), against the one-shot library
call with no limit (``gzip.decompress``, ``zlib.decompress``,
``brotli.decompress``, ``ZstdDecompressor().decompress``); the incremental
``Decoder`` fed 16 KiB chunks against the same; and a gzip bomb (1 GiB of
zeros, about 1 MB) rejected at a 16 MiB limit against the least stdlib code
that stops at a limit (one ``decompressobj().decompress(body, limit + 1)``).

Encode rows: ``coding.encode_body`` for gzip, br and zstd against the library
call at the same level, and against our gzip, so that each coding's cost is
seen next to gzip's; the bytes each writes are in the notes. The identity row
is the whole response step without ``Accept-Encoding`` (``choose_coding`` +
``encode_body``) against gzip: what compressing costs over not compressing.

Response row: the full contact answered by the reference application
(``App.handle``, in process) with ``Accept-Encoding: gzip`` against the same
request without the header, with ``identity`` and with ``br``: requests per
second side by side, the bytes each answer has in the note.

Checks: every decode side returns the contact's bytes; every encode side
writes bytes that the library decodes back to them; the bomb sides report a
413.
"""

from __future__ import annotations

import functools
import gzip
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benches.data import LARGE
from benches.harness import Row, Unavailable, import_optional
from negotiate import coding
from negotiate.errors import BodyTooLarge

__all__ = ["CAVEATS", "rows"]

CAVEATS = [
    "Coding: the decode peers are one-shot library calls with no limit; ours streams in "
    "64 KiB steps and checks the decoded size after each, which is what lets it stop a bomb "
    "at the limit, so a ratio under 1 is the price of that bound. The encode peers do the "
    "same work at the same level (gzip 6, brotli 5, zstd 3); the 'vs negotiate gzip' peers "
    "compare one coding's cost with gzip's. Compressed sizes are in the notes. Figures "
    "depend on the zlib, brotli and zstd builds.",
]

MiB = 1 << 20
LIMIT = 16 * MiB  # Options.max_body's default
BODY = LARGE.body


def _gzip_bomb(size: int = 1 << 30) -> bytes:
    """``size`` zeros, gzip-coded: one MiB compressed after a full flush, repeated."""
    chunk = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush()
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(chunk, crc)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return head + segment * (size // MiB - 1) + final[:-8] + trailer


def _is_body(name: str, result: Any) -> str | None:
    if result != BODY:
        return f"{name} decoded {len(result)} bytes, not the contact's {len(BODY)}"
    return None


GZIP_PEER = "negotiate gzip"


def _decodes_with(decode: Callable[[bytes], bytes]) -> Callable[[str, Any], str | None]:
    """A check: the bytes decode to the contact (the gzip peer's through gzip)."""

    def check(name: str, result: Any) -> str | None:
        if (gzip.decompress if name == GZIP_PEER else decode)(result) != BODY:
            return f"{name} wrote bytes that do not decode to the contact"
        return None

    return check


def _size_note(encoded: bytes) -> str:
    share = 100 * len(encoded) / len(BODY)
    return f"{len(BODY):,} -> {len(encoded):,} bytes ({share:.1f}%)"


def _chunked(body: bytes, codings: str) -> bytes:
    decoder = coding.Decoder(codings, LIMIT)
    parts = [decoder.feed(body[i : i + 16384]) for i in range(0, len(body), 16384)]
    parts.append(decoder.finish())
    return b"".join(parts)


@dataclass(frozen=True)
class _Library:
    """An optional coding's library, as its decode and encode rows call it."""

    coding: str
    setting: str
    """The level it compresses at, as the encode row names it."""
    decompress_name: str
    decompress: Callable[[bytes], bytes]
    compress_name: str
    compress: Callable[[bytes], bytes]
    """At :mod:`negotiate.coding`'s own level for the coding."""


def _libraries() -> list[_Library]:
    """br's and zstd's libraries, those installed (a missing one has no rows)."""
    out = []
    try:
        brotli = import_optional("brotli")
    except Unavailable:
        pass
    else:
        quality = coding.BROTLI_QUALITY
        out.append(
            _Library(
                "br",
                f"quality {quality}",
                "brotli.decompress",
                brotli.decompress,
                "brotli.compress",
                functools.partial(brotli.compress, quality=quality),
            )
        )
    try:
        zstandard = import_optional("zstandard")
    except Unavailable:
        pass
    else:
        out.append(
            _Library(
                "zstd",
                f"level {coding.ZSTD_LEVEL}",
                "ZstdDecompressor().decompress",
                zstandard.ZstdDecompressor().decompress,
                "ZstdCompressor.compress",
                zstandard.ZstdCompressor(level=coding.ZSTD_LEVEL).compress,
            )
        )
    return out


def _decode_row(library: _Library) -> Row:
    """``decode_body`` of the contact in ``library``'s coding against the library's call."""
    data = coding.encode_body(BODY, library.coding)
    return Row(
        "coding",
        f"decode {library.coding}: decode_body",
        lambda: coding.decode_body(data, library.coding, LIMIT),
        {library.decompress_name: lambda: library.decompress(data)},
        _is_body,
    )


def _encode_row(library: _Library, ours_gzip: Callable[[], bytes]) -> Row:
    """``encode_body`` in ``library``'s coding against the library's call and our gzip."""
    return Row(
        "coding",
        f"encode {library.coding} ({library.setting}): encode_body",
        lambda: coding.encode_body(BODY, library.coding),
        {library.compress_name: lambda: library.compress(BODY), GZIP_PEER: ours_gzip},
        _decodes_with(library.decompress),
        note=_size_note(coding.encode_body(BODY, library.coding)),
    )


def _decode_rows() -> list[Row]:
    gz = coding.encode_body(BODY, "gzip")
    out = [
        Row(
            "coding",
            "decode gzip: decode_body",
            lambda: coding.decode_body(gz, "gzip", LIMIT),
            {
                "gzip.decompress": lambda: gzip.decompress(gz),
                "zlib.decompress": lambda: zlib.decompress(gz, 31),
            },
            _is_body,
            note=f"the large contact, {len(gz):,} bytes gzip-coded -> {len(BODY):,}",
        ),
        Row(
            "coding",
            "decode gzip: Decoder, 16 KiB chunks",
            lambda: _chunked(gz, "gzip"),
            {"gzip.decompress": lambda: gzip.decompress(gz)},
            _is_body,
        ),
    ]
    out += [_decode_row(library) for library in _libraries()]
    bomb = _gzip_bomb()

    def ours() -> str:
        try:
            coding.decode_body(bomb, "gzip", LIMIT)
        except BodyTooLarge as exc:
            return str(exc.status)
        return "decoded"

    def stdlib() -> str:
        out = zlib.decompressobj(31).decompress(bomb, LIMIT + 1)
        return "413" if len(out) > LIMIT else "decoded"

    def rejected(name: str, result: Any) -> str | None:
        return None if result == "413" else f"{name} answered {result!r}, not 413"

    out.append(
        Row(
            "coding",
            "reject a gzip bomb (1 GiB of zeros), limit 16 MiB",
            ours,
            {"zlib max_length": stdlib},
            rejected,
            note=f"{len(bomb):,} bytes on the wire; both stop after about 16 MiB decoded",
        )
    )
    return out


def _encode_rows() -> list[Row]:
    def ours_gzip() -> bytes:
        return coding.encode_body(BODY, "gzip")

    out = [
        Row(
            "coding",
            "encode gzip: encode_body",
            ours_gzip,
            {"gzip.compress": lambda: gzip.compress(BODY, coding.GZIP_LEVEL, mtime=0)},
            _decodes_with(gzip.decompress),
            note=_size_note(ours_gzip()),
        ),
        Row(
            "coding",
            "no Accept-Encoding: choose_coding + encode_body (identity)",
            lambda: coding.encode_body(BODY, coding.choose_coding(None, len(BODY)) or "identity"),
            {GZIP_PEER: ours_gzip},
            _decodes_with(lambda body: body),
            note=_size_note(BODY),
        ),
    ]
    out += [_encode_row(library, ours_gzip) for library in _libraries()]
    return out


def _response_rows() -> list[Row]:
    """The full contact through the reference app (App.handle), coded and not."""
    from negotiate.cli import sample_contact
    from negotiate.enrich import EmbeddedProvider
    from negotiate.server import ENRICH_PATH, ServerConfig, create_app

    token = "bench-token-0123456789"
    app = create_app(ServerConfig(tokens={"bench": token}))
    provider = EmbeddedProvider()
    enrich_id = provider.ids(1, country="NO")[0]
    provider.close()
    body = b'{"EnrichId":"' + enrich_id.encode() + b'","ContactEntity":' + sample_contact() + b"}"
    base = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def handle(accept_encoding: str | None) -> Callable[[], Any]:
        headers = dict(base)
        if accept_encoding is not None:
            headers["Accept-Encoding"] = accept_encoding
        return lambda: app.handle("POST", ENRICH_PATH, b"", headers, body)

    plain = handle(None)().body
    sizes = {}
    for name in ("identity", *coding.available_codings()):
        response = handle(name)()
        sizes[name] = len(response.body)

    def answers(name: str, result: Any) -> str | None:
        if result.status != 200:
            return f"{name} answered {result.status}"
        used = result.header("content-encoding") or ""
        if coding.decode_body(result.body, used, LIMIT) != plain:
            return f"{name}: the {used or 'identity'} body is not the plain answer"
        return None

    peers = {"no Accept-Encoding": handle(None), "identity": handle("identity")}
    if "br" in coding.available_codings():
        peers["br"] = handle("br")
    note = "response bytes: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items())
    return [
        Row(
            "coding",
            "full contact via App.handle: gzip vs identity, br",
            handle("gzip"),
            peers,
            answers,
            note=note + f" (request {len(body):,} bytes)",
        )
    ]


def rows() -> list[Row]:
    """Decode rows (gzip, br, zstd, incremental, a bomb), encode rows (gzip, identity, br,
    zstd), and the full contact answered by the reference app gzip, br and identity."""
    return _decode_rows() + _encode_rows() + _response_rows()
