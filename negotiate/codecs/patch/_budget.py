"""The work budget and the limits a patch document is held to, for both appliers.

One budget per body, ``Options.max_nodes``, counted in nodes (every value and
every member name). The patch document counts first, on its text before it
is parsed (:func:`_text_nodes`), so a body over the budget is refused without
building it; then every ``copy`` and ``move`` counts the nodes of the value
it copies or moves (three hundred moves of a large array are three hundred
times its size). ``max_items`` and ``max_depth`` hold for the patch document
as for any JSON body (with a schema the schema holds values to
``max_items``, where they land). Apart from the budget, the bytes ``copy``
operations copy are held to ``Options.max_body`` (:func:`_size`).

NOTE: values added, replaced or merged come from the patch document and are
counted with it; copied and moved values come from the document being
patched and are counted when their operation runs: that is work the body
does not show.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Final

import orjson

from negotiate.codecs._text import check_depth
from negotiate.errors import InvalidValue, MalformedBody, escape_pointer
from negotiate.options import Options

__all__ = []

_NODE_MARKS: Final = (b",", b":", b"[", b"{")
_STRINGS: Final = re.compile(rb'"[^"]*+"')
_BLANKS: Final = b" \t\n\r"
_UNLIMITED: Final = sys.maxsize


def _text_nodes(text: bytes | str, limit: int) -> int | None:
    """The nodes of a JSON text if there are more than ``limit``, else ``None``.

    Counted on the text itself (exactly, for valid JSON), so that a body over
    the budget is refused before the parser builds it.
    """
    # PERF: every node has a character of its own (a value its first, a member
    # name its opening quote), so a text no longer than the limit is within it.
    if len(text) <= limit:
        return None
    data = text.encode() if isinstance(text, str) else text  # str: transcoded bodies only
    # PERF: four C-level counts bound the nodes from above (a comma, colon or
    # bracket inside a string counts too), and most bodies stop here.
    if 1 + sum(map(data.count, _NODE_MARKS)) <= limit:
        return None
    # Exact: once the escape pairs are gone every quote opens or closes a
    # string; each string becomes a one-byte value and blanks go. Then a
    # container with n > 0 items has n - 1 commas, and every member one colon.
    bare = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    bare = _STRINGS.sub(b"0", bare).translate(None, _BLANKS)
    nodes = 1 + sum(map(bare.count, _NODE_MARKS)) - bare.count(b"[]") - bare.count(b"{}")
    return nodes if nodes > limit else None


def _within_by_length(text: bytes | str, options: Options) -> bool:
    """Whether a JSON text is within the budget and the limits by its length alone.

    Every node has a character of its own, so a container has at most
    ``len(text)`` items and the text at most ``len(text)`` nodes; every level
    opens with a bracket, so there are at most as many levels as ``[`` and
    ``{`` (inside strings too: an upper bound).
    """
    size = len(text)
    if size > options.max_nodes or size > options.max_items:
        return False
    # PERF: one pass that drops the two brackets beats two counts.
    if type(text) is bytes:
        return size - len(text.translate(None, b"{[")) <= options.max_depth
    assert isinstance(text, str)
    return text.count("{") + text.count("[") <= options.max_depth


class _Limit(Exception):
    """A limit met while measuring a value: ``nodes``, ``items`` or ``depth``."""

    def __init__(self, kind: str, size: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.size = size


def _measure(value: Any, left: int, max_items: int, max_levels: int) -> tuple[int, int]:
    """The nodes and the container levels of ``value`` (a scalar: 1 and 0).

    Raises:
        _Limit: more than ``left`` nodes, a container of more than
            ``max_items`` items, or more than ``max_levels`` levels; found
            early, level by level (a container is counted before its children).
    """
    if type(value) is not dict and type(value) is not list:
        if left < 1:
            raise _Limit("nodes")
        return 1, 0
    nodes, levels, level = 1, 0, [value]
    while level:
        levels += 1
        if levels > max_levels:
            raise _Limit("depth")
        below = []
        for node in level:
            size = len(node)
            if type(node) is dict:
                nodes += size + size
                children: Any = node.values()
            else:
                nodes += size
                children = node
            if size > max_items:
                raise _Limit("items", size)
            if nodes > left:  # counted by len(), before any of its children is visited
                raise _Limit("nodes")
            for child in children:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    return nodes, levels


def _long_container(value: Any, max_items: int) -> str:
    """The pointer (relative to ``value``) of a container with too many items."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, where = stack.pop()
        if type(node) is dict:
            items: Any = node.items()
        elif type(node) is list:
            items = enumerate(node)
        else:
            continue
        if len(node) > max_items:
            return where
        for key, child in items:
            if type(child) is dict or type(child) is list:
                stack.append((child, f"{where}/{escape_pointer(key)}"))
    return ""


def _limit_error(
    exc: _Limit, value: Any, where: str, what: str, options: Options, max_levels: int
) -> MalformedBody:
    """The 400 for a limit the patch document itself breaks, located in the patch.

    ``what`` names the operation (``"Operation 3 (add /Name): "``) or is empty.
    """
    if exc.kind == "depth":
        try:
            check_depth(value, max_levels)
        except InvalidValue as found:
            where += found.location
        return InvalidValue(f"Nested deeper than the limit of {options.max_depth}", location=where)
    if exc.kind == "nodes":
        text, limit = (
            f"the patch is over the work budget of {options.max_nodes} nodes (Options.max_nodes)",
            options.max_nodes,
        )
    else:
        text, limit = f"too many items: {exc.size} (limit {options.max_items})", options.max_items
        where += _long_container(value, options.max_items)
    message = what + text if what else text[0].upper() + text[1:]
    return MalformedBody(message, location=where, limit=limit)


def _size(value: Any) -> int:
    """Roughly how many bytes of JSON ``value`` is (for the ``copy`` budget)."""
    try:
        return len(orjson.dumps(value))
    except TypeError:
        count, stack = 0, [value]
        while stack:
            node = stack.pop()
            count += 2
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return count
