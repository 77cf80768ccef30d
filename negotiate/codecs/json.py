"""JSON (``application/json``, ``text/json``) on orjson.

Decoding is parse, then one pass of the schema's compiled normaliser
(validate, coerce, bind names, fill defaults). Errors are located by JSON
pointer. Encoding is a single ``orjson.dumps``: a normalised carrier is
already in declaration order and its date-times are the exact text that
arrived, so nothing is lost or reordered.

Charset: JSON is UTF-8 (RFC 8259). A UTF-8 byte order mark is tolerated; a
body declared (or marked by its BOM) as UTF-16 or UTF-32 is transcoded; any
other declared charset is a 415.
"""

from __future__ import annotations

import codecs
from typing import Any, ClassVar

import orjson

from negotiate.codecs.base import BaseCodec
from negotiate.errors import EncodeError, InvalidValue, MalformedBody, UnsupportedMediaType
from negotiate.media import MEDIA_JSON, MEDIA_TEXT_JSON, MediaType
from negotiate.schema import Schema

__all__ = ["JsonCodec", "check_depth", "json_text", "loads"]

_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_TRANSCODED = frozenset(
    {"utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be", "utf16", "utf32"}
)
_BOM_STARTS = (b"\xef", b"\xfe", b"\xff", b"\x00")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def loads(body: bytes | str) -> Any:
    """``orjson.loads`` with its error turned into a located 400.

    Raises:
        MalformedBody: not JSON; the message gives line, column and offset.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"Malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}, char {exc.pos})"
        ) from None


def check_depth(value: Any, limit: int) -> None:
    """Raise a 400 if containers in ``value`` nest deeper than ``limit``.

    Raises:
        InvalidValue: too deep; located at the first container past the limit.
    """
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, dict):
            items = ((str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            items = ((str(i), v) for i, v in enumerate(node))
        else:
            continue
        if depth >= limit:
            raise InvalidValue(f"Nested deeper than the limit of {limit}", location=where)
        for key, child in items:
            if isinstance(child, dict | list):
                escaped = key.replace("~", "~0").replace("/", "~1")
                stack.append((child, depth + 1, f"{where}/{escaped}"))


class JsonCodec(BaseCodec):
    """``application/json`` and its alias ``text/json``."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_JSON, MEDIA_TEXT_JSON)

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        value = loads(json_text(body, media_type))
        if schema is None:
            check_depth(value, self.options.max_depth)
            return value
        return schema.normalizer(value, 0, self.options)

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """One ``orjson.dumps`` of the value as given (see the module docstring)."""
        try:
            return orjson.dumps(value)
        except TypeError as exc:
            raise EncodeError(f"Cannot write JSON: {exc}") from None


def json_text(body: bytes, media_type: MediaType | None) -> bytes | str:
    """The body as UTF-8 bytes (or text) for orjson, by the charset rules above.

    Raises:
        UnsupportedMediaType: a charset other than UTF-8, UTF-16 or UTF-32.
        MalformedBody: bytes invalid in the declared UTF-16/UTF-32.
    """
    # PERF: most requests carry no parameters and no byte order mark; answer them
    # without looking any further.
    charset = media_type.charset if media_type is not None and media_type.params else None
    if charset is None:
        if body[:1] not in _BOM_STARTS:
            return body
        if body[:3] == codecs.BOM_UTF8:
            return body[3:]
        for bom, name in _BOMS:
            if body.startswith(bom):
                return _transcode(body, name)
        return body
    if charset in _UTF8:
        return body[3:] if body[:3] == codecs.BOM_UTF8 else body
    if charset in _TRANSCODED:
        return _transcode(body, charset)
    raise UnsupportedMediaType(
        f"Unsupported charset {charset!r} for JSON; use utf-8 (utf-16 and utf-32 are transcoded)",
        supported=["utf-8", "utf-16", "utf-32"],
    )


def _transcode(body: bytes, charset: str) -> str:
    try:
        text = body.decode(charset)
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"Body is not valid {charset}: {exc.reason} at byte {exc.start}"
        ) from None
    return text[1:] if text[:1] == "\ufeff" else text
