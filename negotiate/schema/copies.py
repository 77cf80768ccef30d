"""Copies of decoded values: the containers alone, or the whole JSON-like value.

One home for the two ways the package copies a value it must not share:

* :func:`copy_containers` for a normalised carrier, whose leaves (str, int,
  float, bool, ``None``, Decimal, bytes) are immutable and can be shared;
* :func:`copy_json` for plain data from an application, which may hold any
  leaf: an orjson round trip, and a deep copy for what orjson does not write.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

__all__ = ["copy_containers", "copy_json"]


def copy_containers(value: Any) -> Any:
    """A copy of the containers (dicts and lists); leaves are immutable and shared.

    Iterative, so that no nesting depth reaches the interpreter's recursion limit
    (the normaliser refuses what is too deep, with its location).
    """
    if type(value) is dict:
        root: Any = dict(value)
    elif type(value) is list:
        root = list(value)
    else:
        return value
    stack = [root]
    while stack:
        node = stack.pop()
        for key, item in node.items() if type(node) is dict else enumerate(node):
            if type(item) is dict or type(item) is list:
                copied: Any = type(item)(item)
                node[key] = copied
                stack.append(copied)
    return root


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-like value.

    PERF: an orjson round trip copies a JSON document about ten times faster than
    :func:`copy.deepcopy`. NOTE: a leaf orjson does not write (a Decimal, bytes,
    any other object) makes it refuse (TypeError): deep-copied then.
    """
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return copy.deepcopy(value)
