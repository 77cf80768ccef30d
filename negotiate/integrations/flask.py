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
prefers (q-values, RFC 9110), with ``Content-Type`` (charset), ``Vary`` (``Accept``
and the shaping headers) and ``Content-Language`` (when shaping
translated), exactly as :class:`negotiate.http.App` answers without codings
(a compression middleware adds ``Accept-Encoding``). A body's
``Content-Encoding`` is undone as the core undoes it (415 for an unknown
coding, with ``Accept-Encoding``; 413 past ``Options.max_body`` decoded).

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

from negotiate.codecs import CodecRegistry
from negotiate.errors import NegotiateError
from negotiate.integrations._common import (
    Settings,
    decode_content,
    plan_environ,
    response_headers,
)
from negotiate.options import Options
from negotiate.pipeline import Pipeline
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema

__all__ = ["EXTENSION", "Negotiate"]

EXTENSION = "negotiate"
"""The key of the extension in ``app.extensions``."""

View = Callable[..., Any]
URLValues = dict[str, Any]
"""A decorated view's context in its pipeline: the URL variables Flask passes it."""


class Negotiate(Settings):
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
        super().__init__(registry=registry, options=options, resources=resources)
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

            pipeline = self.pipeline(request, response, handle, request_base, response_base)

            @functools.wraps(view)
            def negotiated(**url_values: Any) -> flask.Response:
                return self._answer(pipeline, url_values)

            return negotiated

        return decorate

    def _answer(self, pipeline: Pipeline[URLValues], url_values: URLValues) -> flask.Response:
        request = flask.request
        plan, size, vary, coding = plan_environ(pipeline, request.environ)
        # NOTE: werkzeug's stream ends at the Content-Length (checked against the limit
        # by plan_environ) or, for a chunked body, where the server says it ends.
        body = request.stream.read(size)
        if coding is not None:
            body = decode_content(body, coding, pipeline.options.max_body)
        out = pipeline.run(plan, body, url_values)
        return flask.current_app.response_class(out, 200, response_headers(plan, vary))

    def error_response(self, exc: NegotiateError) -> flask.Response:
        """The agent-shape answer to ``exc``, in the type the request's Accept prefers.

        Args:
            exc: the error a view raised.

        Returns:
            The response (JSON when nothing acceptable can be written).
        """
        request = flask.request
        answer = self.error(exc, request.environ.get("HTTP_ACCEPT"), request.method)
        return flask.current_app.response_class(answer.body, answer.status, answer.headers)
