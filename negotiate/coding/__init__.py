"""Content codings (moving into modules by job)."""

from negotiate.coding.decode import (
    BROTLI_QUALITY as BROTLI_QUALITY,
    GZIP_LEVEL as GZIP_LEVEL,
    MAX_MEMBERS as MAX_MEMBERS,
    MAX_STACKED as MAX_STACKED,
    MIN_ENCODE_SIZE as MIN_ENCODE_SIZE,
    ZSTD_LEVEL as ZSTD_LEVEL,
    ZSTD_MAX_WINDOW as ZSTD_MAX_WINDOW,
    Decoder as Decoder,
    available_codings as available_codings,
    choose_coding as choose_coding,
    decodable_codings as decodable_codings,
    decode_body as decode_body,
    encode_body as encode_body,
    parse_content_encoding as parse_content_encoding,
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
