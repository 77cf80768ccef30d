"""JSON Schema 2020-12 and OpenAPI 3.1 exports of a compiled schema.

See :mod:`negotiate.schema.export` for what they describe.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Final

from negotiate.schema.compiled import FieldType, Kind, Schema, _reachable
from negotiate.schema.export._shared import (
    _SCALARS,
    _anchored,
    _enum,
    _enum_signature,
    _item,
    _nullable,
)
from negotiate.schema.values import EnumSpec

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "json_schema",
    "openapi_components",
    "openapi_document",
]

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

# -- JSON Schema and OpenAPI -------------------------------------------------------------

_REGEX_SYNTAX = frozenset("\\^$.|?*+()[]{}/")


def _regex_literal(text: str) -> str:
    """``text`` as a literal in ECMA-262 and Python regular expressions alike."""
    return "".join("\\" + c if c in _REGEX_SYNTAX else c for c in text)


_NOT_KEY = re.compile(r"[^A-Za-z0-9._-]+")


def _carrier_keys(root: Schema) -> dict[Schema, str]:
    """The ``$defs`` key of every carrier ``root`` reaches: its name, unless carriers of
    one name meet (a user's ``Address`` beside the catalogue's); then each of those is
    qualified by its namespace, ``www.superoffice.net_ws_crm_NetServer_Services88.Address``
    (and numbered, ``_2``, if even that is shared), in the order met: deterministic, and
    a valid OpenAPI component name."""
    graph = _reachable(root)
    counts = Counter(schema.name for schema in graph)
    keys: dict[Schema, str] = {}
    taken: set[str] = set()
    for schema in graph:
        key = schema.name
        if counts[key] > 1:
            namespace = schema.xml_namespace.split("://", 1)[-1]
            key = f"{_NOT_KEY.sub('_', namespace)}.{schema.name}"
        found, serial = key, 1
        while found in taken:
            serial += 1
            found = f"{key}_{serial}"
        taken.add(found)
        keys[schema] = found
    return keys


class _JsonBuilder:
    """Builds the ``$defs`` of one carrier and everything it reaches."""

    def __init__(self, prefix: str, root: Schema) -> None:
        self.prefix = prefix
        self.defs: dict[str, dict[str, Any]] = {}
        self.signatures: dict[str, Any] = {}
        self.keys = _carrier_keys(root)

    def define(self, name: str, signature: Any) -> dict[str, Any] | None:
        """A new, empty definition, or ``None`` if ``name`` is defined already."""
        known = self.signatures.get(name)
        if known is not None:
            if known != signature:
                raise ValueError(f"two different types are named {name!r}")
            return None
        self.signatures[name] = signature
        definition: dict[str, Any] = {}
        self.defs[name] = definition
        return definition

    def value(self, ftype: FieldType) -> dict[str, Any]:
        """The JSON Schema of a non-null value of ``ftype``."""
        scalar = _SCALARS.get(ftype.kind)
        if scalar is not None:
            return dict(scalar.json)
        if ftype.kind is Kind.CARRIER:
            return self.carrier(ftype.schema)
        if ftype.kind is Kind.ENUM:
            return self.enum(_enum(ftype))
        if ftype.kind is Kind.ARRAY:
            return {"type": "array", "items": self.field(_item(ftype))}
        if ftype.kind is Kind.DICT:
            return {"type": "object", "additionalProperties": self.field(_item(ftype))}
        raise TypeError(f"no JSON Schema for {ftype.spec}")

    def field(self, ftype: FieldType) -> dict[str, Any]:
        """The JSON Schema of a value of ``ftype``, null included for reference types."""
        schema = self.value(ftype)
        if not _nullable(ftype):
            return schema
        if "$ref" in schema or not isinstance(schema.get("type"), str):
            return {"anyOf": [schema, {"type": "null"}]}
        return {**schema, "type": [schema["type"], "null"]}

    def carrier(self, schema: Schema) -> dict[str, Any]:
        key = self.keys[schema]
        definition = self.define(key, schema)
        if definition is not None:
            definition["type"] = "object"
            definition["properties"] = {f.name: self.field(f.type) for f in schema.fields}
            required = [f.name for f in schema.fields if not _nullable(f.type)]
            if required:
                definition["required"] = required
        return {"$ref": self.prefix + key}

    def enum(self, spec: EnumSpec) -> dict[str, Any]:
        definition = self.define(spec.name, _enum_signature(spec))
        if definition is not None:
            definition["type"] = "string"
            if spec.flags:
                # NOTE: flags are written as declared names joined by ", " (JSON
                # "Read, Write"), in the order given; a pattern says exactly that.
                names = "|".join(_regex_literal(n) for n in spec.values)
                definition["pattern"] = _anchored(f"({names})(, ({names}))*")
                definition["description"] = (
                    f"{spec.name} flags: one or more of the names, joined by ', '"
                )
            else:
                definition["enum"] = list(spec.values)
        return {"$ref": self.prefix + spec.name}


def json_schema(schema: Schema) -> dict[str, Any]:
    """A JSON Schema (Draft 2020-12) of the carrier, as our JSON codec writes it.

    Args:
        schema: the root carrier.

    Returns:
        A schema document: ``$ref`` to the root carrier, ``$defs`` with every carrier
        and enum it reaches (the root first, then in the order they are met).

    Raises:
        ValueError: two different enums have the same name (carriers that share one
            get distinct keys: see :func:`_carrier_keys`).
    """
    builder = _JsonBuilder("#/$defs/", schema)
    root = builder.carrier(schema)
    return {"$schema": JSON_SCHEMA_DIALECT, "title": schema.name, **root, "$defs": builder.defs}


def openapi_components(schema: Schema) -> dict[str, Any]:
    """OpenAPI 3.1 ``components`` holding the carrier's schemas.

    Returns:
        ``{"schemas": {...}}``: the definitions of :func:`json_schema`, referring to
        each other as ``#/components/schemas/Name``.

    Raises:
        ValueError: two different enums have the same name (carriers get distinct keys).
    """
    builder = _JsonBuilder("#/components/schemas/", schema)
    builder.carrier(schema)
    return {"schemas": builder.defs}


def openapi_document(
    schema: Schema, *, title: str | None = None, version: str = "1.0.0"
) -> dict[str, Any]:
    """A minimal OpenAPI 3.1 document with the carrier's components and no paths.

    Args:
        schema: the root carrier.
        title: ``info.title`` (default: the carrier's name).
        version: ``info.version``, the version of the document.
    """
    return {
        "openapi": "3.1.0",
        "info": {"title": title or schema.name, "version": version},
        "components": openapi_components(schema),
    }
