"""Export a compiled schema: JSON Schema 2020-12, OpenAPI 3.1 components, XSD."""

from __future__ import annotations

from negotiate.schema.export.xmlschema import (
    ARRAYS_NAMESPACE as ARRAYS_NAMESPACE,
    JSON_SCHEMA_DIALECT as JSON_SCHEMA_DIALECT,
    SERVICES88_NAMESPACE as SERVICES88_NAMESPACE,
    ExportFormat as ExportFormat,
    export as export,
    json_schema as json_schema,
    openapi_components as openapi_components,
    openapi_document as openapi_document,
    xml_schema as xml_schema,
    xsd as xsd,
    xsd_documents as xsd_documents,
)

__all__ = [
    "ARRAYS_NAMESPACE",
    "JSON_SCHEMA_DIALECT",
    "SERVICES88_NAMESPACE",
    "ExportFormat",
    "export",
    "json_schema",
    "openapi_components",
    "openapi_document",
    "xml_schema",
    "xsd",
    "xsd_documents",
]
