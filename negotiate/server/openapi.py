"""The reference server's OpenAPI 3.1 document, generated from its operations.

:func:`openapi_document` describes the operations of an
:class:`~negotiate.http.App` (by default the reference server's two,
EnrichContactEntity and GetPreviewEnrichContact) as the app serves them:

- every request and response media type of the app's registry, each with its
  schema and an example written by that media type's own codec from the
  reference page's sample contact (``negotiate/data/contact-sample.json``):
  the carriers' schemas are :func:`negotiate.schema.export.openapi_components`
  (what the JSON codec writes, so a JSON answer validates against them); a
  JSON Patch is an array of operations, a merge patch an object; XML and form
  examples are the encoded text;
- the parameters the server reads: ``$select`` (query), the ``SO-*`` headers
  (``SO-TimeZone``, ``SO-Language``, ``SO-Culture``, ``SO-AppToken``), and
  ``Accept``, ``Accept-Encoding``, ``Accept-Language`` and
  ``Content-Encoding``. OpenAPI 3.1 says tools ignore a header parameter named
  ``Accept`` (the media types say it); it is listed for its description;
- the security schemes ``Basic``, ``Bearer`` and ``SOTicket`` (any one of them);
- every error status the core answers (400, 401, 404, 406, 409, 413, 415, 422,
  500, 502, 503, 504) with the agent error schema ``AgentError``
  (:meth:`negotiate.errors.NegotiateError.to_dict`) in the error media types
  (JSON, and XML's ``<Error>`` for an XML ``Accept``).

The pieces it shares with the FastAPI integration's route documents (the error
and patch schemas, ``$select`` and the shaping headers) are
:mod:`negotiate.schema.export.openapi`.

The server answers it at :data:`OPENAPI_PATH` without credentials
(:func:`openapi_operation`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

import orjson

import negotiate
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.coding import decodable_codings
from negotiate.http import REALM, Context, Operation
from negotiate.media import MEDIA_JSON
from negotiate.schema import Schema
from negotiate.schema.export import openapi_components
from negotiate.schema.export.openapi import (
    AGENT_ERROR,
    JSON_PATCH,
    add_components,
    agent_error_schema,
    body_schema,
    header_parameter,
    json_patch_schema,
    schema_ref,
    select_parameter,
    shaping_parameters,
)
from negotiate.shaping import TIME_ZONES
from negotiate.superoffice import (
    APP_TOKEN_HEADER,
    ENRICH_PATH,
    PREVIEW_PATH,
    sample_contact as sample_bytes,
)

__all__ = ["OPENAPI_PATH", "openapi_document", "openapi_operation", "sample_contact"]

OPENAPI_PATH: Final = "/api/v1/openapi.json"
"""Where the reference server serves its OpenAPI document."""

EXAMPLE_ENRICH_ID: Final = "NO-923609016"
"""The ``EnrichId`` of the examples (SuperOffice's documented sample)."""

_ERRORS: Final = {
    400: "Malformed body, query ($select) or shaping header; the location says where",
    401: "No or wrong credentials",
    404: "No company with this EnrichId",
    406: "No acceptable response media type (Accept)",
    409: "A JSON Patch test failed",
    413: "The body (received, or once its Content-Encoding is undone) is over the limit",
    415: "Unsupported Content-Type or Content-Encoding",
    422: "A patch produced a document the carrier cannot hold",
    500: "The server failed",
    502: "The enrichment service failed",
    503: "Too many password checks; retry later",
    504: "The enrichment service did not answer in time",
}
_JSON_ONLY: Final = frozenset({406})  # answered in JSON whatever Accept said

_DESCRIPTIONS: Final = {
    ENRICH_PATH: (
        "Enrich a contact",
        "The ContactEntity sent, completed from the enrichment record of EnrichId. "
        "A patch-format answer is the diff from the ContactEntity sent.",
    ),
    PREVIEW_PATH: (
        "Preview a company",
        "The PreviewContact of the enrichment record of EnrichId.",
    ),
}


def sample_contact() -> dict[str, Any]:
    """The reference page's sample ContactEntity (``negotiate/data/contact-sample.json``)."""
    data: dict[str, Any] = orjson.loads(sample_bytes())
    return data


def _parameters(response: Schema) -> list[dict[str, Any]]:
    codings = ", ".join(decodable_codings())
    return [
        select_parameter(response),
        *shaping_parameters(TIME_ZONES),
        header_parameter(
            APP_TOKEN_HEADER,
            "The partner application's token (required with Bearer and SOTicket "
            "when the server has application tokens).",
        ),
        header_parameter(
            "Accept",
            "The response media type (RFC 9110 q-values); see the responses' content.",
            MEDIA_JSON,
        ),
        header_parameter(
            "Accept-Encoding",
            f"Response content codings by q-value ({codings}); bodies under 1 KiB "
            "are sent as they are.",
            "gzip",
        ),
    ]


def _is_json(media_type: str) -> bool:
    return media_type.endswith("/json") or media_type.endswith("+json")


def _content(
    registry: CodecRegistry,
    media_types: Iterable[str],
    schema: Schema,
    value: dict[str, Any] | None,
) -> dict[str, Any]:
    """``content`` for a carrier: each media type with its schema and example."""
    content: dict[str, Any] = {}
    normalised = schema.normalize(value) if value is not None else None
    for media_type in media_types:
        codec = registry.codec(media_type)
        patch = bool(getattr(codec, "is_patch", False))
        entry: dict[str, Any] = {"schema": body_schema(media_type, schema, patch=patch)}
        if normalised is not None:
            # NOTE: a patch example is the patch from the carrier's default (the base
            # the server applies a patch request to, and diffs a response from).
            written = codec.encode(normalised, schema, base=schema.default())
            entry["example"] = orjson.loads(written) if _is_json(media_type) else written.decode()
        content[media_type] = entry
    return content


def _errors(registry: CodecRegistry) -> dict[str, Any]:
    error_types = [t for t in registry.response_types if not t.endswith("patch+json")]
    responses: dict[str, Any] = {}
    for status, description in _ERRORS.items():
        types = [MEDIA_JSON] if status in _JSON_ONLY else error_types
        if MEDIA_JSON not in types:
            types = [MEDIA_JSON, *types]  # an error the negotiated codec cannot write
        response: dict[str, Any] = {
            "description": description,
            "content": {t: {"schema": schema_ref(AGENT_ERROR)} for t in types},
        }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "example": f'Basic realm="{REALM}"',
                }
            }
        elif status == 415:
            response["headers"] = {
                "Accept-Encoding": {
                    "description": "The request codings read (a Content-Encoding 415)",
                    "schema": {"type": "string"},
                },
                "Accept-Post": {
                    "description": "The request media types (a Content-Type 415)",
                    "schema": {"type": "string"},
                },
            }
        responses[str(status)] = response
    return responses


