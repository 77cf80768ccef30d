"""The OpenAPI pieces every negotiated route shares, beside its carriers' components.

The reference server's document (:mod:`negotiate.server.openapi`) and the
FastAPI integration's ``openapi_extra`` (:mod:`negotiate.integrations.fastapi`)
describe the same wire, so they take these from one place:

- :func:`agent_error_schema`: the error body, exactly the keys
  :meth:`negotiate.errors.NegotiateError.to_dict` writes (``Message``,
  ``MessageDetail``, ``Status``, ``Location``, always) and the details some
  errors add (``Supported``, ``Allowed``, ``Limit``, ...), under the name
  :data:`AGENT_ERROR`;
- :func:`json_patch_schema` (named :data:`JSON_PATCH`) and
  :func:`merge_patch_schema`: the bodies of the patch media types;
- :func:`body_schema`: which of them (or the carrier's reference) a media type's
  body has;
- :func:`select_parameter` and :func:`shaping_parameters`: ``$select`` and the
  headers that shape an answer (``SO-TimeZone``, ``SO-Language``, ``SO-Culture``,
  ``Accept-Language``); :func:`header_parameter` for others;
- :func:`add_components`: one document's ``components.schemas`` gathered from
  several carriers' graphs, refusing two different schemas under one name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from negotiate.schema.compiled import Schema
from negotiate.superoffice import CULTURE_HEADER, LANGUAGE_HEADER, TIMEZONE_HEADER

__all__ = [
    "AGENT_ERROR",
    "JSON_PATCH",
    "add_components",
    "agent_error_schema",
    "body_schema",
    "header_parameter",
    "json_patch_schema",
    "merge_patch_schema",
    "schema_ref",
    "select_parameter",
    "shaping_parameters",
]

AGENT_ERROR: Final = "AgentError"
"""The component name of :func:`agent_error_schema`."""
JSON_PATCH: Final = "JsonPatch"
"""The component name of :func:`json_patch_schema`."""

# a language tag as SO-Language and SO-Culture take it (negotiate.shaping), or * or x
_LANGUAGE_TAG: Final = "^([A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*|[*]|x|X)$"

_STRINGS: Final = {"type": "array", "items": {"type": "string"}}


def add_components(target: dict[str, Any], schemas: Mapping[str, Any]) -> None:
    """Add component schemas to ``target`` (``components.schemas`` being gathered).

    A name already there keeps its schema when the new one is the same.

    Raises:
        ValueError: a name is taken by a different schema (two carriers of one name
            from two graphs: their documents could not tell them apart).
    """
    for name, definition in schemas.items():
        if target.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are named {name!r}")


def schema_ref(name: str) -> dict[str, str]:
    """A reference to ``#/components/schemas/<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


def agent_error_schema() -> dict[str, Any]:
    """The agent error body (:meth:`~negotiate.errors.NegotiateError.to_dict`).

    The four keys every error has are required; ``Location`` is ``""`` when the
    error has none. The details are those the package's errors carry; others are
    allowed (a DRF validation error's ``Errors``, say).
    """
    return {
        "type": "object",
        "description": "SuperOffice's agent error shape (Message, MessageDetail), plus the "
        "status, the location and the error's details (XML: an <Error> element)",
        "required": ["Message", "MessageDetail", "Status", "Location"],
        "properties": {
            "Message": {"type": "string", "description": "The status's reason phrase"},
            "MessageDetail": {"type": "string", "description": "What was expected and what came"},
            "Status": {"type": "integer"},
            "Location": {
                "type": "string",
                "description": "Where: a JSON pointer, XML path, form key or header name "
                "('' when the error has no place)",
            },
            "Supported": {**_STRINGS, "description": "What would be accepted (406, 415)"},
            "Allowed": {**_STRINGS, "description": "The methods allowed (405)"},
            "Limit": {"type": "integer", "description": "The limit passed (413, 400)"},
            "Path": {"type": "string", "description": "The $select path refused"},
            "Suggestions": {**_STRINGS, "description": "Field names close to the one refused"},
        },
        "xml": {"name": "Error"},
    }


