"""Falcon: media handlers from the registry, and a responder decorator for carriers.

::

    app = falcon.App()
    install(app)                          # media handlers + the NegotiateError handler

    class Enrich:
        @negotiate_carrier(request=get_schema("EnrichContactEntityRequest"),
                           response=get_schema("ContactEntity"))
        def on_post(self, req, resp):
            value = req.get_media()       # the decoded, normalised request carrier
            resp.media = enrich_contact(...)  # a normalised response carrier

:func:`install` puts a :class:`MediaHandler` for every media type of the registry
into ``app.req_options.media_handlers`` and ``app.resp_options.media_handlers``,
so ``req.get_media()`` reads and ``resp.media`` writes every registered format
(as plain data, without a carrier), and registers an error handler that answers
a :class:`~negotiate.errors.NegotiateError` in the agent shape, ``{"Message",
"MessageDetail", "Status", "Location"}``, in the type the request's ``Accept``
prefers (JSON when none is acceptable).

A responder decorated with :func:`negotiate_carrier` is one
:class:`~negotiate.pipeline.Pipeline` run, as :class:`negotiate.http.App` runs
it: before the responder, ``Accept`` is negotiated with q-values (406; falcon's
``client_prefers`` is a plain best match), the body is read up to
``Options.max_body`` (413), its ``Content-Encoding`` undone as the core does
(415 with ``Accept-Encoding`` for an unknown coding, 413 past ``max_body``
decoded), and decoded by the codec of its Content-Type (415,
400 with a location; an empty body is the carrier's default); ``req.get_media()``
then returns that value and ``req.context.negotiate`` holds the request's
:class:`~negotiate.pipeline.Plan`. After it, ``resp.media`` is projected by
``$select``, shaped by the ``SO-*`` headers and written into ``resp.data`` with
``Content-Type`` (charset), ``Vary`` (``Accept`` and the shaping headers)
and ``Content-Language`` (when shaping translated), as the core answers
without codings (a compression middleware adds ``Accept-Encoding``).

Falcon gives a media handler only the stream and the Content-Type, never the
request; a decorated responder's value reaches ``req.get_media()`` through a
context variable that is set only while the responder runs and is checked
against the request's own stream. For the same reason :func:`install` adds a
middleware that tells the handlers a request body's ``Content-Encoding`` the
same way, so that an undecorated responder's ``req.get_media()`` undoes it too,
bounded as the core does (a 415 for an unknown coding when the body is read). WSGI
apps (``falcon.App``) only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

try:
    import falcon
    from falcon.media import BaseHandler
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "negotiate.integrations.falcon needs Falcon: pip install 'negotiate[falcon]'"
    ) from exc

from negotiate.codecs.base import Codec
from negotiate.errors import BodyTooLarge, NegotiateError
from negotiate.integrations._common import (
    Settings,
    content_coding,
    decode_content,
    plan_environ,
    response_headers,
)
from negotiate.media import MEDIA_JSON
from negotiate.pipeline import Pipeline
from negotiate.schema import Schema

__all__ = ["MediaHandler", "Negotiate", "install", "negotiate_carrier"]

Responder = Callable[..., None]


@dataclass(frozen=True, slots=True)
class _Decoded:
    """A decorated responder's request value, for ``req.get_media()`` on that request."""

    stream: object
    value: Any


# NOTE: set around a decorated responder only (reset after it), so a handler never
# sees another request's value; the stream check guards against a nested request.
_DECODED: ContextVar[_Decoded | None] = ContextVar("negotiate_falcon_decoded", default=None)


@dataclass(frozen=True, slots=True)
class _Coded:
    """A request body's ``Content-Encoding``, for the media handlers reading that body:
    the coding to undo, or the 415 to answer (a coding this installation cannot read)."""

    stream: object
    coding: str | NegotiateError


# NOTE: set by _ContentCodings for a request with a coded body, from its
# process_request to its process_response, checked against the request's stream.
_CODED: ContextVar[_Coded | None] = ContextVar("negotiate_falcon_coded", default=None)


