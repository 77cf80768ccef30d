"""JSON (``application/json``, ``text/json``) on orjson.

Decoding is parse, then one pass of the schema's compiled normaliser
(validate, coerce, bind names, fill defaults). Errors are located by JSON
pointer. Encoding is a single ``orjson.dumps``: a normalised carrier is
already in declaration order and its date-times are the exact text that
arrived, so nothing is lost or reordered.

Charset: JSON is UTF-8 (RFC 8259). A UTF-8 byte order mark is tolerated; a
body declared (or marked by its BOM) as UTF-16 or UTF-32 is transcoded; any
other declared charset is a 415.

Limits: the nodes of a body (every value and every object key) are counted
against :attr:`Options.max_nodes` before orjson builds anything (see
:func:`check_nodes`); without a schema the parsed value, and with one every
value of an unknown property, is held to :attr:`Options.max_depth` and
:attr:`Options.max_items`.
"""

from __future__ import annotations

import codecs
import re
from typing import Any, ClassVar

import orjson

from negotiate.codecs.base import BaseCodec, too_many_nodes
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    UnsupportedMediaType,
)
from negotiate.media import MEDIA_JSON, MEDIA_TEXT_JSON, MediaType
from negotiate.schema import Schema
from negotiate.schema.limits import check_tree

__all__ = ["JsonCodec", "check_depth", "check_nodes", "json_text", "loads"]

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
_NODES = "JSON values and keys"


def loads(body: bytes | str, *, max_nodes: int | None = None) -> Any:
    """``orjson.loads`` with its error turned into a located 400.

    Args:
        body: the JSON text.
        max_nodes: if given, the body is first held to this many nodes
            (:func:`check_nodes`).

    Raises:
        MalformedBody: not JSON; the message gives line, column and offset. Or
            over ``max_nodes``, located at the first node past it.
    """
    if max_nodes is not None:
        check_nodes(body, max_nodes)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _malformed(exc) from None


def _malformed(exc: orjson.JSONDecodeError) -> MalformedBody:
    return MalformedBody(
        f"Malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}, char {exc.pos})"
    )


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


# -- the node budget -------------------------------------------------------------
#
# A node is a value (object, array, string, number, literal) or an object key.
# Every node but the root is introduced by one structural byte, outside strings:
# ``[`` or ``,`` (an array item), ``{`` or ``,`` (a key), ``:`` (a member's value).
# So, in three steps of rising cost, each run only when the one before cannot
# decide:
#
# 1. Each node also owns a byte no other node owns and that introduces nothing (a
#    scalar's first byte, a key's opening quote, a container's closing bracket),
#    so a body of n bytes holds at most (n + 1) / 2 nodes: bodies shorter than
#    twice the budget need no look at all.
# 2. Counting the four structural bytes over the whole body is an upper bound
#    (it also counts those inside strings, and ``[`` of an empty ``[]``).
# 3. Only a body over that bound is counted exactly: chunk by chunk, string
#    contents cut out with ``split(b'"')`` after escapes are neutralised, and
#    empty containers subtracted. Over budget, the chunk where it runs out is
#    scanned token by token for the exact node, and the pointer to it is read
#    from orjson's parse of the body up to there (which holds at most the budget
#    of nodes: the work is bounded by the budget, not by the body).

_CHUNK = 1 << 16
_SPACE = b" \t\r\n"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SEPARATOR = re.compile(rb"[,:]")
_TOKEN = re.compile(rb'"[^"]*"?|[\[{][ \t\r\n]*[\]}]|[\[{,:]')
_KEY = re.compile(rb'[ \t\r\n]*("(?:[^"\\]|\\.)*")')
_OPEN, _CLOSE = b"[{", b"]}"


def check_nodes(body: bytes | str, limit: int) -> None:
    """Refuse a JSON text of more than ``limit`` nodes, before anything is built.

    A node is a value or an object key, so ``{"a": [1, 2]}`` has five. A body
    that is not JSON is left for the parser to report, unless it is over the
    limit before its first error.

    PERF: free for bodies under twice ``limit`` bytes, four ``bytes.count`` for
    larger ones; only a body over that bound is counted exactly (see above).

    Raises:
        MalformedBody: over the limit; located by the JSON pointer of the first
            node past it, ``limit`` in the detail.
    """
    if len(body) < 2 * limit:
        return
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    bound = data.count(b",") + data.count(b":") + data.count(b"[") + data.count(b"{")
    if bound < limit:
        return
    _count_exactly(data, limit)


