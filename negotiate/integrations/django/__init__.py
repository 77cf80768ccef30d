"""Django REST framework: every registered format as DRF parsers and renderers.

The pieces, each in DRF's own extension shape (``pip install 'negotiate[django]'``;
import it where DRF's modules are imported, once settings exist; it does not import
``rest_framework.views``, so that the settings may name its classes):

- :func:`parser_classes` / :func:`renderer_classes`: one class per media type of a
  :class:`~negotiate.codecs.CodecRegistry`, generated from it (``media_type``,
  ``format``, ``charset``; ``parse`` / ``render`` run the registry's codecs);
- :class:`ContentNegotiation`: picks the renderer by RFC 9110 q-values
  (:func:`negotiate.media.best_match`; DRF's default ranks by specificity and
  ignores q) and the parser by the Content-Type's exact media type;
- :func:`exception_handler`: :class:`~negotiate.errors.NegotiateError` and DRF's
  own exceptions as SuperOffice's agent error document (``REST_FRAMEWORK =
  {"EXCEPTION_HANDLER": "negotiate.integrations.django.exception_handler"}``);
- :class:`NegotiateMixin`: all of the above on a DRF view that names its carriers.

A view names its carriers in class attributes::

    class Enrich(NegotiateMixin, APIView):
        negotiate_request = get_schema("EnrichContactEntityRequest")
        negotiate_response = get_schema("ContactEntity")

        def post(self, request):
            return Response(handle(request.data))

``request.data`` is then the decoded, normalised request carrier, whatever the
Content-Type (an empty body: its default; a JSON Patch or merge patch: applied to
``negotiate_request_base(request)``, else the default), and the handler's result,
a normalised response carrier, is projected by ``$select``, shaped by the SO-*
headers and written in the negotiated type (a patch type: the diff from
``negotiate_response_base(request value)``, else the default). Optional, also on
the view: ``negotiate_options`` (the body limit), ``negotiate_resources`` (what
shaping translates with), and the two base methods.

Errors: a refusal of the body is raised from ``request.data`` (DRF's way) and
answered by the view's exception handler; a ``$select`` refusal is raised before
the handler runs (after the body's fault, as :mod:`negotiate.http` orders them);
a shaping header's refusal and a value that cannot be written are answered by the
renderer itself, in the same shape. An exception that is neither a
:class:`~negotiate.errors.NegotiateError` nor one of DRF's is left to Django (DRF's
convention: the handler returns ``None``).
"""

from __future__ import annotations

try:
    # NOTE: the extra's guard, before any submodule imports from Django or DRF.
    import django  # noqa: F401
    import rest_framework  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - the extra is installed where tests run
    if (exc.name or "").partition(".")[0] not in ("django", "rest_framework"):
        raise
    raise ImportError(
        "negotiate.integrations.django needs Django REST framework: pip install 'negotiate[django]'"
    ) from exc

from negotiate.integrations.django.errors import (
    as_negotiate_error as as_negotiate_error,
    exception_handler as exception_handler,
)
from negotiate.integrations.django.formats import (
    NegotiateParser as NegotiateParser,
    NegotiateRenderer as NegotiateRenderer,
    parser_classes as parser_classes,
    renderer_classes as renderer_classes,
)
from negotiate.integrations.django.negotiation import ContentNegotiation as ContentNegotiation
from negotiate.integrations.django.views import (
    NegotiateMixin as NegotiateMixin,
    NegotiateRequest as NegotiateRequest,
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
