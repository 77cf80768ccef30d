"""Carrier declarations and their compiled schemas."""

from __future__ import annotations

from negotiate.schema.compiled import (
    SCHEMAS as SCHEMAS,
    VOCABULARY as VOCABULARY,
    Field as Field,
    FieldType as FieldType,
    Kind as Kind,
    Schema as Schema,
    datacontract as datacontract,
    get_schema as get_schema,
    schema_of as schema_of,
)
from negotiate.schema.values import EnumSpec as EnumSpec
from negotiate.schema.vocabulary import (
    DATACONTRACT_NAMESPACE as DATACONTRACT_NAMESPACE,
    DateTime as DateTime,
)

__all__ = [
    "DATACONTRACT_NAMESPACE",
    "SCHEMAS",
    "VOCABULARY",
    "DateTime",
    "EnumSpec",
    "Field",
    "FieldType",
    "Kind",
    "Schema",
    "datacontract",
    "get_schema",
    "schema_of",
]
