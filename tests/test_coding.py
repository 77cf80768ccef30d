"""Tests for negotiate.coding: content codings both ways, bounded.

Round trips of every coding (hypothesis), stacked codings, the incremental
decoder with chunk boundaries anywhere, corrupt / truncated / trailing data,
unknown codings, the missing extras, and decompression bombs: 1 GiB of zeros
in gzip, zlib, raw deflate, br and zstd, built by streaming compression (never
1 GiB in memory), each stopped at the limit with about the limit in memory.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, strategies as st

from negotiate.coding import (
    MAX_MEMBERS,
    MAX_STACKED,
    MIN_ENCODE_SIZE,
    Decoder,
    available_codings,
    choose_coding,
    decodable_codings,
    decode_body,
    encode_body,
    parse_content_encoding,
)
from negotiate.errors import BodyTooLarge, MalformedBody, UnsupportedMediaType

HAVE_BR = importlib.util.find_spec("brotli") is not None
HAVE_ZSTD = importlib.util.find_spec("zstandard") is not None
NEEDS_BR = pytest.mark.skipif(not HAVE_BR, reason="brotli is not installed (extra br)")
NEEDS_ZSTD = pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard is not installed (extra zstd)")

CODINGS = [
    pytest.param("gzip", id="gzip"),
    pytest.param("deflate", id="deflate"),
    pytest.param("br", id="br", marks=NEEDS_BR),
    pytest.param("zstd", id="zstd", marks=NEEDS_ZSTD),
]
"""Every coding this installation may have, skipped with the reason when it has not."""

DATA = Path(__file__).parent / "data" / "superoffice"
MiB = 1 << 20
BOMB = 1 << 30  # a gigabyte of zeros, decoded
LIMIT = 4 * MiB
RANDOM = os.urandom(150_000)
TEXT = b"SuperOffice " * 20_000

BODIES = st.one_of(
    st.binary(max_size=3000),
    st.lists(
        st.sampled_from([b"a", b"SuperOffice ", b"\x00" * 100, b'{"Name":"x"}']), max_size=300
    ).map(b"".join),
)
"""Random bytes (incompressible) and repetitive ones (compressible)."""


def _decoded(encoded: bytes, codings: str, limit: int = 1 << 24) -> bytes:
    return decode_body(encoded, codings, limit)


def _stack(body: bytes, names: list[str]) -> bytes:
    for name in names:
        body = encode_body(body, name)
    return body


# -- round trips -----------------------------------------------------------------


@pytest.mark.parametrize("name", CODINGS)
@given(body=BODIES)
def test_round_trip(name: str, body: bytes) -> None:
    encoded = encode_body(body, name)
    assert _decoded(encoded, name) == body


@pytest.mark.parametrize("name", CODINGS)
def test_round_trip_of_the_large_contact(name: str) -> None:
    body = (DATA / "contact-large.json").read_bytes()
    encoded = encode_body(body, name)
    assert len(encoded) < len(body) // 5
    assert _decoded(encoded, name) == body


def test_encodings_are_the_standard_formats() -> None:
    body = b"SuperOffice " * 200
    assert gzip.decompress(encode_body(body, "gzip")) == body
    assert encode_body(body, "x-gzip") == encode_body(body, "GZIP")  # mtime 0: deterministic
    deflated = encode_body(body, "deflate")
    assert deflated[0] == 0x78  # zlib-wrapped, as RFC 9110 §8.4.1.2 says
    assert zlib.decompress(deflated) == body
    assert encode_body(body, "identity") is body
    if HAVE_BR:
        import brotli

        assert brotli.decompress(encode_body(body, "br")) == body
    if HAVE_ZSTD:
        import zstandard

        assert zstandard.ZstdDecompressor().decompress(encode_body(body, "zstd")) == body


def test_encode_body_rejects_an_unknown_coding() -> None:
    with pytest.raises(ValueError, match="Unknown content coding 'compress'"):
        encode_body(b"x", "compress")


def test_raw_deflate_is_read_too() -> None:
    body = b"SuperOffice " * 100
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = compressor.compress(body) + compressor.flush()
    assert _decoded(raw, "deflate") == body


@given(body=BODIES, level=st.integers(0, 9), window=st.integers(9, 15))
def test_deflate_of_any_level_and_window_either_way(body: bytes, level: int, window: int) -> None:
    for wbits in (window, -window):
        compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
        assert _decoded(compressor.compress(body) + compressor.flush(), "deflate") == body


@pytest.mark.parametrize(
    "header", ["x-gzip", "GZIP", " gzip ", "gzip, identity", "identity,gzip", ",gzip,"]
)
def test_gzip_names(header: str) -> None:
    assert _decoded(gzip.compress(b"abc"), header) == b"abc"


def test_multi_member_gzip_is_decoded_whole() -> None:
    body = gzip.compress(b"Super") + gzip.compress(b"") + gzip.compress(b"Office")
    assert _decoded(body, "gzip") == b"SuperOffice"
    decoder = Decoder("gzip", 100)
    out = b"".join(decoder.feed(body[i : i + 1]) for i in range(len(body)))  # magic split too
    assert out + decoder.finish() == b"SuperOffice"


@pytest.mark.parametrize("name", ["gzip", pytest.param("zstd", marks=NEEDS_ZSTD)])
def test_members_or_frames_are_counted(name: str) -> None:
    # each costs a decompressor for a few bytes: a body of empty ones is bounded
    member = encode_body(b"", name)
    assert _decoded(member * MAX_MEMBERS, name) == b""
    with pytest.raises(MalformedBody, match=f"at most {MAX_MEMBERS} (members|frames)"):
        _decoded(member * (MAX_MEMBERS + 1), name)


@pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard is not installed (extra zstd)")
def test_multi_frame_zstd_is_decoded_whole() -> None:
    body = encode_body(b"Super", "zstd") + encode_body(b"Office", "zstd")
    assert _decoded(body, "zstd") == b"SuperOffice"


@pytest.mark.parametrize("header", ["", "identity", "Identity", " , identity ,"])
def test_identity(header: str) -> None:
    body = b"SuperOffice"
    assert decode_body(body, header, len(body)) is body
    with pytest.raises(BodyTooLarge) as caught:
        decode_body(body, header, len(body) - 1)
    assert caught.value.detail == {"limit": len(body) - 1}


@pytest.mark.parametrize("name", [*CODINGS, "identity", "gzip, gzip"])
def test_an_empty_body_is_empty_under_any_coding(name: str) -> None:
    assert decode_body(b"", name, 0) == b""


# -- stacked codings ---------------------------------------------------------------


def _pairs() -> list[Any]:
    names = ["gzip", "deflate"] + (["br"] if HAVE_BR else []) + (["zstd"] if HAVE_ZSTD else [])
    return [pytest.param([a, b], id=f"{a},{b}") for a in names for b in names]


@pytest.mark.parametrize("names", _pairs())
@given(body=BODIES)
def test_stacked_codings_are_undone_in_reverse_order(names: list[str], body: bytes) -> None:
    assert _decoded(_stack(body, names), ", ".join(names)) == body


def test_stacked_codings_in_the_wrong_order_are_a_400() -> None:
    encoded = _stack(b"abc" * 100, ["gzip", "deflate"])
    with pytest.raises(MalformedBody, match="coding 2 of 2"):
        _decoded(encoded, "deflate, gzip")


def test_three_stacked_codings() -> None:
    body = b"SuperOffice " * 100
    assert _decoded(_stack(body, ["gzip", "deflate", "gzip"]), "gzip, deflate, gzip") == body


def test_too_many_stacked_codings_are_a_415() -> None:
    header = ", ".join(["gzip"] * (MAX_STACKED + 1))
    with pytest.raises(UnsupportedMediaType, match=f"at most {MAX_STACKED} stacked"):
        decode_body(_stack(b"x", ["gzip"] * (MAX_STACKED + 1)), header, 100)
    body = _stack(b"x", ["gzip"] * MAX_STACKED)
    assert decode_body(body, ", ".join(["gzip"] * MAX_STACKED), 100) == b"x"


def test_an_outer_coding_of_incompressible_data_at_the_limit_passes() -> None:
    # The outer layer holds the gzip of random bytes, which is a little longer than the
    # bytes themselves: it must not count against the limit of the decoded body.
    body = os.urandom(200_000)
    encoded = _stack(body, ["gzip", "deflate"])
    assert decode_body(encoded, "gzip, deflate", len(body)) == body
    with pytest.raises(BodyTooLarge):
        decode_body(encoded, "gzip, deflate", len(body) - 1)


@pytest.mark.parametrize("name", CODINGS)
@pytest.mark.parametrize("body", [RANDOM, TEXT], ids=["random", "text"])
def test_the_limit_is_exact(name: str, body: bytes) -> None:
    encoded = encode_body(body, name)
    assert decode_body(encoded, name, len(body)) == body
    with pytest.raises(BodyTooLarge) as caught:
        decode_body(encoded, name, len(body) - 1)
    assert caught.value.status == 413
    assert caught.value.detail == {"limit": len(body) - 1}
    assert f"limit of {len(body) - 1} bytes" in str(caught.value)


# -- the incremental decoder ---------------------------------------------------------


@st.composite
def _splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _stacks() -> st.SearchStrategy[list[str]]:
    names = ["gzip", "deflate"] + (["br"] if HAVE_BR else []) + (["zstd"] if HAVE_ZSTD else [])
    return st.lists(st.sampled_from(names), min_size=1, max_size=3)


@given(body=BODIES, names=_stacks(), data=st.data())
def test_decoder_with_chunk_boundaries_anywhere(
    body: bytes, names: list[str], data: st.DataObject
) -> None:
    encoded = _stack(body, names)
    chunks = data.draw(_splits(encoded))
    decoder = Decoder(", ".join(names), len(body))
    out = [decoder.feed(chunk) for chunk in chunks]
    out.append(decoder.finish())
    assert b"".join(out) == body
    assert decoder.size == len(body)
    assert decoder.codings == tuple(names)


@given(body=BODIES, data=st.data())
def test_decoder_of_multi_member_gzip_split_anywhere(body: bytes, data: st.DataObject) -> None:
    half = len(body) // 2
    encoded = gzip.compress(body[:half]) + gzip.compress(body[half:])
    decoder = Decoder("x-gzip", len(body))
    out = [decoder.feed(chunk) for chunk in data.draw(_splits(encoded))]
    assert b"".join(out) + decoder.finish() == body


@pytest.mark.parametrize("name", CODINGS)
def test_decoders_alive_at_once_do_not_share_state(name: str) -> None:
    # as in an ASGI server: several bodies arrive interleaved in one thread
    bodies = [os.urandom(50_000) + b"SuperOffice " * 5000 for _ in range(3)]
    encoded = [encode_body(body, name) for body in bodies]
    for _ in range(2):  # the second round reuses whatever the first gave back
        decoders = [Decoder(name, 200_000) for _ in bodies]
        out: list[list[bytes]] = [[] for _ in bodies]
        for start in range(0, max(map(len, encoded)), 4096):
            for index, decoder in enumerate(decoders):
                out[index].append(decoder.feed(encoded[index][start : start + 4096]))
        for index, decoder in enumerate(decoders):
            out[index].append(decoder.finish())
            assert b"".join(out[index]) == bodies[index]


def test_decoder_misuse() -> None:
    with pytest.raises(ValueError, match="negative"):
        Decoder("gzip", -1)
    decoder = Decoder("gzip", 10)
    decoder.feed(gzip.compress(b"abc"))
    assert decoder.finish() == b"" and decoder.size == 3
    with pytest.raises(ValueError, match="after finish"):
        decoder.feed(b"")
    with pytest.raises(ValueError, match="twice"):
        decoder.finish()
    broken = Decoder("gzip", 10)
    with pytest.raises(MalformedBody):
        broken.feed(b"not gzip")
    with pytest.raises(ValueError):  # spent after an error
        broken.finish()


def test_decoder_rejects_an_unknown_coding_at_once() -> None:
    with pytest.raises(UnsupportedMediaType):
        Decoder("compress", 10)


# -- corrupt, truncated and trailing data ---------------------------------------------


@pytest.mark.parametrize("name", CODINGS)
@given(body=BODIES, data=st.data())
def test_truncated_data_is_a_400(name: str, body: bytes, data: st.DataObject) -> None:
    encoded = encode_body(body, name)
    assume(len(encoded) > 1)  # brotli writes an empty body as one byte
    cut = data.draw(st.integers(1, len(encoded) - 1))
    with pytest.raises(MalformedBody):
        _decoded(encoded[:cut], name)


@pytest.mark.parametrize(
    ("name", "trailer"),
    [
        ("gzip", b"garbage"),
        ("gzip", b"\x00\x00\x00\x00"),  # NUL padding is data too: not dropped silently
        ("gzip", b"\x1f"),  # the start of a member that never comes: truncated
        ("deflate", b"x"),
        pytest.param("br", b"x", marks=NEEDS_BR),
        pytest.param("zstd", b"garbage!", marks=NEEDS_ZSTD),
    ],
)
def test_data_after_the_end_is_a_400(name: str, trailer: bytes) -> None:
    encoded = encode_body(b"SuperOffice " * 10, name) + trailer
    with pytest.raises(MalformedBody) as caught:
        _decoded(encoded, name)
    assert caught.value.status == 400
    decoder = Decoder(name, 1000)  # and the same when the trailer comes in a later chunk
    with pytest.raises(MalformedBody):
        decoder.feed(encoded[: -len(trailer)])
        decoder.feed(trailer)
        decoder.finish()


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :]


GOOD_GZIP = gzip.compress(b"SuperOffice " * 50)
GOOD_ZLIB = zlib.compress(b"SuperOffice " * 50)


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("gzip", b"not gzip at all", "gzip magic bytes 1f 8b"),
        ("gzip", _flip(GOOD_GZIP, -8), "incorrect data check"),  # the CRC-32
        ("gzip", _flip(GOOD_GZIP, -1), "incorrect length check"),
        ("gzip", GOOD_GZIP[:2] + b"\x09" + GOOD_GZIP[3:], "unknown compression method"),
        ("deflate", _flip(GOOD_ZLIB, -1), "incorrect data check"),  # the Adler-32
        ("deflate", b"\xff\xff\xff\xff", "invalid block type"),  # raw: reserved type 3
        pytest.param("br", b"\xff\xff\xff\xff garbage", "br data", marks=NEEDS_BR),
        pytest.param("zstd", b"garbage!", "zstd data", marks=NEEDS_ZSTD),
    ],
    ids=[
        "gzip-magic",
        "gzip-crc",
        "gzip-size",
        "gzip-method",
        "zlib-adler",
        "deflate-type",
        "br-garbage",
        "zstd-garbage",
    ],
)
def test_corrupt_data_is_a_400_saying_what(name: str, body: bytes, message: str) -> None:
    with pytest.raises(MalformedBody, match=message) as caught:
        _decoded(body, name)
    assert f"not valid {name} data" in str(caught.value)


@pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard is not installed (extra zstd)")
def test_a_zstd_frame_needing_a_window_over_8_mib_is_a_400() -> None:
    import zstandard

    params = zstandard.ZstdCompressionParameters(window_log=25)  # 32 MiB
    # streamed, so the frame cannot shrink its window to a known content size
    stream = zstandard.ZstdCompressor(compression_params=params).compressobj()
    body = stream.compress(os.urandom(1000) * 2) + stream.flush()
    assert zstandard.get_frame_parameters(body).window_size == 32 * MiB
    with pytest.raises(MalformedBody, match="window of at most 8 MiB"):
        _decoded(body, "zstd")


@pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard is not installed (extra zstd)")
def test_a_zstd_frame_declaring_a_size_over_the_limit_is_a_413_from_its_header() -> None:
    frame = encode_body(bytes(2 * MiB), "zstd")
    decoder = Decoder("zstd", MiB)
    with pytest.raises(BodyTooLarge) as caught:
        decoder.feed(frame[:18])  # the frame header alone
    assert caught.value.detail == {"limit": MiB}


@pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard is not installed (extra zstd)")
def test_a_zstd_frame_lying_about_its_size_is_a_400_not_a_bomb() -> None:
    import zstandard

    frame = zstandard.ZstdCompressor(level=1).compress(bytes(64 * MiB))
    descriptor = frame[4]
    assert descriptor >> 6 == 2 and not descriptor & 0x20  # a window byte, a 4-byte size
    assert zstandard.get_frame_parameters(frame).content_size == 64 * MiB
    lying = frame[:6] + struct.pack("<I", 1000) + frame[10:]  # declares 1000 bytes
    errors: list[Exception] = []

    def run() -> None:
        try:
            decode_body(lying, "zstd", LIMIT)
        except (MalformedBody, BodyTooLarge) as exc:
            errors.append(exc)

    peak = _peak_while(run)
    assert len(errors) == 1 and isinstance(errors[0], MalformedBody)
    assert peak < 2 * LIMIT


# -- unknown codings ---------------------------------------------------------------------


@pytest.mark.parametrize("header", ["compress", "x-compress", "gzip, compress", "snappy", "g zip"])
def test_an_unknown_coding_is_a_415_listing_the_supported_ones(header: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        decode_body(b"x", header, 100)
    error = caught.value
    assert error.status == 415
    assert error.location == "Content-Encoding"
    assert error.detail == {"supported": list(decodable_codings())}
    assert error.to_dict()["Supported"] == list(decodable_codings())
    assert "gzip" in error.message and "identity" in error.message


def test_the_415_message_quotes_a_long_header_cut_short() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        decode_body(b"x", "z" * 5000, 100)
    assert len(caught.value.message) < 400


def test_parse_content_encoding() -> None:
    assert parse_content_encoding("gzip, br") == ("gzip", "br")
    assert parse_content_encoding("X-GZIP,identity, deflate") == ("gzip", "deflate")
    assert parse_content_encoding("") == ()
    assert parse_content_encoding("identity") == ()


def test_available_codings_in_server_order() -> None:
    present = {"br": HAVE_BR, "zstd": HAVE_ZSTD, "gzip": True, "deflate": True}
    expected = tuple(name for name, have in present.items() if have)
    assert available_codings() == expected
    assert decodable_codings() == expected


MISSING_EXTRAS = """
import json, sys
import negotiate, negotiate.coding as coding
loaded = sorted(m for m in ("brotli", "zstandard") if m in sys.modules)
sys.modules["brotli"] = None  # as if not installed
sys.modules["zstandard"] = None
out = {"loaded_on_import": loaded, "available": list(coding.available_codings())}
for name in ("br", "zstd"):
    try:
        coding.encode_body(b"x", name)
    except ImportError as exc:
        out["encode_" + name] = str(exc)
    try:
        coding.decode_body(b"x", name, 10)
    except negotiate.UnsupportedMediaType as exc:
        out["decode_" + name] = [exc.status, exc.detail["supported"]]
