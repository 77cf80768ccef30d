"""Text every format shares: charsets and byte order marks, JSON text, scalar text.

Three parts, each used by more than one format codec (a format codec never imports
another one; DESIGN.md):

* **Charsets** (XML, form, JSON): :func:`text_codec` resolves a charset label to a
  Python codec, :func:`bom_of` finds a byte order mark, :func:`decode_text` and
  :func:`utf8_text` transcode, with a 400 for bytes invalid in the encoding.
  The formats differ in which labels they take, on purpose: XML and form take any
  label Python knows for one of the plain text encodings :func:`text_codec` allows
  (``latin1``, ``UTF_16LE``...); JSON takes only the labels of RFC 8259's own
  encodings, as written (see :func:`json_text`).
* **JSON text** (JSON and the two patch formats, which are JSON): :func:`json_text`
  (JSON's charset rule), :func:`loads` (orjson, with the node budget of
  :func:`negotiate.codecs._nodes.check_nodes`; exact numbers for schemas with
  decimals), :func:`dumps`
  (decimals as numbers, bytes as base64), and :func:`check_depth`.
* **Scalar text** (XML elements and form fields): one set of parsers for int32,
  int64, double, decimal, bool, date-time, Guid, base64 and enum text, chosen by
  :func:`scalar_parser`. Where the
  formats read differently the difference is a named field of :class:`ScalarText`,
  and each format has its instance: :data:`XML_SCALARS`, :data:`FORM_SCALARS`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import orjson

from negotiate.codecs._nodes import _malformed, check_nodes
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.media import MediaType
from negotiate.schema import FieldType, Kind
from negotiate.schema.values import (
    EnumSpec,
    check_datetime,
    format_bytes,
    format_decimal,
    parse_bool,
    parse_bytes,
    parse_decimal,
    parse_double,
    parse_guid,
    parse_int32,
    parse_int64,
)

__all__ = [
    "BOMS",
    "FORM_SCALARS",
    "KNOWN_DATETIMES",
    "XML_SCALARS",
    "ScalarText",
    "bom_of",
    "check_depth",
    "decode_text",
    "dumps",
    "enum_parser",
    "json_default",
    "json_text",
    "known_datetime",
    "loads",
    "parse_bool_text",
    "parse_checkbox",
    "parse_datetime_text",
    "parse_int32_text",
    "scalar_parser",
    "text_codec",
    "utf8_text",
]


# -- charsets -------------------------------------------------------------------------------

# NOTE: an allow-list of plain text encodings: codecs.lookup() also knows transforms
# (rot13, zlib) and multi-byte legacy codecs whose decoders we have no reason to expose.
_TEXT_CODECS = frozenset(
    {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "ascii"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {f"cp{n}" for n in range(1250, 1259)}
    | {"latin-1", "koi8-r", "koi8-u"}
)


def text_codec(charset: str) -> str | None:
    """Python's codec name for a charset label, or ``None`` if it is not supported.

    Args:
        charset: a label as found in a ``charset`` parameter or an XML declaration
            (``UTF-8``, ``latin1``, ``windows-1252``...).

    Returns:
        The canonical codec name (``utf-8``, ``iso8859-1``, ``cp1252``...) or ``None``.
    """
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError):
        return None
    return name if name in _TEXT_CODECS else None


BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Byte order marks and the codec each means. NOTE: UTF-32 LE before UTF-16 LE, whose
mark is the first half of UTF-32 LE's."""
_BOM_FIRST = frozenset(bom[:1] for bom, _ in BOMS)


def bom_of(body: bytes) -> tuple[bytes, str] | None:
    """The byte order mark ``body`` starts with and its codec, or ``None``.

    ``utf-16`` and ``utf-32`` decode with the mark (and drop it); for ``utf-8`` the
    caller drops it.
    """
    # PERF: one slice and a set test answer a body without a mark (nearly all of them).
    if body[:1] not in _BOM_FIRST:
        return None
    for bom, name in BOMS:
        if body.startswith(bom):
            return bom, name
    return None


def decode_text(body: bytes, codec: str, source: str | None = None) -> str:
    """``body`` decoded with ``codec``, without a leading byte order mark.

    Args:
        body: the raw bytes.
        codec: a Python codec name or label.
        source: what chose the codec ("charset parameter"), named in the error.

    Raises:
        MalformedBody: bytes invalid in ``codec``, with the offset of the first.
    """
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        chosen = f" (from the {source})" if source is not None else ""
        raise MalformedBody(
            f"Body is not valid {codec}{chosen}: {exc.reason} at byte {exc.start}"
        ) from None
    return text[1:] if text[:1] == "\ufeff" else text


def utf8_text(body: bytes, codec: str, source: str) -> bytes:
    """``body`` transcoded from ``codec`` to UTF-8 (a leading byte order mark dropped).

    Raises:
        MalformedBody: bytes invalid in ``codec``, or a lone surrogate (which only
            UTF-32 can decode to, and UTF-8 cannot carry).
    """
    text = decode_text(body, codec, source)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedBody(f"Body is not valid {codec}: {exc.reason}") from None