class _ContentCodings:
    """Falcon middleware: a coded request body is decoded by the media handlers too.

    PERF: about 0.3 µs on every request of the app (falcon calls both methods).

    It reads the request's ``Content-Encoding`` and answers nothing itself:
    :meth:`MediaHandler.deserialize` undoes the coding, or raises the 415 for one
    this installation cannot read, when the body is read (a responder that never
    reads it is not refused for it). A decorated responder reads and decodes its
    body itself, in the core's order of checks, and never reaches a handler for it.
    """

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        header = req.env.get("HTTP_CONTENT_ENCODING")
        # NOTE: a second install() adds a second middleware: the first one's word stands.
        if header is None or getattr(req.context, "negotiate_coded", None) is not None:
            return
        try:
            coding: str | NegotiateError | None = content_coding(header)
        except NegotiateError as exc:
            coding = exc
        if coding is not None:
            req.context.negotiate_coded = _CODED.set(_Coded(req.bounded_stream, coding))

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        token = getattr(req.context, "negotiate_coded", None)
        if token is not None:
            req.context.negotiate_coded = None  # NOTE: a token resets once
            _CODED.reset(token)


class Negotiate(Settings):
    """What an app's handlers and decorated responders share: registry, options, resources.

    Args:
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry`
            with ``options``).
        options: the body limit and the codecs' policies.
        resources: the resource table shaping translates ``[SR_NAME]`` references with.
    """

    def media_handlers(self) -> dict[str, MediaHandler]:
        """A handler for every media type of the registry, keyed by that type."""
        return {
            media_type: MediaHandler(self, self.registry.codec(media_type), media_type)
            for media_type in self.registry.request_types
        }

    def install(self, app: falcon.App[Any, Any]) -> None:
        """Install the media handlers, the :class:`NegotiateError` handler and the
        middleware that lets the handlers undo a body's ``Content-Encoding`` into ``app``.

        The middleware comes after any added before: one of those that reads the body
        in its ``process_request`` reads it as it came.
        """
        handlers = self.media_handlers()
        app.req_options.media_handlers.update(handlers)
        app.resp_options.media_handlers.update(handlers)
        app.add_error_handler(NegotiateError, self.error_handler)
        app.add_middleware(_ContentCodings())

    def error_handler(
        self, req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
    ) -> None:
        """Answer a :class:`NegotiateError` in the agent shape (falcon's handler signature)."""
        assert isinstance(error, NegotiateError)  # registered for NegotiateError only
        answer = self.error(error, req.env.get("HTTP_ACCEPT"), req.method)
        resp.status = answer.status
        resp.data = answer.body
        for name, value in answer.headers:
            if name == "content-type":
                resp.content_type = value
            elif name != "content-length":  # falcon sets it from the body
                resp.append_header(name, value)


class MediaHandler(BaseHandler):
    """A falcon media handler for one media type, by the registry's codec for it.

    Without a decorated responder, values are plain data (no carrier): the body is
    held to ``Options.max_body``, its ``Content-Encoding`` undone (the middleware
    :func:`install` adds says which) and decoded without a schema; ``resp.media`` is
    encoded without one. Errors are :class:`NegotiateError` (the installed error
    handler answers them); an empty body is falcon's ``MediaNotFoundError``.

    Args:
        negotiate: the configuration it belongs to.
        codec: the codec.
        media_type: the media type it reads and writes.
    """

    def __init__(self, negotiate: Negotiate, codec: Codec, media_type: str) -> None:
        self.negotiate = negotiate
        self.codec = codec
        self.media_type = media_type

    def __repr__(self) -> str:
        return f"MediaHandler({self.media_type!r}, {type(self.codec).__name__})"

    def serialize(self, media: object, content_type: str) -> bytes:
        """``media`` (plain data) in this handler's format.

        Raises:
            EncodeError: the value cannot be written in this format.
        """
        return self.codec.encode(media, None)

    def deserialize(
        self, stream: Any, content_type: str | None, content_length: int | None
    ) -> object:
        """The request value: a decorated responder's carrier, else the body as plain data.

        Raises:
            NegotiateError: 413, 415, or the codec's 400.
            falcon.MediaNotFoundError: the body is empty.
        """
        decoded = _DECODED.get()
        if decoded is not None and decoded.stream is stream:
            return decoded.value
        limit = self.negotiate.options.max_body
        body: bytes = stream.read(limit + 1)
        if len(body) > limit:
            raise BodyTooLarge(f"Body of more than {limit} bytes is over the limit", limit=limit)
        coded = _CODED.get()
        if coded is not None and coded.stream is stream:
            if isinstance(coded.coding, NegotiateError):
                raise coded.coding
            body = decode_content(body, coded.coding, limit)
        if not body.strip():
            raise falcon.MediaNotFoundError(self.media_type)
        codec, parsed = self.negotiate.registry.for_content_type(content_type or self.media_type)
        return codec.decode(body, None, media_type=parsed)


