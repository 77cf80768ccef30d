"""The type vocabulary of carriers: what kind of value a field holds.

NOTE: its own module so that the normaliser generator
(:mod:`negotiate.schema.normalizer`) and the schema model
(:mod:`negotiate.schema.compiled`, which compiles its normalisers with it) can
both use it without importing each other at run time.
"""

from __future__ import annotations

import enum

__all__ = ["VALUE_KINDS", "Kind"]


class Kind(enum.Enum):
    """The type vocabulary of SuperOffice carriers."""

    INT32 = "int32"
    DOUBLE = "double"
    BOOL = "bool"
    STRING = "string"
    DATETIME = "date-time"
    ENUM = "enum"
    CARRIER = "carrier"
    ARRAY = "array"
    DICT = "dict"


VALUE_KINDS = frozenset({Kind.INT32, Kind.DOUBLE, Kind.BOOL, Kind.DATETIME, Kind.ENUM})
"""The .NET value types: never null, a zero default."""
