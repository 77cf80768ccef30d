"""What the framework integrations share, built on the core's public surface only.

- :func:`error_writer`: the core as the writer of error bodies (every integration);
- :class:`Settings`: the registry, options, resources and error writer an app's
  routes share (Flask's and Falcon's ``Negotiate``);
- :func:`plan_environ`: what a WSGI request's headers and query decide, before
  its body is read, as :meth:`negotiate.http.App.start` decides it (Flask, Falcon);
  :func:`environ_shaping` and :func:`environ_vary`: its shaping headers and the
  ``Vary`` they make (Django's ``request.META`` is such an environ too);
- :func:`response_headers` (and :func:`content_language`): the headers of a
  negotiated answer besides its length, as :meth:`negotiate.http.Exchange.finish`
  writes them;
- :func:`content_coding` and :func:`decode_content`: a request body's
  ``Content-Encoding``, refused (415) before the body is read and undone after,
  bounded by ``Options.max_body`` on the decoded size (413), as the core does
  (every integration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from negotiate.auth import ANONYMOUS
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.coding import decode_body, parse_content_encoding
from negotiate.errors import NegotiateError
from negotiate.http import (
    SHAPING_HEADERS,
    VARY,
    App,
    Response,
    body_too_large,
    check_content_length,
    parse_query,
    shaped_vary,
)
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Plan, Writer
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema

__all__ = [
    "Settings",
    "content_coding",
    "content_language",
    "decode_content",
    "environ_shaping",
    "environ_vary",
    "error_writer",
    "plan_environ",
    "response_headers",
]

C = TypeVar("C")

_ENVIRON_SHAPING = tuple(
    ("HTTP_" + name.upper().replace("-", "_"), name) for name in sorted(SHAPING_HEADERS)
)
"""(WSGI environ key, header name) of each shaping header."""
_ENVIRON_SHAPING_KEYS = frozenset(key for key, _ in _ENVIRON_SHAPING)


def error_writer(registry: CodecRegistry, options: Options = DEFAULT_OPTIONS) -> App:
    """An :class:`App` without operations: it writes error bodies exactly as the core does.

    Agent shape, the negotiated type (JSON as the fallback), ``Accept-Post`` on a 415.
    NOTE: without content codings: a framework compresses its responses its own way.
    """
    return App((), authenticator=ANONYMOUS, registry=registry, options=options, codings=False)


class Settings:
    """What an app's negotiated routes share: registry, options, resources, error writer.

    Args:
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry`
            with ``options``).
        options: the body limit and the codecs' policies.
        resources: the resource table shaping translates ``[SR_NAME]`` references with.
    """

    def __init__(
        self,
        *,
        registry: CodecRegistry | None = None,
        options: Options | None = None,
        resources: Resources = DEFAULT_RESOURCES,
    ) -> None:
        self.options = options if options is not None else DEFAULT_OPTIONS
        self.registry = registry if registry is not None else default_registry(self.options)
        self.resources = resources
        # NOTE: built once: the error writer is an App (its JSON codec, its Vary pair).
        self._errors = error_writer(self.registry, self.options)

    def pipeline(
        self,
        request: Schema | None,
        response: Schema | None,
        handler: Callable[[Any, C], Any],
        request_base: Callable[[C], Any] | None,
        response_base: Callable[[Any], Any] | None,
    ) -> Pipeline[C]:
        """A route's pipeline, with these settings."""
        return Pipeline(
            request,
            response,
            handler=handler,
            registry=self.registry,
            options=self.options,
            resources=self.resources,
            request_base=request_base,
            response_base=response_base,
        )

    def error(self, exc: NegotiateError, accept: str | None, method: str) -> Response:
        """The agent-shape answer to ``exc``, in the type ``accept`` prefers.

        Args:
            exc: the error.
            accept: the request's ``Accept`` header, or ``None``.
            method: the request method (a 415 on POST lists ``Accept-Post``).

        Returns:
            The core's error response (JSON when nothing acceptable can be written).
        """
        writer: Writer | None
        try:
            writer = self.registry.writer_for_accept(accept)
        except NegotiateError:
            writer = None
        return self._errors.error(exc, writer, method)


def environ_shaping(environ: Mapping[str, Any]) -> dict[str, str] | None:
    """The shaping headers of a WSGI environ by lower-case name, or ``None`` when none.

    What :meth:`~negotiate.pipeline.Pipeline.plan` takes as its ``headers``.
    """
    # PERF: most requests carry no shaping header: one set test against the environ.
    if _ENVIRON_SHAPING_KEYS.isdisjoint(environ):
        return None
    return {name: environ[key] for key, name in _ENVIRON_SHAPING if key in environ}


_SHAPED_VARY = shaped_vary(VARY)


def environ_vary(pipeline: Pipeline[Any]) -> tuple[str, str]:
    """The ``Vary`` pair of a route's answer: ``Accept`` and, for a route with a
    response carrier, the shaping headers (named whether or not they were sent).

    Args:
        pipeline: the route's pipeline (without a response carrier nothing is shaped).
    """
    return VARY if pipeline.response is None else _SHAPED_VARY


def content_coding(header: str | None) -> str | None:
    """The request's ``Content-Encoding`` when it names a coding to undo, checked.

    What :meth:`negotiate.http.App.start` decides before the body is read.

    Args:
        header: the ``Content-Encoding`` header, or ``None``.

    Returns:
        ``header`` when it names a coding; ``None`` when absent or ``identity``.

    Raises:
        UnsupportedMediaType: (415, located at ``Content-Encoding``) a coding this
            installation cannot read; its ``supported`` detail is what the error
            writer lists in ``Accept-Encoding``.
    """
    # PERF: no header (the usual request): one test; parse_content_encoding is memoised.
    if header is None or not parse_content_encoding(header):
        return None
    return header


def decode_content(body: bytes, coding: str | None, limit: int) -> bytes:
    """``body`` with its content coding undone, as :meth:`negotiate.http.Exchange.finish` does.

    Args:
        body: the body as received (read to at most ``limit`` + 1 bytes).
        coding: what :func:`content_coding` returned (``None``: ``body`` as it is).
        limit: ``Options.max_body``, for the bytes received and the decoded ones.

    Returns:
        The decoded body (stacked codings undone in reverse order).

    Raises:
        BodyTooLarge: (413) more than ``limit`` bytes received, or decoded (a bomb
            is stopped within one chunk of the limit).
        MalformedBody: (400) corrupt, truncated or trailing coded data.
    """
    if coding is None:
        return body
    if len(body) > limit:
        raise body_too_large(limit)
    return decode_body(body, coding, limit)


def plan_environ(
    pipeline: Pipeline[Any], environ: Mapping[str, Any]
) -> tuple[Plan, int, tuple[str, str], str | None]:
    """What a WSGI request's headers and query decide, resolved before its body is read.

    In the core's order: ``Accept`` (406), ``Content-Length`` (400, 413),
    ``Content-Encoding`` (415), the query string (400); then the pipeline's plan
    (memoised: the usual request builds none).

    Args:
        pipeline: the route's pipeline.
        environ: the WSGI environ.

    Returns:
        ``(plan, size, vary, coding)``: the plan; how many bytes of the body to
        read (its ``Content-Length``, else one past the limit, so that the decode
        step refuses an over-long body without reading all of it); the ``Vary``
        pair (the shaping headers named for a route with a response carrier, as
        the core names them); the content coding to undo (for :func:`decode_content`).

    Raises:
        NegotiateError: 406, 400, 413 or 415.
    """
    writer = pipeline.registry.writer_for_accept(environ.get("HTTP_ACCEPT"))
    limit = pipeline.options.max_body
    length = environ.get("CONTENT_LENGTH")
    if length:
        check_content_length(length, limit)
        size = int(length)
    else:
        size = limit + 1
    coding = environ.get("HTTP_CONTENT_ENCODING")
    if coding is not None:  # PERF: the usual request has none: no call
        coding = content_coding(coding)
    query = environ.get("QUERY_STRING")
    select = parse_query(query).get("$select") if query else None
    shaping = environ_shaping(environ)
    content_type = environ.get("CONTENT_TYPE") or None
    plan = pipeline.plan(writer, content_type, select=select, headers=shaping)
    return plan, size, environ_vary(pipeline), coding


def content_language(plan: Plan) -> str | None:
    """The ``Content-Language`` of a planned answer: the language shaping translated to."""
    shaping = plan.shaping
    if shaping is None or isinstance(shaping, NegotiateError):
        return None
    return shaping.content_language


def response_headers(plan: Plan, vary: tuple[str, str]) -> list[tuple[str, str]]:
    """``Content-Type``, ``Vary`` and (when shaping translated) ``Content-Language``.

    Args:
        plan: the request's plan (its writer and shaping).
        vary: the ``Vary`` pair.

    Returns:
        ``(name, value)`` pairs, names lower case, as the core writes them.
    """
    headers = [plan.writer.header, vary]
    language = content_language(plan)
    if language is not None:
        headers.append(("content-language", language))
    return headers
