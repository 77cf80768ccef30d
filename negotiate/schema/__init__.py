"""Carrier declarations and their compiled schemas."""

from __future__ import annotations

from negotiate.schema.compiled import (
    SCHEMAS as SCHEMAS,
    Field as Field,
    FieldType as FieldType,
    Kind as Kind,
    Schema as Schema,
    get_schema as get_schema,
)
from negotiate.schema.values import EnumSpec as EnumSpec

__all__ = ["SCHEMAS", "EnumSpec", "Field", "FieldType", "Kind", "Schema", "get_schema"]