print(json.dumps(out))
"""


def test_optional_packages_are_lazy_and_missing_ones_say_how_to_install() -> None:
    result = subprocess.run(
        [sys.executable, "-c", MISSING_EXTRAS], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["loaded_on_import"] == []
    assert out["available"] == ["gzip", "deflate"]
    assert "pip install 'negotiate[br]'" in out["encode_br"]
    assert "pip install 'negotiate[zstd]'" in out["encode_zstd"]
    assert out["decode_br"] == [415, ["gzip", "deflate"]]
    assert out["decode_zstd"] == [415, ["gzip", "deflate"]]


# -- choosing a coding for a response --------------------------------------------------------

BIG = MIN_ENCODE_SIZE
SMALL = MIN_ENCODE_SIZE - 1


@pytest.mark.parametrize(
    ("header", "size", "available", "expected"),
    [
        ("gzip, deflate, br, zstd", BIG, ("br", "gzip"), "br"),
        ("gzip, deflate, br, zstd", SMALL, ("br", "gzip"), "identity"),
        ("gzip, deflate", BIG, ("br", "gzip"), "gzip"),
        ("identity;q=0, gzip", SMALL, ("br", "gzip"), "gzip"),  # small, but must be coded
        ("identity;q=0", SMALL, ("br", "gzip"), None),
        (None, BIG, ("br", "gzip"), "identity"),
        ("", BIG, ("br", "gzip"), "identity"),
        ("br;q=0.5, gzip", BIG, ("br", "gzip"), "gzip"),
    ],
)
def test_choose_coding(
    header: str | None, size: int, available: tuple[str, ...], expected: str | None
) -> None:
    assert choose_coding(header, size, available) == expected


def test_choose_coding_defaults_to_the_available_codings() -> None:
    assert choose_coding("gzip, deflate, br, zstd", 10_000) == available_codings()[0]
    assert choose_coding("zstd, gzip", 10_000) == ("zstd" if HAVE_ZSTD else "gzip")


# -- decompression bombs ---------------------------------------------------------------------


def _zlib_bomb(wbits: int, size: int = BOMB) -> bytes:
    """``size`` zeros as gzip (31), zlib (15) or raw deflate (-15): about size/1000 bytes.

    After a full flush the compressor starts afresh, so every further MiB of zeros
    compresses to the same bytes: one MiB is compressed and its bytes repeated, and the
    trailer (CRC-32 or Adler-32 and length) is computed for the whole.
    """
    chunk = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH) == segment
    final = compressor.flush()  # the last (empty) block and the trailer of 3 MiB
    count = size // MiB
    if wbits == 31:
        crc = 0
        for _ in range(count):
            crc = zlib.crc32(chunk, crc)
        final = final[:-8] + struct.pack("<II", crc, size & 0xFFFFFFFF)
    elif wbits == 15:
        adler = 1
        for _ in range(count):
            adler = zlib.adler32(chunk, adler)
        final = final[:-4] + struct.pack(">I", adler)
    return head + segment * (count - 1) + final


@cache
def _bomb(name: str) -> bytes:
    if name == "gzip":
        return _zlib_bomb(31)
    if name == "deflate":
        return _zlib_bomb(15)
    if name == "raw-deflate":
        return _zlib_bomb(-15)
    chunk = bytes(MiB)
    if name == "br":
        import brotli

        compressor = brotli.Compressor(quality=1)
        return b"".join(compressor.process(chunk) for _ in range(BOMB // MiB)) + compressor.finish()
    import zstandard

    stream = zstandard.ZstdCompressor(level=1).compressobj()
    return b"".join(stream.compress(chunk) for _ in range(BOMB // MiB)) + stream.flush()


@pytest.mark.parametrize("wbits", [31, 15, -15], ids=["gzip", "zlib", "raw"])
def test_the_bomb_builder_makes_valid_streams(wbits: int) -> None:
    assert zlib.decompress(_zlib_bomb(wbits, 4 * MiB), wbits) == bytes(4 * MiB)


BOMBS = [
    pytest.param("gzip", "gzip", id="gzip"),
    pytest.param("deflate", "deflate", id="zlib"),
    pytest.param("raw-deflate", "deflate", id="raw-deflate"),
    pytest.param("br", "br", id="br", marks=NEEDS_BR),
    pytest.param("zstd", "zstd", id="zstd", marks=NEEDS_ZSTD),
]


def _peak_while(fn: Any) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize(("bomb", "name"), BOMBS)
def test_a_gigabyte_bomb_is_a_413_costing_about_the_limit(bomb: str, name: str) -> None:
    body = _bomb(bomb)
    assert len(body) < 2 * MiB  # what came over the wire: a gigabyte once decoded
    caught: list[BodyTooLarge] = []

    def run() -> None:
        try:
            decode_body(body, name, LIMIT)
        except BodyTooLarge as exc:
            caught.append(exc)

    peak = _peak_while(run)
    assert len(caught) == 1
    assert caught[0].detail == {"limit": LIMIT}
    assert peak < 2 * LIMIT, f"{peak / MiB:.1f} MiB allocated for a limit of 4 MiB"


@pytest.mark.parametrize(("bomb", "name"), BOMBS)
def test_a_bomb_fed_in_chunks_stops_at_the_limit(bomb: str, name: str) -> None:
    body = _bomb(bomb)
    decoder = Decoder(name, LIMIT)
    received = 0
    with pytest.raises(BodyTooLarge):
        for start in range(0, len(body), 16 * 1024):
            received += len(decoder.feed(body[start : start + 16 * 1024]))
        decoder.finish()
    assert received <= LIMIT


def test_a_stacked_bomb_is_a_413() -> None:
    inner = _bomb("gzip")
    body = encode_body(inner, "deflate")  # a few kilobytes for a gigabyte
    with pytest.raises(BodyTooLarge):
        decode_body(body, "gzip, deflate", LIMIT)
    assert len(body) < 64 * 1024