# -- JSON text ------------------------------------------------------------------------------
#
# Charset: JSON is UTF-8 (RFC 8259). A UTF-8 byte order mark is tolerated; a body
# declared (or marked by its BOM) as UTF-16 or UTF-32 is transcoded; any other
# declared charset is a 415. NOTE: the labels are matched as written, not through
# text_codec's aliases: JSON takes exactly the names below.

_JSON_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_JSON_TRANSCODED = frozenset(
    {"utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be", "utf16", "utf32"}
)


def json_text(body: bytes, media_type: MediaType | None) -> bytes | str:
    """The body as UTF-8 bytes (or text) for orjson, by JSON's charset rule above.

    Raises:
        UnsupportedMediaType: a charset other than UTF-8, UTF-16 or UTF-32.
        MalformedBody: bytes invalid in the declared UTF-16/UTF-32.
    """
    # PERF: most requests carry no parameters and no byte order mark; answer them
    # without looking any further.
    charset = media_type.charset if media_type is not None and media_type.params else None
    if charset is None:
        if body[:1] not in _BOM_FIRST:
            return body
        found = bom_of(body)
        if found is None:
            return body
        return body[3:] if found[1] == "utf-8" else decode_text(body, found[1])
    if charset in _JSON_UTF8:
        return body[3:] if body[:3] == codecs.BOM_UTF8 else body
    if charset in _JSON_TRANSCODED:
        return decode_text(body, charset)
    raise UnsupportedMediaType(
        f"Unsupported charset {excerpt(charset)} for JSON; "
        "use utf-8 (utf-16 and utf-32 are transcoded)",
        supported=["utf-8", "utf-16", "utf-32"],
    )


def loads(body: bytes | str, *, max_nodes: int | None = None, decimals: bool = False) -> Any:
    """``orjson.loads`` with its error turned into a located 400.

    Args:
        body: the JSON text.
        max_nodes: if given, the body is first held to this many nodes
            (:func:`check_nodes`).
        decimals: keep every number exactly: one with a fraction or an exponent
            is a ``Decimal`` (for a schema with decimals, :attr:`Schema.decimals`).

    Raises:
        MalformedBody: not JSON; the message gives line, column and offset. Or
            over ``max_nodes``, located at the first node past it.
    """
    if max_nodes is not None:
        check_nodes(body, max_nodes)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _malformed(exc) from None
    return _exact(body) if decimals else value


# NOTE: the decimal path. orjson reads every number with a fraction or an exponent as a
# float, and a float has lost the digits of 0.1 before anyone sees it; a .NET decimal
# must keep them. So for a schema that has decimals (and only then: the rest keep the
# one orjson parse), the body is parsed twice: orjson first, which alone decides whether
# it is JSON (the same errors, locations and budgets as every other body: NaN, lone
# surrogates and numbers past a double's range are refused there), then the stdlib's
# C parser with parse_float=Decimal, which builds the value with every number's text
# kept (ints are exact in both). The second parse cannot fail on what the first
# accepted, but for nesting past Python's recursion limit (orjson's own is deeper).
# A number then reaches the normaliser as a Decimal, which the decimal check keeps and
# the int32/int64/double checks read exactly as they read orjson's float.
_EXACT_DECODER = json.JSONDecoder(parse_float=Decimal)


def _exact(body: bytes | str) -> Any:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        return _EXACT_DECODER.decode(text)
    except RecursionError:
        raise MalformedBody("Malformed JSON: nested too deeply") from None


