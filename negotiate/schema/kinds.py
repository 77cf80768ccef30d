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
    INT64 = "int64"
    DOUBLE = "double"
    DECIMAL = "decimal"
    BOOL = "bool"
    STRING = "string"
    DATETIME = "date-time"
    GUID = "guid"
    BYTES = "bytes"
    ENUM = "enum"
    CARRIER = "carrier"
    ARRAY = "array"
    DICT = "dict"


VALUE_KINDS = frozenset(
    {
        Kind.INT32,
        Kind.INT64,
        Kind.DOUBLE,
        Kind.DECIMAL,
        Kind.BOOL,
        Kind.DATETIME,
        Kind.GUID,
        Kind.ENUM,
    }
)
"""The .NET value types: a zero default, and never null unless declared nullable
(``int | None``, .NET ``int?``: :attr:`FieldType.nullable`). ``STRING``, ``BYTES``
(``byte[]``), carriers, arrays and dictionaries are reference types."""
