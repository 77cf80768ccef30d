"""DRF parsers and renderers generated from a registry, and the view pipeline they run."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.cache import patch_vary_headers
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from negotiate.codecs import CodecRegistry, default_registry
from negotiate.codecs.base import Codec
from negotiate.errors import NegotiateError
from negotiate.http import VARY, check_content_length
from negotiate.integrations._common import (
    content_coding,
    content_language,
    decode_content,
    environ_shaping,
    environ_vary,
)
from negotiate.integrations.django.errors import _Document, _error_app, _error_headers
from negotiate.media import parse_content_type
from negotiate.options import DEFAULT_OPTIONS
from negotiate.pipeline import Pipeline, Plan, Writer, snapshot
from negotiate.resources import DEFAULT_RESOURCES

__all__ = ["NegotiateParser", "NegotiateRenderer", "parser_classes", "renderer_classes"]

_PLAN = "_negotiate_plan"
_BASE = "_negotiate_base"
"""Attributes of a DRF request: its plan, and the snapshot a patch response diffs from."""


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
        request = context.get("request")
        try:
            body = _respond(self, context.get("view"), request, data)
        except NegotiateError as refusal:
            response.status_code = refusal.status
            for name, value in _error_headers(refusal, context.get("request")).items():
                response[name] = value
            return self._error_document(refusal.to_dict(), response)
        if request is not None:
            _shaped_headers(response, request, _pipeline(context.get("view"), self.registry))
        return body

    def _error_document(self, data: Any, response: Any) -> bytes:
        status = int(response.status_code)
        # NOTE: a 406 was negotiated by nothing (DRF forces the first renderer): JSON,
        # as the core answers it.
        writer = None if status == 406 else self.writer
        out = _error_app(self.registry).error(_Document(data, status), writer)
        response["Content-Type"] = out.header("content-type")
        return out.body


def _shaped_headers(response: Any, request: Any, pipeline: Pipeline[Any]) -> None:
    """``Vary`` names the shaping headers (for a view with a response carrier),
    ``Content-Language`` the language shaping translated to, as the core answers
    (an error's ``Vary`` stays ``Accept``)."""
    vary = environ_vary(pipeline)
    if vary is not VARY:
        # PERF: the renderer has just made Vary "Accept" (or a view's own list).
        if response.get("Vary") == VARY[1]:
            response["Vary"] = vary[1]
        else:
            patch_vary_headers(response, vary[1].split(", ")[1:])
    if environ_shaping(request.META) is None:  # PERF: the usual request
        return
    plan: Plan | None = getattr(request, _PLAN, None)
    language = content_language(plan) if plan is not None else None
    if language is not None:
        response["Content-Language"] = language


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
    plan = pipeline.plan(
        writer,
        meta.get("CONTENT_TYPE") or None,
        select=select,
        headers=environ_shaping(meta),
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
    """The body, refused by its headers before it is read (Content-Length: 400, 413;
    Content-Encoding: 415), then read to the limit and its content coding undone."""
    coding = None
    if request is not None:
        meta = request.META
        length = meta.get("CONTENT_LENGTH")
        if length:
            check_content_length(length, limit)
        coding = content_coding(meta.get("HTTP_CONTENT_ENCODING"))
    if stream is None:
        return b""
    # NOTE: one byte over the limit is enough to refuse it; the rest is never read.
    body = stream.read(limit + 1)
    if not isinstance(body, bytes):
        body = bytes(body)
    return body if coding is None else decode_content(body, coding, limit)


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
            setattr(request, _BASE, snapshot(base(value)))
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