def install(app: falcon.App[Any, Any], negotiate: Negotiate | None = None) -> Negotiate:
    """Install negotiate into a falcon app (see :meth:`Negotiate.install`).

    Args:
        app: the application.
        negotiate: the configuration (default: the default registry and options).

    Returns:
        The configuration installed.
    """
    found = negotiate if negotiate is not None else Negotiate()
    found.install(app)
    return found


@dataclass(slots=True)
class _Call:
    """A decorated responder's context in its pipeline."""

    responder: Responder
    resource: object
    req: falcon.Request
    resp: falcon.Response
    params: dict[str, Any]


def _respond(value: Any, call: _Call) -> Any:
    """The pipeline's handler: run the responder; its ``resp.media`` is the answer."""
    token = _DECODED.set(_Decoded(call.req.bounded_stream, value))
    try:
        call.responder(call.resource, call.req, call.resp, **call.params)
    finally:
        _DECODED.reset(token)
    media = call.resp.media
    call.resp.media = None
    return media


def negotiate_carrier(
    request: Schema | None,
    response: Schema | None,
    *,
    request_base: Callable[[_Call], Any] | None = None,
    response_base: Callable[[Any], Any] | None = None,
) -> Callable[[Responder], Responder]:
    """Decorate a responder (``on_post``...) so that its body and its answer are negotiated.

    The responder reads the request value with ``req.get_media()`` and sets
    ``resp.media`` to the response value, a normalised ``response`` carrier; it may
    raise any :class:`NegotiateError`. The app must have had :func:`install`.

    Args:
        request: the request body's carrier (``None``: plain data).
        response: the response carrier (``None``: plain data; no ``$select``).
        request_base: ``(call) -> value`` a patch body applies to; ``call.req``,
            ``call.params`` are the request and the URI fields. ``None``: the
            request carrier's default.
        response_base: ``(request value) -> value`` a patch-format answer is the
            diff from; ``None``: the response carrier's default.

    Returns:
        The decorator.

    Raises:
        RuntimeError: (at a request) the app has no negotiate media handlers.
    """

    def decorate(responder: Responder) -> Responder:
        # PERF: one pipeline per configuration (an app has one), built at its first request.
        pipelines: dict[Negotiate, Pipeline[_Call]] = {}

        def pipeline_for(negotiate: Negotiate) -> Pipeline[_Call]:
            found = pipelines.get(negotiate)
            if found is None:
                found = pipelines[negotiate] = negotiate.pipeline(
                    request, response, _respond, request_base, response_base
                )
            return found

        @functools.wraps(responder)
        def negotiated(
            resource: object, req: falcon.Request, resp: falcon.Response, **params: Any
        ) -> None:
            negotiate = _installed(req)
            pipeline = pipeline_for(negotiate)
            env = req.env
            plan, size, vary, coding = plan_environ(pipeline, env)
            req.context.negotiate = plan
            # NOTE: falcon's bounded_stream is empty without a Content-Length; a chunked
            # body (the server sets wsgi.input_terminated) is read from the raw stream.
            chunked = not env.get("CONTENT_LENGTH") and env.get("wsgi.input_terminated")
            body = (req.stream if chunked else req.bounded_stream).read(size)
            if coding is not None:
                body = decode_content(body, coding, pipeline.options.max_body)
            resp.data = pipeline.run(plan, body, _Call(responder, resource, req, resp, params))
            content_type, *headers = response_headers(plan, vary)
            resp.content_type = content_type[1]
            for name, value in headers:
                resp.append_header(name, value)

        return negotiated

    return decorate


def _installed(req: falcon.Request) -> Negotiate:
    """The configuration :func:`install` put into the request's app."""
    handlers = req.options.media_handlers
    # PERF: the JSON handler is the one to look at first (one lookup, not a scan).
    handler = handlers.get(MEDIA_JSON)
    if isinstance(handler, MediaHandler):
        return handler.negotiate
    for handler in handlers.values():
        if isinstance(handler, MediaHandler):
            return handler.negotiate
    raise RuntimeError(
        "negotiate_carrier needs the app's negotiate media handlers: call "
        "negotiate.integrations.falcon.install(app) first"
    )