def openapi_document(
    operations: Iterable[Operation],
    *,
    registry: CodecRegistry | None = None,
    enrich_id: str = EXAMPLE_ENRICH_ID,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the operations (see the module docs).

    Args:
        operations: the operations (each with request and response carriers).
        registry: the codecs whose media types are documented (default:
            :func:`negotiate.codecs.default_registry`).
        enrich_id: the ``EnrichId`` of the examples.

    Returns:
        The document, as JSON-ready data.

    Raises:
        ValueError: an operation without request or response carrier, or two
            different carriers or enums of the same name.
    """
    registry = registry if registry is not None else default_registry()
    contact = sample_contact()
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    errors = _errors(registry)
    for op in operations:
        if op.request is None or op.response is None:
            raise ValueError(
                f"{op.method} {op.path}: an operation needs request and response carriers"
            )
        for carrier in (op.request, op.response):
            add_components(schemas, openapi_components(carrier)["schemas"])
        # the example request: the sample contact where the carrier takes one
        request_value: dict[str, Any] = {"EnrichId": enrich_id}
        if op.request.field("ContactEntity") is not None:
            request_value["ContactEntity"] = contact
        summary, description = _DESCRIPTIONS.get(op.path, (op.path.rsplit("/", 1)[-1], ""))
        operation_id = op.path.rstrip("/").rsplit("/", 1)[-1]
        paths.setdefault(op.path, {})[op.method.lower()] = {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "parameters": _parameters(op.response),
            "requestBody": {
                "required": False,
                "description": "An empty body is the carrier's default. It may be "
                f"compressed (Content-Encoding: {', '.join(decodable_codings())}, "
                "stacked in the order applied); the body limit holds for its "
                "decoded size.",
                "content": _content(registry, registry.request_types, op.request, request_value),
            },
            "responses": {
                "200": {
                    "description": f"The {op.response.name}",
                    "headers": {
                        "Content-Encoding": {"schema": {"type": "string"}},
                        "Content-Language": {"schema": {"type": "string"}},
                        "Vary": {"schema": {"type": "string"}},
                    },
                    "content": _content(registry, registry.response_types, op.response, contact),
                },
                **errors,
            },
        }
    schemas[JSON_PATCH] = json_patch_schema()
    schemas[AGENT_ERROR] = agent_error_schema()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "negotiate reference server: SuperOffice contact enrichment",
            "version": negotiate.__version__,
            "description": "SuperOffice WebAPI's EnrichContactEntity and "
            "GetPreviewEnrichContact, with content negotiation on every axis.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "Basic": {"type": "http", "scheme": "basic"},
                "Bearer": {"type": "http", "scheme": "bearer"},
                "SOTicket": {
                    "type": "http",
                    "scheme": "SOTicket",
                    "description": "Authorization: SOTicket <ticket>",
                },
            },
        },
        "security": [{"Basic": []}, {"Bearer": []}, {"SOTicket": []}],
    }


def openapi_operation(build: Callable[[], dict[str, Any]]) -> Operation:
    """``GET`` :data:`OPENAPI_PATH`: the document, to anyone (``Operation.public``).

    Args:
        build: makes the document (:func:`openapi_document` over the app's
            operations); called on the first request, its result kept.
    """
    built: list[dict[str, Any]] = []

    def serve(value: Any, ctx: Context) -> dict[str, Any]:
        # NOTE: built on first use, not with the app: it encodes every example in every
        # media type (a quarter of a second), which an app that is never asked for it
        # should not pay. Two first requests at once may both build it; both get one.
        if not built:
            built.append(build())
        return built[0]

    return Operation(OPENAPI_PATH, serve, None, None, method="GET", public=True)
