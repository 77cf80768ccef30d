"""Django REST framework: every registered format as DRF parsers and renderers."""

from __future__ import annotations

from negotiate.integrations.django.formats import (
    ContentNegotiation as ContentNegotiation,
    NegotiateMixin as NegotiateMixin,
    NegotiateParser as NegotiateParser,
    NegotiateRenderer as NegotiateRenderer,
    NegotiateRequest as NegotiateRequest,
    as_negotiate_error as as_negotiate_error,
    exception_handler as exception_handler,
    parser_classes as parser_classes,
    renderer_classes as renderer_classes,
)

__all__ = [
    "ContentNegotiation",
    "NegotiateMixin",
    "NegotiateParser",
    "NegotiateRenderer",
    "NegotiateRequest",
    "as_negotiate_error",
    "exception_handler",
    "parser_classes",
    "renderer_classes",
]