def json_patch_schema() -> dict[str, Any]:
    """An RFC 6902 JSON Patch: an array of operations."""
    return {
        "type": "array",
        "description": "An RFC 6902 JSON Patch: operations applied in order, atomically",
        "items": {
            "type": "object",
            "required": ["op", "path"],
            "properties": {
                "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
                "path": {"type": "string"},
                "from": {"type": "string"},
                "value": {},
            },
        },
    }


def merge_patch_schema(name: str) -> dict[str, Any]:
    """An RFC 7396 merge patch of the carrier ``name``: an object."""
    return {
        "type": "object",
        "description": f"An RFC 7396 merge patch of {name}: the properties that change "
        "(null removes one)",
    }


def body_schema(media_type: str, schema: Schema | None, *, patch: bool) -> dict[str, Any]:
    """The schema of a body of ``media_type`` carrying ``schema``.

    Args:
        media_type: the body's media type.
        schema: the carrier (``None``: plain data, any value).
        patch: whether the media type's codec is a patch codec (a JSON Patch type
            is ``application/json-patch+json`` and its variants, any other patch
            type a merge patch).

    Returns:
        A reference to the carrier, to :data:`JSON_PATCH`, or a merge patch object.
    """
    if not patch:
        return schema_ref(schema.name) if schema is not None else {}
    if media_type.startswith("application/json-patch"):
        return schema_ref(JSON_PATCH)
    return merge_patch_schema(schema.name if schema is not None else "the value")


def header_parameter(
    name: str, description: str, example: str | None = None, **schema: Any
) -> dict[str, Any]:
    """An optional header parameter of string values (``schema`` adds keywords)."""
    found: dict[str, Any] = {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }
    if example is not None:
        found["example"] = example
    return found


def select_parameter(response: Schema) -> dict[str, Any]:
    """The ``$select`` query parameter of a route answering ``response``."""
    return {
        "name": "$select",
        "in": "query",
        "required": False,
        "description": f"The {response.name} fields to answer, comma-separated paths "
        "(Name,Address/City), case-insensitive; the others are their defaults",
        "schema": {"type": "string"},
        "example": ",".join(f.name for f in list(response)[1:4]),
    }


def _zones(time_zones: Mapping[str, tuple[int, str]]) -> list[str]:
    codes = [*time_zones, *(str(zone_id) for zone_id, _ in time_zones.values())]
    return [*codes, *(f"{code}, includeTZOffset" for code in codes)]


def shaping_parameters(time_zones: Mapping[str, tuple[int, str]]) -> list[dict[str, Any]]:
    """The headers that shape an answer, as OpenAPI header parameters.

    Args:
        time_zones: the SuperOffice zones ``SO-TimeZone`` names, code to ``(id,
            IANA name)``: :data:`negotiate.shaping.TIME_ZONES` (passed in: shaping
            is a layer above the schema).
    """
    return [
        header_parameter(
            TIMEZONE_HEADER,
            "Convert date-times to this zone (a SuperOffice code or numeric id; an "
            "IANA name such as Europe/Oslo is accepted too, as an extension); "
            "', includeTZOffset' writes the offset. Any other value is a 400.",
            "US-NY, includeTZOffset",
            enum=_zones(time_zones),
        ),
        header_parameter(
            LANGUAGE_HEADER,
            "Translate multi-language values and [SR_...] references into this "
            "language; overrides Accept-Language; '*' or 'x' turns translation off.",
            "nb-NO",
            pattern=_LANGUAGE_TAG,
        ),
        header_parameter(
            CULTURE_HEADER,
            "The formatting culture (ignored without a language).",
            "sv",
            pattern=_LANGUAGE_TAG,
        ),
        header_parameter(
            "Accept-Language",
            "Languages by q-value (RFC 4647 lookup), when SO-Language is absent.",
            "nb-NO, en;q=0.5",
        ),
    ]
