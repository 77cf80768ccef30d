"""FastAPI and Starlette: a route reads every registered Content-Type and answers in Accept's.

``pip install 'negotiate[fastapi]'``. Only Starlette is imported, so a plain
Starlette application uses the same pieces:

- :class:`Negotiation`: one route's carriers, codecs and limits, built once.
  :meth:`Negotiation.body` is the body dependency (``Depends(negotiation.body)``
  in FastAPI, ``await negotiation.body(request)`` in Starlette): it negotiates
  ``Accept`` (406), holds the body to ``Options.max_body`` (413), undoes its
  ``Content-Encoding`` in the thread pool as the core does (415 with
  ``Accept-Encoding`` for an unknown coding; 413 past ``max_body`` decoded), decodes it by
  its Content-Type into a normalised request carrier (415, 400 with a
  location, 409, 422) and compiles ``$select`` (400), all before the endpoint
  runs. :meth:`Negotiation.negotiate` does the same for a route without a body.
  :meth:`Negotiation.openapi` is the route's ``openapi_extra``: every request and
  response media type with the carrier's schema, ``$select`` and the ``SO-*``
  headers as parameters, the error responses in the agent shape.
- :class:`NegotiatedResponse`: the answer. Its body is written when it is sent,
  from the request the dependency planned: ``$select``, then the ``SO-*``
  shaping, then the negotiated codec, with ``Content-Type``, ``Vary`` (``Accept``
  and the shaping headers, as the core names them; a compression middleware
  adds ``Accept-Encoding``) and ``Content-Language`` when shaping translated.
- :func:`install`: the :class:`~negotiate.errors.NegotiateError` handler (the
  agent shape ``{"Message", "MessageDetail", "Status", "Location"}`` in the
  negotiated type, JSON for a patch type or when nothing was negotiated), and,
  on a FastAPI application, the carriers' schemas in ``components``.

Everything a request's headers and query decide is the route's
:class:`~negotiate.pipeline.Pipeline` plan; errors are written by
:meth:`negotiate.http.App.error`. This module only moves them between Starlette's
request and response and the request's ``scope["state"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from negotiate.asgi import raw_headers
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.errors import NegotiateError, excerpt
from negotiate.http import (
    VARY,
    Headers,
    body_too_large,
    check_content_length,
    log_error,
    parse_query,
    shaped_vary,
    shaping_headers,
)
from negotiate.integrations._common import content_coding, decode_content, error_writer
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Plan, Writer, snapshot
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema
from negotiate.schema.export import openapi_components
from negotiate.schema.export.openapi import (
    AGENT_ERROR,
    JSON_PATCH,
    add_components,
    agent_error_schema,
    body_schema,
    json_patch_schema,
    schema_ref,
    select_parameter,
    shaping_parameters,
)
from negotiate.shaping import TIME_ZONES

try:
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "negotiate.integrations.fastapi needs Starlette (FastAPI's core): "
        "pip install 'negotiate[fastapi]'"
    ) from exc

__all__ = [
    "OFFLOAD_ABOVE",
    "Negotiation",
    "NegotiatedResponse",
    "OpenAPIExtra",
    "exception_handler",
    "install",
]

_SHAPED_VARY: Final = shaped_vary(VARY)
"""The ``Vary`` of a route with a response carrier (see :func:`negotiate.http.shaped_vary`)."""

log = logging.getLogger("negotiate.integrations.fastapi")

OFFLOAD_ABOVE: Final = 64 * 1024
"""Bodies larger than this many bytes are decoded and encoded in Starlette's thread pool."""

_STATE: Final = "negotiate"
"""The key of a request's :class:`_Exchange` in ``scope["state"]``."""


@dataclass(slots=True)
class _Exchange:
    """One request's negotiation, kept in ``scope["state"]`` from the dependency to the answer."""

    negotiation: Negotiation
    writer: Writer
    plan: Plan | None = None
    base: Any = None
    large: bool = False
    vary: tuple[str, str] = VARY
    coding: str | None = None  # the body's Content-Encoding, when it names a coding


