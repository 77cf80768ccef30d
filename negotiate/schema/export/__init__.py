"""Export a compiled schema: JSON Schema 2020-12, OpenAPI 3.1 components, XSD.

Each export describes exactly what our own codecs write for the carrier, so that
our JSON output validates against :func:`json_schema` and our XML output against
:func:`xsd` (``tests/test_export.py`` checks both, for every catalogue carrier).

- **JSON Schema** (Draft 2020-12): one ``$defs`` entry per carrier and per enum,
  nested and recursive carriers by ``$ref`` (carriers sharing a name get keys
  qualified by namespace). Reference types (strings, bytes, carriers, arrays,
  dictionaries) and value types declared ``| None`` (``int?``) are nullable; other
  value types are not, and they are
  ``required`` (a reader that meets one missing substitutes the .NET default
  without a word; a missing reference type reads as null, which its schema allows
  anyway). Unknown properties are allowed, as every reader ignores them. Names are
  the declared spelling: our readers also bind other cases, the schema describes
  the documents as written.
- **OpenAPI 3.1** uses JSON Schema 2020-12, so its ``components.schemas`` are the
  same ``$defs`` with ``#/components/schemas/`` references.
- **XSD** in DataContractSerializer's shape, one document per target namespace (by
  default each carrier's type is in its own :attr:`Schema.xml_namespace`'s, named by
  its :attr:`Schema.xml_name`, as the XML codec writes it): one ``complexType`` per carrier with an
  ``xs:sequence`` in declaration order, ``ArrayOf...`` types for arrays (string
  arrays in Microsoft's Arrays namespace, in a second document the first one
  imports), ``StringDictionary`` of ``StringKeyValuePair`` items, enums as
  ``xs:simpleType`` restrictions (flags as an ``xs:list`` of them), and a global
  element per type; ``xs:long``, ``xs:decimal``, ``xs:base64Binary`` and
  DataContract's ``ser:guid`` (a pattern, in its own Serialization document) for the
  primitives that have them. Reference types and ``int?``-style value types are
  ``minOccurs="0" nillable="true"``, which is
  what lets an instance carry ``i:nil="true"`` (the XML Schema instance namespace
  is built into every validator).

Date-times are one grammar in all three: exactly what
:func:`negotiate.schema.values.check_datetime` accepts (seconds and 1-7
fractional digits optional, an optional ``Z``/``+01:00``/``-0500`` offset, years
0001-9999, the calendar included), written as a regular expression. Neither
``format: date-time`` (RFC 3339 requires seconds and an offset) nor
``xs:dateTime`` (no ``-0500`` without the colon, no value without seconds, but
24:00:00, negative and five-digit years) is that set.

Adding a scalar kind to the vocabulary is one row of ``_SCALARS`` (in ``_shared``).
"""

from __future__ import annotations

from typing import Literal

import orjson

from negotiate.schema.compiled import Schema
from negotiate.schema.export.jsonschema import (
    JSON_SCHEMA_DIALECT as JSON_SCHEMA_DIALECT,
    json_schema as json_schema,
    openapi_components as openapi_components,
    openapi_document as openapi_document,
)
from negotiate.schema.export.xmlschema import (
    ARRAYS_NAMESPACE as ARRAYS_NAMESPACE,
    SERVICES88_NAMESPACE as SERVICES88_NAMESPACE,
    xml_schema as xml_schema,
    xsd as xsd,
    xsd_documents as xsd_documents,
)
from negotiate.schema.vocabulary import PER_CARRIER, XmlNamespaces

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

ExportFormat = Literal["json-schema", "openapi", "xsd"]

# -- one entry point ---------------------------------------------------------------------


def export(
    schema: Schema, format: ExportFormat, *, namespace: XmlNamespaces = PER_CARRIER
) -> bytes:
    """The carrier's schema in ``format``, as a file's bytes (for ``negotiate schema``).

    Args:
        schema: the root carrier.
        format: ``json-schema`` (a Draft 2020-12 document), ``openapi`` (a minimal
            OpenAPI 3.1 document holding the components) or ``xsd`` (the carriers'
            XSD document; see :func:`xsd_documents` for the Arrays one it imports).
        namespace: the XML namespaces (``xsd`` only; see :func:`xsd_documents`).

    Returns:
        UTF-8 bytes ending with a newline: indented JSON, or XML with a declaration.

    Raises:
        ValueError: an unknown format, or two different types with the same name.
    """
    if format == "json-schema":
        document = json_schema(schema)
    elif format == "openapi":
        document = openapi_document(schema)
    elif format == "xsd":
        return xsd(schema, namespace=namespace)
    else:
        raise ValueError(f"unknown schema format {format!r}; known: json-schema, openapi, xsd")
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
