"""Flask: an extension whose route decorator negotiates a view's body and answer.

::

    negotiate = Negotiate(app)            # or Negotiate(), then negotiate.init_app(app)

    @app.post("/api/v1/Agents/Contact/EnrichContactEntity")
    @negotiate.route(request=get_schema("EnrichContactEntityRequest"),
                     response=get_schema("ContactEntity"))
    def enrich(value):                    # the decoded, normalised request carrier
        return enrich_contact(...)        # a normalised response carrier

A decorated view is one :class:`~negotiate.pipeline.Pipeline`, built when it is
decorated: the body is read in any registered Content-Type (415 otherwise; an
empty body is the carrier's default) and passed as the view's first argument
(URL variables follow as keywords); the view's result is projected by
``$select``, shaped by the ``SO-*`` headers and written in the type ``Accept``
prefers (q-values, RFC 9110), with ``Content-Type`` (charset) and ``Vary:
Accept``, exactly as :class:`negotiate.http.App` answers.

:meth:`Negotiate.init_app` stores the extension in ``app.extensions["negotiate"]``
and registers an error handler: a :class:`~negotiate.errors.NegotiateError`
raised in any view (a decorated one's 400/406/413/415, or one a view raises
itself) is answered in the agent shape, ``{"Message", "MessageDetail",
"Status", "Location"}``, in the negotiated type (JSON when none is acceptable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

try:
    import flask
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "negotiate.integrations.flask needs Flask: pip install 'negotiate[flask]'"
    ) from exc

from negotiate.codecs import CodecRegistry, default_registry
from negotiate.errors import NegotiateError
from negotiate.http import SHAPING_HEADERS, VARY, Headers, check_content_length, parse_query
from negotiate.integrations._common import error_writer
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Writer
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema

__all__ = ["EXTENSION", "Negotiate"]

EXTENSION = "negotiate"
"""The key of the extension in ``app.extensions``."""

_SHAPING_KEYS = frozenset("HTTP_" + name.upper().replace("-", "_") for name in SHAPING_HEADERS)
"""The WSGI environ keys of the shaping headers."""

View = Callable[..., Any]
URLValues = dict[str, Any]
"""A decorated view's context in its pipeline: the URL variables Flask passes it."""


class Negotiate:
    """The Flask extension: a registry, options and resources shared by its routes.

    Args:
        app: the application to set up now (else call :meth:`init_app`).
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry`
            with ``options``).
        options: the body limit and the codecs' policies.
        resources: the resource table shaping translates ``[SR_NAME]`` references with.
    """

    def __init__(
        self,
        app: flask.Flask | None = None,
        *,
        registry: CodecRegistry | None = None,
        options: Options | None = None,
        resources: Resources = DEFAULT_RESOURCES,
    ) -> None:
        self.options = options if options is not None else DEFAULT_OPTIONS
        self.registry = registry if registry is not None else default_registry(self.options)
        self.resources = resources
        # NOTE: the core writes error bodies (agent shape, JSON fallback, Accept-Post);
        # an App without operations is that writer, with this registry.
        self._core = error_writer(self.registry, self.options)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Register the extension and its :class:`NegotiateError` handler on ``app``."""
        app.extensions[EXTENSION] = self
        app.register_error_handler(NegotiateError, self.error_response)

    def route(
        self,
        request: Schema | None,
        response: Schema | None,
        *,
        request_base: Callable[[URLValues], Any] | None = None,
        response_base: Callable[[Any], Any] | None = None,
    ) -> Callable[[View], Callable[..., flask.Response]]:
        """Decorate a view so that its body and its answer are negotiated.

        Put it under ``@app.route`` (or ``@app.post``). The view is called as
        ``view(value, **url_values)`` and returns the response value, a normalised
        ``response`` carrier; it may raise any :class:`NegotiateError`.

        Args:
            request: the request body's carrier (``None``: plain data).
            response: the response carrier (``None``: plain data; no ``$select``).
            request_base: ``(url values) -> value`` a patch body applies to (a stored
                entity, say); ``None``: the request carrier's default.
            response_base: ``(request value) -> value`` a patch-format answer is the
                diff from; ``None``: the response carrier's default.

        Returns:
            The decorator.
        """

        def decorate(view: View) -> Callable[..., flask.Response]:
            def handle(value: Any, url_values: URLValues) -> Any:
                return view(value, **url_values)

            pipeline: Pipeline[URLValues] = Pipeline(
                request,
                response,
                handler=handle,
                registry=self.registry,
                options=self.options,
                resources=self.resources,
                request_base=request_base,
                response_base=response_base,
            )

            @functools.wraps(view)
            def negotiated(**url_values: Any) -> flask.Response:
                return self._answer(pipeline, url_values)

            return negotiated

        return decorate

    def _answer(self, pipeline: Pipeline[URLValues], url_values: URLValues) -> flask.Response:
        request = flask.request
        environ = request.environ
        writer = self.registry.writer_for_accept(environ.get("HTTP_ACCEPT"))
        limit = self.options.max_body
        length = environ.get("CONTENT_LENGTH")
        if length:
            check_content_length(length, limit)  # refused before the body is read, as the core does
        query = parse_query(environ.get("QUERY_STRING", ""))
        # PERF: the request's headers are gathered only when a shaping header is among them.
        shaped = not _SHAPING_KEYS.isdisjoint(environ)
        plan = pipeline.plan(
            writer,
            environ.get("CONTENT_TYPE"),
            select=query.get("$select") if query else None,
            headers=Headers(request.headers.items()) if shaped else None,
        )
        # NOTE: one byte past the limit is enough for the decode step to refuse a body
        # that came without a Content-Length (chunked), without reading all of it.
        body = request.stream.read(limit + 1)
        out = pipeline.run(plan, body, url_values)
        return flask.current_app.response_class(out, 200, [writer.header, VARY])

    def error_response(self, exc: NegotiateError) -> flask.Response:
        """The agent-shape answer to ``exc``, in the type the request's Accept prefers.

        Args:
            exc: the error a view raised.

        Returns:
            The response (JSON when nothing acceptable can be written).
        """
        request = flask.request
        writer: Writer | None
        try:
            writer = self.registry.writer_for_accept(request.headers.get("Accept"))
        except NegotiateError:
            writer = None
        answer = self._core.error(exc, writer, request.method)
        return flask.current_app.response_class(answer.body, answer.status, answer.headers)