class Negotiation:
    """One route's negotiation: its carriers, codecs and limits, built once per route.

    Args:
        request: the request body's carrier (``None``: plain data).
        response: the response carrier (``None``: plain data; no ``$select``, no shaping).
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry` with
            ``options``).
        options: the body limit and the default registry's policy.
        resources: the resource table shaping translates ``[SR_NAME]`` references with.
        request_base: ``(request) -> value`` a patch body applies to (a stored entity,
            found from ``request.path_params``, say); ``None``: the carrier's default.
        response_base: ``(request value) -> value`` a patch-format answer is the diff
            from; ``None``: the response carrier's default.
        offload_above: bodies of more bytes than this are decoded and encoded in the
            thread pool, not on the event loop.
    """

    def __init__(
        self,
        request: Schema | None,
        response: Schema | None,
        *,
        registry: CodecRegistry | None = None,
        options: Options = DEFAULT_OPTIONS,
        resources: Resources = DEFAULT_RESOURCES,
        request_base: Callable[[Request], Any] | None = None,
        response_base: Callable[[Any], Any] | None = None,
        offload_above: int = OFFLOAD_ABOVE,
    ) -> None:
        self.registry = registry if registry is not None else default_registry(options)
        self.options = options
        self.response_base = response_base
        self.offload_above = offload_above
        self.pipeline: Pipeline[Request] = Pipeline(
            request,
            response,
            registry=self.registry,
            options=options,
            resources=resources,
            request_base=request_base,
        )
        # NOTE: an App without routes is the error writer: the agent shape, the
        # negotiated codec or JSON, Accept-Post on a 415, exactly as the core answers.
        self.errors = error_writer(self.registry, options)

    @property
    def request(self) -> Schema | None:
        """The request body's carrier."""
        return self.pipeline.request

    @property
    def response(self) -> Schema | None:
        """The response carrier."""
        return self.pipeline.response

    def __repr__(self) -> str:
        request = self.request.name if self.request is not None else None
        response = self.response.name if self.response is not None else None
        return f"Negotiation({request} -> {response})"

    # -- the dependencies ----------------------------------------------------------

    async def body(self, request: Request) -> Any:
        """The request body as a normalised request carrier: the body dependency.

        Args:
            request: the Starlette request.

        Returns:
            The decoded value (an empty body: the carrier's default).

        Raises:
            NegotiateError: 406 (``Accept``), 413, 415, 400 (the body, with its
                location, or ``$select``), 409 or 422 (a patch), raised before the
                endpoint runs; :func:`install` answers them.
        """
        exchange = self._start(request.scope)
        plan = exchange.plan
        assert plan is not None
        limit = self.options.max_body
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise body_too_large(limit)
                chunks.append(chunk)
        # PERF: Starlette ends the stream with an empty chunk; a one-message body is
        # then taken as it is, without a join.
        raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if exchange.coding is not None:
            # NOTE: always in the pool: a few coded bytes may decode to max_body.
            raw = await run_in_threadpool(decode_content, raw, exchange.coding, limit)
        pipeline = self.pipeline
        if len(raw) > self.offload_above:
            exchange.large = True
            value = await run_in_threadpool(pipeline.decode, plan, raw, request)
        else:
            value = pipeline.decode(plan, raw, request)
        if exchange.writer.is_patch and self.response_base is not None:
            # NOTE: snapshot now: the endpoint may change the request value in place.
            exchange.base = snapshot(self.response_base(value))
        if isinstance(plan.projector, NegotiateError):
            raise plan.projector  # the body's fault first, then $select's, as the core
        return value

    async def negotiate(self, request: Request) -> Plan:
        """Negotiate a route without a body: the dependency for ``GET`` and the like.

        Returns:
            The request's plan (the writer, the ``$select`` projector, the shaping).

        Raises:
            NegotiateError: 406 (``Accept``) or 400 (``$select``).
        """
        plan = self._plan(request.scope).plan
        assert plan is not None
        if isinstance(plan.projector, NegotiateError):
            raise plan.projector
        return plan

    def _start(self, scope: Scope) -> _Exchange:
        """Negotiate, check ``Content-Length`` (413 before the body is read) and
        ``Content-Encoding`` (415), plan."""
        headers = Headers.from_asgi(scope["headers"])
        writer = self.registry.writer_for_accept(headers.get("accept"))
        # NOTE: kept in the state at once, so that the errors that follow (this one's
        # 413 included) are written in the negotiated type.
        exchange = _Exchange(self, writer)
        scope.setdefault("state", {})[_STATE] = exchange
        length = headers.get("content-length")
        if length is not None:
            check_content_length(length, self.options.max_body)
        coding = headers.get("content-encoding")
        if coding is not None:  # PERF: the usual request has none: no call
            exchange.coding = content_coding(coding)
        return self._planned(exchange, scope, headers)

    def _plan(self, scope: Scope, writer: Writer | None = None) -> _Exchange:
        """Negotiate (unless ``writer`` is known) and plan, for a request without a body."""
        headers = Headers.from_asgi(scope["headers"])
        if writer is None:
            writer = self.registry.writer_for_accept(headers.get("accept"))
        exchange = _Exchange(self, writer)
        scope.setdefault("state", {})[_STATE] = exchange
        return self._planned(exchange, scope, headers)

    def _planned(self, exchange: _Exchange, scope: Scope, headers: Headers) -> _Exchange:
        query_string = scope.get("query_string", b"")
        query = parse_query(query_string) if query_string else None
        shaping = shaping_headers(headers)
        if self.pipeline.response is not None:
            exchange.vary = _SHAPED_VARY
        exchange.plan = self.pipeline.plan(
            exchange.writer,
            headers.get("content-type"),
            select=query.get("$select") if query else None,
            headers=shaping,
        )
        return exchange

    # -- the answer ----------------------------------------------------------------

    def _encode(self, exchange: _Exchange, value: Any) -> bytes:
        """Project, shape and encode ``value`` as the request's plan says."""
        plan = exchange.plan
        assert plan is not None
        projector = plan.projector
        if isinstance(projector, NegotiateError):
            raise projector
        if projector is not None:
            value = projector.apply(value)
        schema = self.pipeline.response
        shaping = plan.shaping
        if shaping is not None and schema is not None:
            if isinstance(shaping, NegotiateError):
                raise shaping
            value = shaping.apply(schema, value)
        base = exchange.base
        if exchange.writer.is_patch and base is None and schema is not None:
            base = schema.default()
        return self.pipeline.encode(exchange.writer, value, base)

    # -- OpenAPI -------------------------------------------------------------------

    def openapi(self, *, body: bool = True) -> OpenAPIExtra:
        """The route's ``openapi_extra``: media types, schemas, parameters, errors.

        The carriers' schemas are referred to as ``#/components/schemas/<Name>``;
        :func:`install` puts them into the application's document.

        Args:
            body: whether the route reads a body (``False`` for one that depends on
                :meth:`negotiate` only: no request body, no body errors).

        Returns:
            A dict for ``@app.post(..., openapi_extra=negotiation.openapi())``.

        Raises:
            ValueError: the request and response carriers' graphs hold two
                different carriers of one name.
        """
        registry = self.registry
        request = self.request if body else None
        response = self.response
        components: dict[str, Any] = {AGENT_ERROR: agent_error_schema()}
        for schema in (request, response):
            if schema is not None:
                add_components(components, openapi_components(schema)["schemas"])
        if any(_is_patch(registry, t) for t in (*registry.request_types, *registry.response_types)):
            components[JSON_PATCH] = json_patch_schema()
        extra = OpenAPIExtra(components)
        error = {"schema": schema_ref(AGENT_ERROR)}
        # NOTE: an error is written in the negotiated type, or in JSON for a patch type.
        error_content = {t: error for t in registry.response_types if not _is_patch(registry, t)}
        errors = {
            "406": "No acceptable response type (the body lists the supported ones)",
            "413": f"The body is over the limit of {self.options.max_body} bytes",
        }
        if request is not None:
            extra["requestBody"] = {
                "description": f"The {request.name}, in any of these types; a patch type "
                "applies to the route's base (the carrier's default without one)",
                "content": {
                    t: {"schema": _body_schema(registry, t, request)}
                    for t in registry.request_types
                },
            }
            errors["400"] = "A malformed body or value (Location names it), or a bad $select"
            errors["409"] = "A JSON Patch test operation failed"
            errors["415"] = "Unsupported Content-Type or charset (the body lists the supported)"
            errors["422"] = "A patch applied, but its result does not fit the carrier"
        if response is not None:
            extra["parameters"] = [select_parameter(response), *shaping_parameters(TIME_ZONES)]
            errors.setdefault("400", "A bad $select or SO-* header (Location names it)")
            described = f"The {response.name}, in the type Accept asks for"
        else:
            described = "The answer, in the type Accept asks for"
        ok = {
            "description": described,
            "headers": {
                "Vary": {
                    "schema": {"type": "string"},
                    "description": "Accept, SO-TimeZone, SO-Language, Accept-Language",
                }
            },
            "content": {
                t: {"schema": _body_schema(registry, t, response)} for t in registry.response_types
            },
        }
        extra["responses"] = {
            "200": ok,
            **{
                status: {"description": text, "content": error_content}
                for status, text in sorted(errors.items())
            },
        }
        return extra


