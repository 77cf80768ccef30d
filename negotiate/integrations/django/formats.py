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

import threading
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

try:
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from django.http import Http404
    from django.utils.cache import patch_vary_headers
    from django.utils.datastructures import MultiValueDict
    from rest_framework import exceptions as drf
    from rest_framework.negotiation import BaseContentNegotiation
    from rest_framework.parsers import BaseParser
    from rest_framework.renderers import BaseRenderer
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.settings import api_settings
    from rest_framework.utils.mediatypes import media_type_matches
except ModuleNotFoundError as exc:  # pragma: no cover - the extra is installed where tests run
    if (exc.name or "").partition(".")[0] not in ("django", "rest_framework"):
        raise
    raise ImportError(
        "negotiate.integrations.django needs Django REST framework: pip install 'negotiate[django]'"
    ) from exc

from negotiate.auth import ANONYMOUS
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.codecs.base import Codec
from negotiate.errors import (
    BodyTooLarge,
    MalformedBody,
    MethodNotAllowed,
    NegotiateError,
    NotAcceptable,
    NotFound,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.http import App, error_class
from negotiate.media import best_match, parse_content_type
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Plan, Writer, _snapshot
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema

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

_PLAN = "_negotiate_plan"
_BASE = "_negotiate_base"
"""Attributes of a DRF request: its plan, and the snapshot a patch response diffs from."""

_SHAPING_META = (
    ("HTTP_SO_TIMEZONE", "so-timezone"),
    ("HTTP_SO_LANGUAGE", "so-language"),
    ("HTTP_ACCEPT_LANGUAGE", "accept-language"),
    ("HTTP_SO_CULTURE", "so-culture"),
)


# -- generated parsers and renderers -------------------------------------------------


class NegotiateParser(BaseParser):  # type: ignore[misc]
    """A DRF parser for one media type of a registry (made by :func:`parser_classes`).

    Attributes:
        media_type: the media type it reads (``application/xml``).
        format: a short name of the format (``xml``).
        charset: the format's charset parameter, or ``None``.
        codec: the registry's codec for the type.
        registry: the registry the class was made from.
    """

    media_type: ClassVar[str] = ""
    format: ClassVar[str] = ""
    charset: ClassVar[str | None] = None
    codec: ClassVar[Codec]
    registry: ClassVar[CodecRegistry]

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Decode the body into the view's ``negotiate_request`` carrier.

        Args:
            stream: the request body (read at most to the body limit, plus one byte).
            media_type: the request's Content-Type header.
            parser_context: DRF's context (``view``, ``request``).

        Returns:
            The normalised carrier (plain data without one).

        Raises:
            NegotiateError: 413, 415 (charset), or the codec's 400/409/422, located.
        """
        context = parser_context or {}
        view = context.get("view")
        request = context.get("request")
        pipeline = _pipeline(view, self.registry)
        body = _read(stream, pipeline.options.max_body, request)
        return _decode(pipeline, view, request, media_type or self.media_type, body)


class NegotiateRenderer(BaseRenderer):  # type: ignore[misc]
    """A DRF renderer for one media type of a registry (made by :func:`renderer_classes`).

    Attributes:
        media_type: the media type it writes.
        format: a short name of the format (``json``, ``xml``, ``json-patch``).
        charset: the format's charset parameter, or ``None``.
        writer: the registry's :class:`~negotiate.pipeline.Writer` of the type.
        registry: the registry the class was made from.
    """

    media_type: ClassVar[str] = ""
    format: ClassVar[str] = ""
    charset: ClassVar[str | None] = None
    writer: ClassVar[Writer]
    registry: ClassVar[CodecRegistry]

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """Project by ``$select``, shape, and encode (an error: the agent document).

        Args:
            data: the view's result, a normalised ``negotiate_response`` carrier (or
                an error document when the response is an exception's).
            accepted_media_type: the negotiated media type.
            renderer_context: DRF's context (``view``, ``request``, ``response``).

        Returns:
            The body. A refusal met here (a shaping header, a value the format cannot
            write) turns the response into that error, in the same shape.
        """
        context = renderer_context or {}
        response = context.get("response")
        if response is None:  # called outside a view: the plain encode
            view = context.get("view")
            if data is None:
                return b""
            return self.writer.encode(data, _pipeline(view, self.registry).response, base=None)
        # PERF: DRF has set both already (Vary when a view has several renderers);
        # Django's header setter and patch_vary_headers are costly next to a check.
        if response.get("Content-Type") != self.writer.content_type:
            response["Content-Type"] = self.writer.content_type
        vary = response.get("Vary")
        if vary is None:
            response["Vary"] = "Accept"
        elif "accept" not in (item.strip().lower() for item in vary.split(",")):
            patch_vary_headers(response, ("Accept",))
        if response.exception or response.status_code >= 400:
            return self._error_document(data, response)
        if data is None:
            return b""
        try:
            return _respond(self, context.get("view"), context.get("request"), data)
        except NegotiateError as refusal:
            response.status_code = refusal.status
            for name, value in _error_headers(refusal, context.get("request")).items():
                response[name] = value
            return self._error_document(refusal.to_dict(), response)

    def _error_document(self, data: Any, response: Any) -> bytes:
        status = int(response.status_code)
        # NOTE: a 406 was negotiated by nothing (DRF forces the first renderer): JSON,
        # as the core answers it.
        writer = None if status == 406 else self.writer
        out = _error_app(self.registry).error(_Document(data, status), writer)
        response["Content-Type"] = out.header("content-type")
        return out.body


def _format(media_type: str) -> str:
    """``json`` for JSON types, ``xml``, ``json-patch`` for ``application/json-patch+json``."""
    subtype = media_type.partition("/")[2]
    name, plus, suffix = subtype.partition("+")
    if plus:
        return name
    return {"x-www-form-urlencoded": "form"}.get(subtype, subtype)


def _class_name(media_type: str, kind: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in media_type).split()
    return "".join(word[:1].upper() + word[1:] for word in words) + kind


def _charset(content_type: str) -> str | None:
    return parse_content_type(content_type).charset


class _Generated:
    """One registry's classes, with the type lists they were made for."""

    __slots__ = ("parsers", "renderers", "request_types", "response_types")

    def __init__(self, registry: CodecRegistry) -> None:
        self.request_types = registry.request_types
        self.response_types = registry.response_types
        parsers: list[type[NegotiateParser]] = []
        for media_type in self.request_types:
            codec = registry.codec(media_type)
            attributes: dict[str, Any] = {
                "__module__": __name__,
                "__doc__": f"Reads {media_type} with {codec!r}.",
                "media_type": media_type,
                "format": _format(media_type),
                "charset": _charset(codec.content_type(media_type)),
                "codec": codec,
                "registry": registry,
            }
            name = _class_name(media_type, "Parser")
            parsers.append(type(name, (NegotiateParser,), attributes))
        renderers: list[type[NegotiateRenderer]] = []
        for media_type in self.response_types:
            writer = Writer.of(registry.codec(media_type), media_type)
            attributes = {
                "__module__": __name__,
                "__doc__": f"Writes {media_type} with {writer.codec!r}.",
                "media_type": media_type,
                "format": _format(media_type),
                "charset": _charset(writer.content_type),
                "writer": writer,
                "registry": registry,
            }
            name = _class_name(media_type, "Renderer")
            renderers.append(type(name, (NegotiateRenderer,), attributes))
        self.parsers = tuple(parsers)
        self.renderers = tuple(renderers)


_GENERATED: dict[int, tuple[CodecRegistry, _Generated]] = {}
_LOCK = threading.Lock()
_DEFAULT_REGISTRY = default_registry()


def _generated(registry: CodecRegistry | None) -> _Generated:
    registry = registry if registry is not None else _DEFAULT_REGISTRY
    found = _GENERATED.get(id(registry))
    # NOTE: keyed by identity, the registry kept alive beside its classes (so that its
    # id is never reused); a codec registered since makes new classes.
    if (
        found is None
        or found[1].request_types != registry.request_types
        or found[1].response_types != registry.response_types
    ):
        with _LOCK:
            made = _Generated(registry)
            _GENERATED[id(registry)] = (registry, made)
            return made
    return found[1]


def parser_classes(registry: CodecRegistry | None = None) -> list[type[NegotiateParser]]:
    """One DRF parser class per request media type of ``registry``, in its order.

    Args:
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry`).

    Returns:
        The classes (made once per registry), for a view's ``parser_classes``.
    """
    return list(_generated(registry).parsers)


def renderer_classes(registry: CodecRegistry | None = None) -> list[type[NegotiateRenderer]]:
    """One DRF renderer class per response media type of ``registry``, preferred first.

    Args:
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry`).

    Returns:
        The classes (made once per registry), for a view's ``renderer_classes``.
    """
    return list(_generated(registry).renderers)


# -- the pipeline of a view --------------------------------------------------------------

_PIPELINES: dict[tuple[type, CodecRegistry], Pipeline[Any]] = {}


def _pipeline(view: Any, registry: CodecRegistry) -> Pipeline[Any]:
    """The view class's pipeline over ``registry``, built once from its attributes."""
    cls = type(view)
    key = (cls, registry)
    found = _PIPELINES.get(key)
    if found is None:
        has_base = getattr(cls, "negotiate_request_base", None) is not None
        found = Pipeline(
            getattr(cls, "negotiate_request", None),
            getattr(cls, "negotiate_response", None),
            registry=registry,
            options=getattr(cls, "negotiate_options", DEFAULT_OPTIONS),
            resources=getattr(cls, "negotiate_resources", DEFAULT_RESOURCES),
            request_base=_request_base if has_base else None,
        )
        _PIPELINES[key] = found
    return found


def _request_base(request: Any) -> Any:
    """What a patch body applies to: the view's ``negotiate_request_base(request)``."""
    return request.parser_context["view"].negotiate_request_base(request)


def _plan(pipeline: Pipeline[Any], writer: Writer, request: Any) -> Plan:
    """The request's plan for ``writer``, resolved once and kept on the request."""
    plan: Plan | None = getattr(request, _PLAN, None)
    if plan is not None and plan.writer is writer:
        return plan
    meta = request.META
    select = _select(request) if meta.get("QUERY_STRING") else None
    shaping = {name: meta[key] for key, name in _SHAPING_META if key in meta}
    plan = pipeline.plan(
        writer,
        meta.get("CONTENT_TYPE") or None,
        select=select,
        headers=shaping or None,
    )
    setattr(request, _PLAN, plan)
    return plan


def _select(request: Any) -> str | None:
    """``$select`` from the query (the name case-insensitively, repeated values joined)."""
    parts = [
        value
        for name, values in request.query_params.lists()
        if name.casefold() == "$select"
        for value in values
        if value
    ]
    return ",".join(parts) or None


def _writer_of(request: Any, registry: CodecRegistry) -> Writer:
    """The negotiated writer, or the registry's default when another renderer was chosen."""
    renderer = getattr(request, "accepted_renderer", None)
    if isinstance(renderer, NegotiateRenderer):
        return renderer.writer
    return registry.writer_for_accept(None)


def _read(stream: Any, limit: int, request: Any) -> bytes:
    """The body, refused by Content-Length before it is read, then read to the limit."""
    if request is not None:
        length = request.META.get("CONTENT_LENGTH")
        if length and length.isdigit() and len(length) < 20 and int(length) > limit:
            raise BodyTooLarge(f"Body of {length} bytes is over the limit of {limit}", limit=limit)
    if stream is None:
        return b""
    # NOTE: one byte over the limit is enough to refuse it; the rest is never read.
    body = stream.read(limit + 1)
    return bytes(body) if not isinstance(body, bytes) else body


def _decode(
    pipeline: Pipeline[Any], view: Any, request: Any, content_type: str, body: bytes
) -> Any:
    """The decode step; keeps the snapshot a patch response will diff from."""
    if request is None:
        plan = pipeline.plan(pipeline.registry.writer_for_accept(None), content_type)
        return pipeline.decode(plan, body, None)
    writer = _writer_of(request, pipeline.registry)
    plan = _plan(pipeline, writer, request)
    value = pipeline.decode(plan, body, request)
    if writer.is_patch:
        base = getattr(view, "negotiate_response_base", None)
        if base is not None:
            # NOTE: taken now, before the handler runs: it may change the value it got.
            setattr(request, _BASE, _snapshot(base(value)))
    return value


def _respond(renderer: NegotiateRenderer, view: Any, request: Any, data: Any) -> bytes:
    """Project, shape and encode a handler's result (the pipeline's last three steps)."""
    pipeline = _pipeline(view, renderer.registry)
    writer = renderer.writer
    schema = pipeline.response
    if request is None:
        return pipeline.encode(writer, data, schema.default() if schema is not None else None)
    plan = _plan(pipeline, writer, request)
    projector = plan.projector
    if isinstance(projector, NegotiateError):
        raise projector
    if projector is not None:
        data = projector.apply(data)
    shaping = plan.shaping
    if shaping is not None and schema is not None:
        if isinstance(shaping, NegotiateError):
            raise shaping
        data = shaping.apply(schema, data)
    base = None
    if writer.is_patch:
        base = getattr(request, _BASE, None)
        if base is None and schema is not None:
            base = schema.default()
    return pipeline.encode(writer, data, base)


# -- content negotiation -----------------------------------------------------------------


class ContentNegotiation(BaseContentNegotiation):  # type: ignore[misc]
    """DRF content negotiation by RFC 9110: q-values, then the server's order.

    The renderer: the one whose media type ``Accept`` prefers
    (:func:`negotiate.media.best_match`: the highest q, ``q=0`` excludes, ties to the
    view's renderer order; no Accept: the first); nothing acceptable is a 406 listing
    the renderers' types (unless the registry falls back to its default). DRF's
    ``?format=`` and format suffixes narrow the renderers first, as in DRF.
    The parser: the one for the Content-Type's media type, parameters aside (DRF's
    own parsers, also by their media ranges); none is a 415 listing the parsers' types.
    """

    def select_parser(self, request: Any, parsers: Sequence[Any]) -> Any:
        """The parser for the request's Content-Type.

        Raises:
            UnsupportedMediaType: no parser for it, or a malformed Content-Type.
        """
        content_type = request.content_type
        supported = [parser.media_type for parser in parsers]
        if not content_type:
            raise UnsupportedMediaType("A body needs a Content-Type", supported=supported)
        essence = parse_content_type(content_type).essence
        for parser in parsers:
            if parser.media_type == essence:
                return parser
        for parser in parsers:  # DRF's own parsers may name ranges (FileUploadParser: */*)
            if not isinstance(parser, NegotiateParser) and media_type_matches(
                parser.media_type, content_type
            ):
                return parser
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {excerpt(essence)}", supported=supported
        )

    def select_renderer(
        self, request: Any, renderers: Sequence[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        """The renderer ``Accept`` prefers, and its media type.

        Raises:
            NotAcceptable: no renderer is acceptable.
            Http404: a format suffix or ``?format=`` no renderer has (DRF's answer).
        """
        override = api_settings.URL_FORMAT_OVERRIDE
        wanted = format_suffix or (request.query_params.get(override) if override else None)
        if wanted:
            renderers = [renderer for renderer in renderers if renderer.format == wanted]
            if not renderers:
                raise Http404
        # PERF: best_match memoises by (Accept, offers); a view's offers are one tuple.
        offers = tuple(renderer.media_type for renderer in renderers)
        accept = request.META.get("HTTP_ACCEPT")
        chosen = best_match(accept, offers)
        if chosen is None:
            registry = getattr(renderers[0], "registry", None) if renderers else None
            if registry is None or registry.not_acceptable == "error":
                raise NotAcceptable(
                    f"None of the available types is acceptable: {excerpt(accept)}",
                    supported=list(offers),
                )
            chosen = offers[0]
        return renderers[offers.index(chosen)], chosen


# -- errors ------------------------------------------------------------------------------


class _Document(NegotiateError):
    """An error document already made (by the exception handler), with its status."""

    def __init__(self, document: Any, status: int) -> None:
        super().__init__("")
        self.status = status
        if isinstance(document, Mapping):
            self.document = dict(document)
        else:  # not ours (a view's own error Response): in the agent shape around it
            self.document = _generic(status, _text(document)).to_dict()

    def to_dict(self) -> dict[str, Any]:
        return self.document


_ERROR_APPS: dict[int, tuple[CodecRegistry, App]] = {}


def _error_app(registry: CodecRegistry) -> App:
    """An :class:`~negotiate.http.App` without operations: its ``error`` writes the body."""
    found = _ERROR_APPS.get(id(registry))
    if found is None:
        found = _ERROR_APPS[id(registry)] = (
            registry,
            App((), authenticator=ANONYMOUS, registry=registry),
        )
    return found[1]


def _generic(status: int, message: str, location: str = "") -> NegotiateError:
    """The error class of ``status``, or the base class carrying that status."""
    cls = error_class(status)
    error = cls(message, location=location)
    if cls is NegotiateError:
        error.status = status
        try:
            error.title = HTTPStatus(status).phrase
        except ValueError:
            error.title = "Error"
    return error


def _text(detail: Any) -> str:
    """DRF's detail (a string, or lists and dicts of them) as one line."""
    if isinstance(detail, Mapping):
        return "; ".join(f"{key}: {_text(value)}" for key, value in detail.items())
    if isinstance(detail, list | tuple):
        return "; ".join(_text(item) for item in detail)
    return str(detail)


def _plain(detail: Any) -> Any:
    """DRF's detail as plain data (its ``ErrorDetail`` strings as ``str``)."""
    if isinstance(detail, Mapping):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        return [_plain(item) for item in detail]
    return str(detail)


def _location(detail: Any) -> str:
    """A JSON pointer to the first field a validation detail names."""
    path = []
    while isinstance(detail, Mapping) and detail:
        key, detail = next(iter(detail.items()))
        path.append(str(key).replace("~", "~0").replace("/", "~1"))
    return "".join("/" + segment for segment in path)


def as_negotiate_error(exc: Exception, context: Mapping[str, Any]) -> NegotiateError | None:
    """``exc`` as a :class:`NegotiateError`, or ``None`` when it is not a client's error."""
    if isinstance(exc, NegotiateError):
        return exc
    request = context.get("request")
    view = context.get("view")
    if isinstance(exc, drf.UnsupportedMediaType):
        content_type = request.content_type if request is not None else ""
        types = [parser.media_type for parser in view.get_parsers()] if view is not None else []
        return UnsupportedMediaType(
            f"Unsupported Content-Type {excerpt(content_type)}", supported=types
        )
    if isinstance(exc, drf.NotAcceptable):
        accept = request.META.get("HTTP_ACCEPT") if request is not None else None
        available = exc.available_renderers or (view.get_renderers() if view is not None else [])
        return NotAcceptable(
            f"None of the available types is acceptable: {excerpt(accept)}",
            supported=[renderer.media_type for renderer in available],
        )
    if isinstance(exc, drf.ParseError):
        return MalformedBody(_text(exc.detail))
    if isinstance(exc, Http404):
        return NotFound(str(exc) or "Not found")
    if isinstance(exc, DjangoPermissionDenied):
        return _generic(403, str(exc) or "You do not have permission to perform this action")
    if isinstance(exc, drf.MethodNotAllowed):
        allowed = list(view.allowed_methods) if view is not None else []
        return MethodNotAllowed(_text(exc.detail), allowed=allowed)
    if isinstance(exc, drf.ValidationError):
        error = _generic(exc.status_code, _text(exc.detail), _location(exc.detail))
        error.detail["errors"] = _plain(exc.detail)
        return error
    if isinstance(exc, drf.APIException):
        return _generic(exc.status_code, _text(exc.detail))
    return None


def _error_headers(error: NegotiateError, request: Any) -> dict[str, str]:
    """The headers an error response carries besides its body's (as the core sends them)."""
    headers: dict[str, str] = {}
    if isinstance(error, UnsupportedMediaType) and request is not None and request.method == "POST":
        types = [parser.media_type for parser in request.parsers]
        if types:
            headers["Accept-Post"] = ", ".join(types)
    elif isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.detail.get("allowed", ()))
    return headers


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Any:
    """DRF's ``EXCEPTION_HANDLER``: the error as SuperOffice's agent error document.

    :class:`~negotiate.errors.NegotiateError` keeps its status, message and location;
    DRF's ``ParseError`` is a 400, ``UnsupportedMediaType`` a 415 and ``NotAcceptable``
    a 406 listing the supported types; every other DRF exception (and Django's
    ``Http404`` and ``PermissionDenied``) keeps its status, with its detail as the
    message (a validation error's fields under ``Errors``, the first at ``Location``).
    The body is written by the negotiated renderer.

    Args:
        exc: the exception the view raised.
        context: DRF's context (``view``, ``request``).

    Returns:
        A DRF ``Response`` whose data is ``{"Message", "MessageDetail", "Status",
        "Location", ...}``; ``None`` for any other exception (Django answers it).
    """
    error = as_negotiate_error(exc, context)
    if error is None:
        return None
    # NOTE: imported here: rest_framework.views imports this module when the settings
    # name ContentNegotiation (APIView reads it while its class is made).
    from rest_framework.views import set_rollback

    set_rollback()
    headers = _error_headers(error, context.get("request"))
    auth = getattr(exc, "auth_header", None)
    if auth:
        headers["WWW-Authenticate"] = auth
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = f"{wait:.0f}"
    return Response(error.to_dict(), status=error.status, headers=headers)


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
        value = _decode(pipeline, view, self, self.content_type, b"")
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
