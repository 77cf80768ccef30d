"""Limits on plain data: how deep dicts and lists nest and how many items one holds.

The schemaless decoders check their whole result here, and the normaliser checks
every value it ignores (an unknown property's), so that :attr:`Options.max_depth`
and :attr:`Options.max_items` mean the same with a schema, without one, and for
what a schema drops.
"""

from __future__ import annotations

from typing import Any

from negotiate.errors import InvalidValue, escape_pointer
from negotiate.options import Options

__all__ = ["check_tree"]


def check_tree(value: Any, options: Options) -> None:
    """Raise a 400 if containers in ``value`` nest too deep or one holds too many items.

    Containers are the dicts and lists a parser builds. ``value`` itself is at depth
    0, so ``max_depth=1`` allows ``[1, 2]`` but not ``[[1]]``; a dict's items are its
    keys.

    Raises:
        InvalidValue: located by a JSON pointer relative to ``value``, at the first
            container (in document order) past a limit; ``limit`` in the detail.
    """
    if type(value) is not dict and type(value) is not list:
        return
    # PERF: level by level with no pointers (several times faster than carrying one
    # per container); the located walk runs only when there is something to report.
    max_items, max_depth = options.max_items, options.max_depth
    level: list[Any] = [value]
    depth = 0
    while level:
        if depth >= max_depth:
            _locate(value, max_depth, max_items)
        below: list[Any] = []
        append = below.append
        for node in level:
            if len(node) > max_items:
                _locate(value, max_depth, max_items)
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    append(child)
        level = below
        depth += 1


def _locate(value: Any, max_depth: int, max_items: int) -> None:
    """Raise for the first container, in document order, past either limit."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if depth >= max_depth:
            raise InvalidValue(
                f"Nested deeper than the limit of {max_depth}", location=where, limit=max_depth
            )
        if len(node) > max_items:
            raise InvalidValue(
                f"Too many items: {len(node)} (limit {max_items})", location=where, limit=max_items
            )
        pairs = list(node.items()) if type(node) is dict else list(enumerate(node))
        for key, child in reversed(pairs):
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1, f"{where}/{escape_pointer(key)}"))
