"""The JSON node budget: a JSON text's values and keys counted on its bytes, before parsing.

Used by :func:`negotiate.codecs._text.loads` (JSON and the two patch formats), so that a
body over :attr:`Options.max_nodes` is refused before orjson builds anything.
"""

from __future__ import annotations

import re
from typing import Final

import orjson

from negotiate.codecs.base import too_many_nodes
from negotiate.errors import MalformedBody

__all__ = ["check_nodes"]

_JSON_NODES: Final = "JSON values and keys"


def _malformed(exc: orjson.JSONDecodeError) -> MalformedBody:
    return MalformedBody(
        f"Malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}, char {exc.pos})"
    )


# -- the JSON node budget -------------------------------------------------------------
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
#    of nodes: the work is bounded by the budget, not by the body; empty
#    containers are parsed as nulls, see _collapsed).

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
        return too_many_nodes(limit, _JSON_NODES)
    cut = match.start()
    brackets.append(_brackets(_skeleton(chunk[: cut + 1], in_string)[0]))
    return too_many_nodes(limit, _JSON_NODES, _pointer_at(data, start + cut, b"".join(brackets)))


_FEW_STRINGS: Final = 4096


def _collapsed(prefix: bytes) -> bytes:
    """``prefix`` with each empty ``[]`` and ``{}`` outside strings made ``null``.

    The pointer walk needs the open containers' item counts and last keys, which
    this keeps; a closed empty container is an item like any other. PERF: the parse
    then builds no object for them: a body of a million ``[]`` (two bytes per node)
    took 0.2-0.4 s under the GIL to build them all. Done only when the prefix holds
    few strings (each is a slice here); the rest is parsed as it is. NOTE: ``null``,
    not ``0``: a digit could join a malformed neighbour (``[].5``) into a number and
    hide the error the body deserves; a literal joins nothing.
    """
    if prefix.count(b'"') > _FEW_STRINGS:
        return prefix
    if b"[]" not in prefix and b"{}" not in prefix:
        return prefix
    # NOTE: string boundaries from _neutral's copy (same length, only the quotes that
    # end or start a string left); the original bytes are kept inside strings.
    out: list[bytes] = []
    start = 0
    for index, end in enumerate([*_quotes(_neutral(prefix)), len(prefix)]):
        part = prefix[start:end]
        inside = index % 2 == 1  # NOTE: the prefix starts outside any string
        out.append(part if inside else part.replace(b"[]", b"null").replace(b"{}", b"null"))
        start = end
    return b"".join(out)


def _quotes(text: bytes) -> list[int]:
    """The offsets of the quotes in ``text``."""
    found: list[int] = []
    at = text.find(b'"')
    while at >= 0:
        found.append(at)
        at = text.find(b'"', at + 1)
    return found


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
        node = orjson.loads(_collapsed(prefix) + closers)
    except orjson.JSONDecodeError:
        try:
            orjson.loads(prefix + closers)  # NOTE: the exact error, at its true column
        except orjson.JSONDecodeError as exc:
            # NOTE: the body is malformed before the budget ran out: say so instead
            raise _malformed(exc) from None
        return ""  # NOTE: unreachable: collapsing cannot break what parses
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