def _count_exactly(data: bytes, limit: int) -> None:
    count = 1  # the root
    in_string = False
    brackets: list[bytes] = []  # per chunk, the brackets outside strings (for the stack)
    start, size = 0, len(data)
    while start < size:
        # NOTE: a chunk ends just after a ',' or ':', so it never splits an escape
        # pair, a backslash run or an empty container.
        found = _SEPARATOR.search(data, min(start + _CHUNK, size))
        end = found.end() if found is not None else size
        chunk = _neutral(data[start:end])
        skeleton, after = _skeleton(chunk, in_string)
        nodes = (
            skeleton.count(b",")
            + skeleton.count(b":")
            + skeleton.count(b"[")
            + skeleton.count(b"{")
            - skeleton.count(b"[]")
            - skeleton.count(b"{}")
        )
        if count + nodes > limit:
            raise _past_budget(data, limit, count, start, chunk, in_string, brackets)
        count += nodes
        brackets.append(_brackets(skeleton))
        in_string = after
        start = end


def _neutral(chunk: bytes) -> bytes:
    """``chunk`` with every escape pair that could hide a quote made harmless (same length)."""
    if b"\\" not in chunk:
        return chunk
    return chunk.replace(b"\\\\", b"__").replace(b'\\"', b"__")


def _skeleton(chunk: bytes, in_string: bool) -> tuple[bytes, bool]:
    """The chunk outside strings, without whitespace, each string (or part) as ``0``.

    Returns it and whether the chunk ends inside a string.
    """
    parts = chunk.split(b'"')
    after = in_string is not (len(parts) % 2 == 0)
    outside = parts[1::2] if in_string else parts[0::2]
    text = b"0".join(outside)
    if in_string:
        text = b"0" + text
    if after:
        text += b"0"
    return text.translate(None, _SPACE), after


def _brackets(skeleton: bytes) -> bytes:
    text = skeleton.translate(None, _NOT_BRACKETS)
    for _ in range(2):  # PERF: most nesting closes within a chunk
        text = text.replace(b"[]", b"").replace(b"{}", b"")
    return text


def _past_budget(
    data: bytes,
    limit: int,
    count: int,
    start: int,
    chunk: bytes,
    in_string: bool,
    brackets: list[bytes],
) -> MalformedBody:
    """The error for the node past the budget, which starts in ``chunk``."""
    pos = chunk.find(b'"') + 1 if in_string else 0
    for match in _TOKEN.finditer(chunk, pos):
        if chunk[match.start()] == 0x22 or match.end() - match.start() > 1:
            continue  # a string, or an empty container (its '[' introduces nothing)
        count += 1
        if count > limit:
            break
    else:  # NOTE: unreachable: the chunk's count said the budget runs out here
        return too_many_nodes(limit, _NODES)
    cut = match.start()
    brackets.append(_brackets(_skeleton(chunk[: cut + 1], in_string)[0]))
    return too_many_nodes(limit, _NODES, _pointer_at(data, start + cut, b"".join(brackets)))


def _pointer_at(data: bytes, cut: int, brackets: bytes) -> str:
    """The JSON pointer of the node introduced by the byte at ``cut`` ("" if unsure)."""
    stack = bytearray()
    for byte in brackets:
        if byte in _OPEN:
            stack.append(byte)
        elif stack and stack[-1] == _OPEN[_CLOSE.index(byte)]:
            stack.pop()
        else:
            return ""  # mismatched: malformed before the budget ran out
    separator = data[cut]
    if separator == ord(":"):
        prefix = data[:cut] + b":null"
    elif separator == ord(","):
        prefix = data[:cut]
    else:
        prefix = data[: cut + 1]
    closers = bytes(_CLOSE[_OPEN.index(b)] for b in reversed(stack))
    try:
        node = orjson.loads(prefix + closers)
    except orjson.JSONDecodeError as exc:
        # NOTE: the body is malformed before the budget ran out: say so instead
        raise _malformed(exc) from None
    segments: list[str] = []
    for _ in range(len(stack) - 1):
        # NOTE: the open container is the last item or member (with a duplicate key,
        # the dict keeps the first one's place: the pointer may then be off).
        if type(node) is dict and node:
            key = next(reversed(node))
            segments.append(key)
            node = node[key]
        elif type(node) is list and node:
            segments.append(str(len(node) - 1))
            node = node[-1]
        else:
            return ""
    if type(node) is list:
        segments.append(str(len(node)))
    elif type(node) is dict and separator == ord(":"):
        segments.append(next(reversed(node)))
    elif type(node) is dict:
        key_match = _KEY.match(data, cut + 1)
        try:
            key = orjson.loads(key_match[1]) if key_match is not None else None
        except orjson.JSONDecodeError:
            key = None
        if type(key) is str:
            segments.append(key)
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)


class JsonCodec(BaseCodec):
    """``application/json`` and its alias ``text/json``."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_JSON, MEDIA_TEXT_JSON)

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        text = json_text(body, media_type)
        check_nodes(text, self.options.max_nodes)
        value = loads(text)
        if schema is None:
            check_tree(value, self.options)
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
