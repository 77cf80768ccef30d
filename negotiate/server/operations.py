"""The reference server's operations, and the applications made of them.

Two operations, as SuperOffice's WebAPI has them:

* ``POST /api/v1/Agents/Contact/EnrichContactEntity``: body
  ``EnrichContactEntityRequest`` (``{"ContactEntity": ..., "EnrichId": ...}``),
  answer the enriched ``ContactEntity`` (merge rules in
  :mod:`negotiate.enrich.merge`). A patch-format answer is the diff from the
  ContactEntity the client sent (its default when it sent null). A patch
  *request* body applies to the wrapper's default, ``{"ContactEntity": null,
  "EnrichId": null}``: a merge patch is then simply the wrapper with the
  fields to send, and a JSON Patch builds it (``add /EnrichId``, ``add
  /ContactEntity``); an embedding application may supply another base
  (``enrich_operations(request_base=...)``, a stored contact, say).
* ``POST /api/v1/Agents/Contact/GetPreviewEnrichContact``: body
  ``{"EnrichId": ...}``, answer a ``PreviewContact``. A patch-format answer
  is the diff from PreviewContact's default.

:func:`create_app` adds ``GET /api/v1/openapi.json``, the OpenAPI 3.1
document of the two (:mod:`negotiate.server.openapi`), served without
credentials.

A missing ``EnrichId`` is a 400, an unknown one a 404; the remote provider's
failures are 502 and 504.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from negotiate.asgi import ASGIAdapter
from negotiate.auth import Authenticator
from negotiate.codecs import CodecRegistry
from negotiate.enrich import EnrichmentProvider, enrich_contact, preview_contact
from negotiate.errors import InvalidValue, NotFound, excerpt
from negotiate.http import App, Context, Operation
from negotiate.schema import get_schema
from negotiate.server.config import ServerConfig
from negotiate.server.openapi import EXAMPLE_ENRICH_ID, openapi_document, openapi_operation
from negotiate.superoffice import (
    ENRICH_PATH,
    ENRICH_REQUEST,
    ENRICH_RESPONSE,
    PREVIEW_PATH,
    PREVIEW_REQUEST,
    PREVIEW_RESPONSE,
)
from negotiate.wsgi import WSGIAdapter

__all__ = ["asgi_app", "create_app", "enrich_operations", "wsgi_app"]

_CONTACT = get_schema(ENRICH_RESPONSE)
_ENRICH_REQUEST = get_schema(ENRICH_REQUEST)
_PREVIEW = get_schema(PREVIEW_RESPONSE)
_PREVIEW_REQUEST = get_schema(PREVIEW_REQUEST)


def enrich_operations(
    provider: EnrichmentProvider,
    *,
    request_base: Callable[[Context], Any] | None = None,
) -> list[Operation]:
    """EnrichContactEntity and GetPreviewEnrichContact over a provider.

    Args:
        provider: the enrichment source.
        request_base: what a patch body of EnrichContactEntity applies to
            (default: the request wrapper's default).

    Returns:
        The two operations, for :class:`negotiate.http.App`.
    """
    blocking = bool(getattr(provider, "blocking", True))

    def lookup(value: dict[str, Any]) -> Any:
        enrich_id = value.get("EnrichId")
        if not enrich_id or not enrich_id.strip():
            raise InvalidValue("EnrichId is required", location="/EnrichId")
        company = provider.lookup(enrich_id)
        if company is None:
            raise NotFound(
                f"Unknown EnrichId {excerpt(enrich_id)}: "
                "the enrichment provider has no such company",
                location="/EnrichId",
            )
        return company

    def enrich(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return enrich_contact(value["ContactEntity"], lookup(value))

    def preview(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return preview_contact(lookup(value))

    def sent_contact(value: dict[str, Any]) -> dict[str, Any]:
        contact: dict[str, Any] | None = value["ContactEntity"]
        return contact if contact is not None else _CONTACT.default()

    return [
        Operation(
            ENRICH_PATH,
            enrich,
            _ENRICH_REQUEST,
            _CONTACT,
            request_base=request_base,
            response_base=sent_contact,
            blocking=blocking,
        ),
        Operation(PREVIEW_PATH, preview, _PREVIEW_REQUEST, _PREVIEW, blocking=blocking),
    ]


def create_app(
    config: ServerConfig | None = None,
    *,
    provider: EnrichmentProvider | None = None,
    authenticator: Authenticator | None = None,
    registry: CodecRegistry | None = None,
) -> App:
    """The reference application.

    Args:
        config: the configuration (default: :class:`ServerConfig` defaults,
            which have no credentials: pass ``authenticator`` then).
        provider: overrides the configured enrichment provider.
        authenticator: overrides the configured credentials.
        registry: overrides the default codec registry.

    Raises:
        ValueError: no credentials and no ``authenticator`` (and not
            ``insecure_no_auth``); a malformed configuration value.
    """
    config = config if config is not None else ServerConfig()
    provider = provider if provider is not None else config.provider()
    operations = enrich_operations(provider)
    # NOTE: the OpenAPI document describes the enrichment operations with the codecs
    # this app serves, its examples with an EnrichId the provider knows when it can
    # list one (the embedded one); it is served to anyone.
    document = functools.partial(
        openapi_document, operations, registry=registry, enrich_id=_example_id(provider)
    )
    return App(
        [*operations, openapi_operation(document)],
        authenticator=authenticator if authenticator is not None else config.authenticator(),
        registry=registry,
        options=config.options(),
    )


def _example_id(provider: EnrichmentProvider) -> str:
    ids = getattr(provider, "ids", None)
    if ids is not None:
        try:
            found = ids(1, country="NO")
        except Exception:  # noqa: BLE001 - only an example; the documented one will do
            found = []
        if found:
            return str(found[0])
    return EXAMPLE_ENRICH_ID


def asgi_app(config: ServerConfig | None = None, **kwargs: Any) -> ASGIAdapter:
    """The reference application for ASGI servers (arguments as :func:`create_app`)."""
    return ASGIAdapter(create_app(config, **kwargs))


def wsgi_app(config: ServerConfig | None = None, **kwargs: Any) -> WSGIAdapter:
    """The reference application for WSGI servers (arguments as :func:`create_app`)."""
    return WSGIAdapter(create_app(config, **kwargs))