class OpenAPIExtra(dict[str, Any]):
    """A route's ``openapi_extra`` from :meth:`Negotiation.openapi`, knowing its components.

    Attributes:
        components: the schemas it refers to, by name (for ``components.schemas``).
    """

    def __init__(self, components: dict[str, Any]) -> None:
        super().__init__()
        self.components = components


class NegotiatedResponse(Response):
    """A carrier, written when sent in the negotiated type, after ``$select`` and shaping.

    Return it from the endpoint (``return NegotiatedResponse(contact)``), or name it
    as the route's ``response_class`` and return the carrier. The request's
    negotiation is the one its dependency (:meth:`Negotiation.body` or
    :meth:`Negotiation.negotiate`) kept; ``negotiation`` overrides it, and without
    either the value is plain data (the format is negotiated, ``$select`` refused).
    The body is written in :meth:`__call__`, where the request is known: ``body``
    is empty until then.

    Args:
        content: a normalised response carrier (the contract of every handler).
        status_code: the status of the answer.
        headers: more headers (``Content-Type`` and ``Content-Length`` are replaced).
        media_type: ignored (the negotiated type is written); FastAPI passes it.
        background: a task to run after the response is sent.
        negotiation: the negotiation to write with.
    """

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        *,
        negotiation: Negotiation | None = None,
    ) -> None:
        self.value = content
        self.status_code = status_code
        self.background = background
        self.negotiation = negotiation
        self.body = b""
        # NOTE: the negotiated headers are added when the body is written; until then the
        # raw list holds only the caller's (FastAPI appends a dependency's to it).
        self.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (headers or {}).items()
            if name.lower() not in ("content-type", "content-length")
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Write the body in the negotiated type, then send the response."""
        state = scope.get("state")
        exchange: _Exchange | None = state.get(_STATE) if state is not None else None
        negotiation = self.negotiation
        if negotiation is None:
            negotiation = exchange.negotiation if exchange is not None else _PLAIN
        if exchange is None or exchange.negotiation is not negotiation:
            writer = exchange.writer if exchange is not None else None
            exchange = negotiation._plan(scope, writer)
        status = self.status_code
        pairs: list[tuple[str, str]] = []
        if status < 200 or status in (204, 304):
            self.body = b""  # no body, no Content-Length (RFC 9110 §8.6), whatever was returned
        else:
            if exchange.large:
                body = await run_in_threadpool(negotiation._encode, exchange, self.value)
            else:
                body = negotiation._encode(exchange, self.value)
            self.body = body
            pairs += (exchange.writer.header, ("content-length", str(len(body))))
            shaping = exchange.plan.shaping if exchange.plan is not None else None
            if shaping is not None and not isinstance(shaping, NegotiateError):
                language = shaping.content_language
                if language is not None:
                    pairs.append(("content-language", language))
        raw = self.raw_headers
        vary = exchange.vary
        for index, (name, value) in enumerate(raw):
            if name == b"vary":
                # NOTE: merged rather than repeated: a Vary the endpoint set keeps its names.
                names = value.decode("latin-1")
                have = {n.strip().lower() for n in names.split(",")}
                more = [n for n in vary[1].split(", ") if n.lower() not in have]
                if more:
                    raw[index] = (b"vary", ", ".join((names, *more)).encode("latin-1"))
                break
        else:
            pairs.append(vary)
        raw.extend(raw_headers(pairs))
        await super().__call__(scope, receive, send)


_PLAIN = Negotiation(None, None)
"""The negotiation of a :class:`NegotiatedResponse` that no dependency planned."""


# -- errors --------------------------------------------------------------------------


async def exception_handler(request: Request, exc: Exception) -> Response:
    """The answer to a :class:`~negotiate.errors.NegotiateError`, in the agent shape.

    Register it with ``app.add_exception_handler(NegotiateError, exception_handler)``
    (what :func:`install` does) or Starlette's ``exception_handlers=``. The body is
    written by the codec the request's negotiation chose, in JSON when the type is
    a patch or nothing was negotiated (a 406, or an error before any dependency ran
    under an unsatisfiable ``Accept``).

    Args:
        request: the request.
        exc: the error (another exception is answered as a 500 without its text).

    Returns:
        The error response: ``Content-Type``, ``Content-Length``, ``Vary: Accept``,
        and ``Allow`` / ``WWW-Authenticate`` / ``Accept-Post`` where the status has one.
    """
    if not isinstance(exc, NegotiateError):  # registered for more than NegotiateError
        log.error("unhandled error in %s", excerpt(request.scope.get("path", "")), exc_info=exc)
        exc = NegotiateError("An unexpected error occurred; see the server log")
    else:
        log_error(exc, request.method, request.scope.get("path", ""))
    state = request.scope.get("state")
    exchange: _Exchange | None = state.get(_STATE) if state is not None else None
    writer: Writer | None
    if exchange is not None:
        negotiation, writer = exchange.negotiation, exchange.writer
    else:
        negotiation = _PLAIN
        try:
            writer = negotiation.registry.writer_for_accept(request.headers.get("accept"))
        except NegotiateError:
            writer = None
    answer = negotiation.errors.error(exc, writer, request.method)
    response = Response(answer.body, status_code=answer.status)
    response.raw_headers = raw_headers(answer.headers)
    return response


def install(app: Starlette) -> None:
    """Answer negotiate's errors in the agent shape; document the routes' carriers.

    Registers :func:`exception_handler` for :class:`~negotiate.errors.NegotiateError`.
    On a FastAPI application (one with ``openapi()``), the generated document's
    ``components.schemas`` also gets every schema that a route's
    :meth:`Negotiation.openapi` refers to.

    Args:
        app: a FastAPI or Starlette application.

    Raises:
        ValueError: (from ``app.openapi()``) two routes' carriers of the same name
            differ.
    """
    app.add_exception_handler(NegotiateError, exception_handler)
    generate = getattr(app, "openapi", None)
    if not callable(generate):
        return

    def openapi() -> dict[str, Any]:
        cached: dict[str, Any] | None = getattr(app, "openapi_schema", None)
        if cached is not None:
            return cached
        document: dict[str, Any] = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for route in app.routes:
            extra = getattr(route, "openapi_extra", None)
            if not isinstance(extra, OpenAPIExtra):
                continue
            add_components(schemas, extra.components)
        return document

    # NOTE: FastAPI's documented way to extend the document: replace app.openapi. Its
    # own result is cached in app.openapi_schema, which is the dict completed here.
    setattr(app, "openapi", openapi)  # noqa: B010 - mypy refuses assigning to a method


# -- OpenAPI pieces --------------------------------------------------------------------


def _is_patch(registry: CodecRegistry, media_type: str) -> bool:
    return bool(getattr(registry.codec(media_type), "is_patch", False))


def _body_schema(registry: CodecRegistry, media_type: str, schema: Schema | None) -> dict[str, Any]:
    """The schema of a body of ``media_type`` carrying ``schema``."""
    return body_schema(media_type, schema, patch=_is_patch(registry, media_type))