def json_default(value: Any) -> Any:
    """orjson's ``default``: a decimal as a JSON number (its exact digits, as Json.NET
    writes one), bytes as base64 text (as .NET writes ``byte[]``).

    Raises:
        TypeError: anything else, or a decimal that is NaN or infinite.
    """
    if type(value) is Decimal and value.is_finite():
        return orjson.Fragment(format_decimal(value))
    if type(value) is bytes:
        return format_bytes(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """``orjson.dumps`` (with :func:`json_default`), its error an :class:`EncodeError`.

    Raises:
        EncodeError: a value orjson cannot write (a set, an int beyond 64 bits).
    """
    try:
        return orjson.dumps(value, default=json_default)
    except TypeError as exc:
        raise EncodeError(f"Cannot write JSON: {exc}") from None


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
            raise InvalidValue(
                f"Nested deeper than the limit of {limit}", location=where, limit=limit
            )
        for key, child in items:
            if isinstance(child, dict | list):
                escaped = key.replace("~", "~0").replace("/", "~1")
                stack.append((child, depth + 1, f"{where}/{escaped}"))


# -- scalar text ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScalarText:
    """How one format reads scalars from text, where formats differ.

    What every format shares: a string is never parsed (it keeps its text exactly);
    any other scalar is trimmed of surrounding whitespace, then read strictly: an
    int32 is decimal digits with an optional sign, in range; a bool is ``true`` or
    ``false`` in any case, or ``1``/``0``; a double is a finite decimal number,
    optionally with an exponent; a date-time is ISO 8601, kept as the text given; an
    enum is a declared name in any case, and flag names are separated by commas,
    whitespace or both (none at all is an error).

    Attributes:
        checkbox: a bool also takes ``on``, in any case: what an HTML checkbox
            posts when checked (form).
        enum_numbers: an enum also takes its integer value, as ASP.NET model
            binding does (form); XML takes names only, as DataContractSerializer
            writes them.
    """

    checkbox: bool = False
    enum_numbers: bool = False


XML_SCALARS: Final = ScalarText()
"""XML element text: the shared grammar only."""

FORM_SCALARS: Final = ScalarText(checkbox=True, enum_numbers=True)
"""Form field values: checkboxes' ``on``, and enums by number."""

_Parse = Callable[[str], Any]


def scalar_parser(ftype: FieldType, rules: ScalarText) -> _Parse:
    """The parser of a scalar's text (int32, int64, double, decimal, bool, date-time,
    Guid, enum; bytes as base64).

    Args:
        ftype: the type; a string, carrier or container has no text parser.
        rules: the format's rules (:data:`XML_SCALARS`, :data:`FORM_SCALARS`).

    Returns:
        A function of the text; it raises :class:`ValueError` (unlocated) on bad text.
    """
    kind = ftype.kind
    found = _SCALAR_PARSERS.get(kind)
    if found is not None:
        return found
    if kind is Kind.BOOL:
        return parse_checkbox if rules.checkbox else parse_bool_text
    if kind is Kind.DATETIME:
        return parse_datetime_text
    if kind is Kind.ENUM:
        assert ftype.enum is not None
        return enum_parser(ftype.enum, numbers=rules.enum_numbers)
    raise TypeError(f"{kind.value} is not a scalar read from text")


def parse_int32_text(text: str) -> int:
    """An int32 from text (``parse_int32``; PERF: short plain digits inline)."""
    if len(text) < 10 and text.isdigit() and text.isascii():
        return int(text)
    return parse_int32(text)


_SCALAR_PARSERS: Final[dict[Kind, _Parse]] = {
    Kind.INT32: parse_int32_text,
    Kind.INT64: parse_int64,
    Kind.DOUBLE: parse_double,
    Kind.DECIMAL: parse_decimal,
    Kind.GUID: parse_guid,
    Kind.BYTES: parse_bytes,
}
"""The parsers every format shares as they are (bool, date-time and enum depend on
the format's :class:`ScalarText`)."""


def parse_bool_text(text: str) -> bool:
    """A bool from text (``parse_bool``; PERF: ``true`` and ``false`` inline)."""
    if text == "true":
        return True
    if text == "false":
        return False
    return parse_bool(text)


def parse_checkbox(text: str) -> bool:
    """A bool from text, also ``on`` (an HTML checkbox): :attr:`ScalarText.checkbox`."""
    if text.strip().lower() == "on":
        return True
    return parse_bool(text)


KNOWN_DATETIMES: set[str] = set()
"""PERF: valid date-time texts seen (bounded), shared by the readers and writers."""
_KNOWN_LIMIT = 8192


def known_datetime(text: str) -> str:
    """``text`` checked as a date-time (``check_datetime``) and remembered as valid.

    Raises:
        ValueError: not an ISO 8601 date-time.
    """
    text = check_datetime(text)
    if len(KNOWN_DATETIMES) >= _KNOWN_LIMIT:
        KNOWN_DATETIMES.clear()
    KNOWN_DATETIMES.add(text)
    return text


def parse_datetime_text(text: str) -> str:
    """A date-time from text: trimmed, checked, kept as text."""
    if text in KNOWN_DATETIMES:
        return text
    return known_datetime(text.strip())


def enum_parser(spec: EnumSpec, *, numbers: bool = False) -> _Parse:
    """A parser of enum text: names (flags separated by commas or whitespace).

    Args:
        spec: the enum.
        numbers: also take the integer value (:attr:`ScalarText.enum_numbers`).
    """
    name = spec.name

    def parse(text: str) -> str:
        if numbers:
            stripped = text.strip()
            digits = stripped.lstrip("-")
            if digits.isdigit() and stripped.isascii():
                significant = len(digits.lstrip("0"))
                if significant > 10:  # NOTE: before int(), which may refuse it
                    raise ValueError(
                        f"Expected {name} value, got a number of {significant} digits (not defined)"
                    )
                return spec.normalize(int(stripped))
        if not spec.flags:
            return spec.normalize(text.strip())
        names = text.replace(",", " ").split()
        if not names:
            raise ValueError(f"Expected {name} names, got {excerpt(text)}")
        return spec.normalize(", ".join(names))

    return parse
