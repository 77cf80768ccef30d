"""The DRF view mixin and request: negotiation on a view that names its carriers.

NOTE: ``rest_framework.views`` is imported for type checking only, so that the
settings may name this package's classes (DRF's views module reads them on import).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.datastructures import MultiValueDict
from rest_framework.request import Request

from negotiate.errors import (
    NegotiateError,
)
from negotiate.integrations.django.errors import exception_handler
from negotiate.integrations.django.formats import (
    _DEFAULT_REGISTRY,
    NegotiateParser,
    NegotiateRenderer,
    _decode,
    _pipeline,
    _plan,
    _read,
    parser_classes,
    renderer_classes,
)
from negotiate.integrations.django.negotiation import ContentNegotiation
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema

__all__ = ["NegotiateMixin", "NegotiateRequest"]

# -- the view ----------------------------------------------------------------------------


class NegotiateRequest(Request):  # type: ignore[misc]
    """DRF's request, with an empty body read as the request carrier's default.

    DRF answers a request without a body with ``{}`` and never asks a parser; a
    carrier's empty body is its default (a patch type's: its base), as in the core.
    """

    def _parse(self) -> tuple[Any, Any]:
        view = self.parser_context.get("view")
        try:
            empty = getattr(view, "negotiate_request", None) is not None and self.stream is None
        except Exception:  # noqa: BLE001 - DRF's own _parse knows what to make of it
            empty = False
        if not empty:
            return super()._parse()  # type: ignore[no-any-return]
        registry = next(
            (p.registry for p in self.parsers if isinstance(p, NegotiateParser)), _DEFAULT_REGISTRY
        )
        pipeline = _pipeline(view, registry)
        # NOTE: DRF reads a Content-Length that is not a number as 0 (no body): the
        # headers are checked all the same (400; a Content-Encoding 415), as the core does.
        body = _read(None, pipeline.options.max_body, self)
        value = _decode(pipeline, view, self, self.content_type, body)
        return value, MultiValueDict()


_DEFAULT_PARSERS = parser_classes()
_DEFAULT_RENDERERS = renderer_classes()

if TYPE_CHECKING:
    from rest_framework.views import APIView as _View
else:
    _View = object


class NegotiateMixin(_View):  # type: ignore[misc]
    """Negotiation on a DRF view: ``class Enrich(NegotiateMixin, APIView)``.

    It goes before the DRF view class (``APIView``, ``GenericAPIView``, a viewset).

    Class attributes:
        negotiate_request: the request body's carrier (``None``: plain data).
        negotiate_response: the response carrier (``None``: plain data; no
            ``$select``, no shaping).
        negotiate_options: the body limit (default :data:`~negotiate.DEFAULT_OPTIONS`).
        negotiate_resources: the resource table shaping translates with.
        parser_classes / renderer_classes: the default registry's; another
            registry's from :func:`parser_classes` / :func:`renderer_classes`.

    Define ``negotiate_request_base(self, request)`` for what a patch body applies
    to, and ``negotiate_response_base(self, value)`` for what a patch response is
    the diff from (given the request value); the default of both is the carrier's
    default.
    """

    negotiate_request: ClassVar[Schema | None] = None
    negotiate_response: ClassVar[Schema | None] = None
    negotiate_options: ClassVar[Options] = DEFAULT_OPTIONS
    negotiate_resources: ClassVar[Resources] = DEFAULT_RESOURCES
    negotiate_request_base: Callable[..., Any] | None = None
    negotiate_response_base: Callable[..., Any] | None = None
    parser_classes: ClassVar[list[type[NegotiateParser]]] = _DEFAULT_PARSERS
    renderer_classes: ClassVar[list[type[NegotiateRenderer]]] = _DEFAULT_RENDERERS
    content_negotiation_class: ClassVar[type[ContentNegotiation]] = ContentNegotiation

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> NegotiateRequest:
        """DRF's request as a :class:`NegotiateRequest`."""
        return NegotiateRequest(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=self.get_parser_context(request),
        )

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        """DRF's checks, then a ``$select`` refusal before the handler runs."""
        super().initial(request, *args, **kwargs)
        renderer = request.accepted_renderer
        method = request.method.lower()
        # NOTE: not for a method the view lacks: DRF's 405 comes next, and first.
        if (
            isinstance(renderer, NegotiateRenderer)
            and method in self.http_method_names
            and hasattr(self, method)
        ):
            plan = _plan(_pipeline(self, renderer.registry), renderer.writer, request)
            if isinstance(plan.projector, NegotiateError):
                # NOTE: the body's fault is answered first, as the core orders them.
                request.data  # noqa: B018 - decoding is the point
                raise plan.projector

    def get_exception_handler(self) -> Callable[[Exception, Mapping[str, Any]], Any]:
        """:func:`exception_handler`, whatever the settings say."""
        return exception_handler
