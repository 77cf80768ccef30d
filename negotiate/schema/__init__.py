"""Carrier declarations and their compiled schemas."""

from __future__ import annotations

from negotiate.schema.compiled import (
    Field as Field,
    FieldType as FieldType,
    Kind as Kind,
    Schema as Schema,
)
from negotiate.schema.declare import (
    SCHEMAS as SCHEMAS,
    VOCABULARY as VOCABULARY,
    datacontract as datacontract,
    get_schema as get_schema,
    schema_of as schema_of,
)
from negotiate.schema.values import EnumSpec as EnumSpec
from negotiate.schema.vocabulary import (
    DATACONTRACT_NAMESPACE as DATACONTRACT_NAMESPACE,
    PER_CARRIER as PER_CARRIER,
    DateTime as DateTime,
    Guid as Guid,
    Int64 as Int64,
    XmlNamespaces as XmlNamespaces,
)

__all__ = [
    "DATACONTRACT_NAMESPACE",
    "PER_CARRIER",
    "SCHEMAS",
    "VOCABULARY",
    "DateTime",
    "EnumSpec",
    "Field",
    "FieldType",
    "Guid",
    "Int64",
    "Kind",
    "Schema",
    "XmlNamespaces",
    "datacontract",
    "get_schema",
    "schema_of",
]
