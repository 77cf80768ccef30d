"""A base the application vouches for: :class:`NormalizedBase`.

By default a patch normalises (and so copies) the whole base before applying
anything, because the base comes from the application and may be any plain
data (a 500 if it does not fit). That is most of the cost of a short patch.
An application that stores normalised carriers (what ``decode``,
:meth:`~negotiate.schema.Schema.normalize` or
:meth:`~negotiate.schema.Schema.default` return) can say so by passing
``base=NormalizedBase(stored)``; then only what the patch changes is
validated, and the result is exactly what the default would give.
"""

from __future__ import annotations

from typing import Any

import orjson

from negotiate.codecs.patch._values import _start
from negotiate.options import Options
from negotiate.schema import Schema
from negotiate.schema.copies import copy_containers

__all__ = ["NormalizedBase"]


class NormalizedBase:
    """A patch base that is already a normalised carrier of the schema.

    The patch does not normalise it again, does not copy it whole and never
    changes it (so one stored value may serve concurrent requests): both
    formats copy only the containers they change (copy-on-write), and the
    result shares the rest with it, as a plain RFC 7396 merge does. So change
    neither in place while the other is still in use. An empty body gives a
    copy.

    NOTE: a promise, not a check (checking would cost what it saves): a value
    that is not normalised gives a result that is not either.

    Args:
        value: a normalised carrier, as ``Schema.normalize`` returns it.
    """

    __slots__ = ("value",)

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"NormalizedBase({len(self.value)} properties)"


def _begin(base: Any, schema: Schema | None, options: Options, *, shared: bool) -> tuple[Any, bool]:
    """The document a patch starts from, and whether it is the caller's (shared).

    Args:
        base: the caller's base, maybe a :class:`NormalizedBase`.
        shared: the applier copies what it changes (copy-on-write), so a
            trusted base need not be copied.

    Raises:
        EncodeError: a plain base does not fit the schema (500).
    """
    if type(base) is not NormalizedBase:
        return _start(base, schema, options), False
    value = base.value
    if schema is None or type(value) is not dict:
        # NOTE: schemaless patches change their copy in place, and a value that is
        # not even an object is checked (and refused) the default way.
        return _start(value, schema, options), False
    if shared:
        return value, True
    # PERF: an orjson round trip copies a JSON document ~1.4x faster than copying
    # its containers; a normalised carrier holds only JSON values, except the
    # kinds orjson does not write (Decimal, bytes), which are immutable leaves.
    try:
        return orjson.loads(orjson.dumps(value)), False
    except TypeError:
        return copy_containers(value), False
