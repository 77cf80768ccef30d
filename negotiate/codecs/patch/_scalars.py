"""Scalars already normalised for where they go, told apart without ``_values``.

PERF: ``_values._typed`` dispatches on ``Kind`` members read off the class,
and in Python 3.11 each such read is a descriptor call (~100 ns, ten times an
identity test against a module constant). The common cases (a string, a bool,
an int32 where one goes) are answered here; anything else, of any kind (the
new ones included), still goes through ``_typed``, which decides.
"""

from __future__ import annotations

from typing import Any, Final

from negotiate.schema import Kind
from negotiate.schema.values import INT32_MAX, INT32_MIN

__all__ = []

STRING: Final = Kind.STRING
BOOL: Final = Kind.BOOL
INT32: Final = Kind.INT32
CARRIER: Final = Kind.CARRIER
ARRAY: Final = Kind.ARRAY
DICT: Final = Kind.DICT


def _as_is(kind: Kind, value: Any) -> bool:
    """Whether ``value`` (not ``None``) is already normalised as a scalar of ``kind``."""
    if kind is STRING:
        return type(value) is str
    if kind is BOOL:
        return type(value) is bool
    if kind is INT32:
        return type(value) is int and INT32_MIN <= value <= INT32_MAX
    return False
