"""The application: App (routing, start, error responses).

Part of :mod:`negotiate.http` (see its docstring); the request in flight, which
:meth:`App.start` returns, is :class:`~negotiate.http.exchange.Exchange`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from negotiate import coding as _coding
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.codecs.base import Codec
from negotiate.errors import (
    MethodNotAllowed,
    NegotiateError,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.http.errors import _CHALLENGE, _bounded, _json_error, _Logged, log, log_error
from negotiate.http.exchange import (
    _MIN_ENCODE_SIZE,
    _VARY_CODED,
    VARY,
    Exchange,
    _accept_encoding,
    shaped_vary,
)
from negotiate.http.headers import Headers, shaping_headers
from negotiate.http.messages import (
    _EMPTY_QUERY,
    Context,
    Operation,
    Response,
    check_content_length,
    parse_query,
    raw_pair,
)
from negotiate.media import CODING_IDENTITY, MEDIA_JSON, canonical_coding
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Plan, Writer
from negotiate.resources import DEFAULT_RESOURCES, Resources

if TYPE_CHECKING:
    from negotiate.auth import Authenticator, Principal

__all__ = ["App"]

_MEMO_LIMIT = 256
_FIXED = frozenset({"registry", "options", "resources"})  # see App.__setattr__
# (method, path, Accept, Content-Type) -> (operation, pipeline, plan): see App.start.
_UsualKey = tuple[str, str, str | None, str | None]
_Usual = tuple[Operation, "Pipeline[Context]", Plan]


class App:
    """A set of operations behind content negotiation, auth and limits.

    Args:
        operations: the endpoints.
        authenticator: who may call; pass :data:`negotiate.auth.ANONYMOUS` to
            allow everyone (deliberately not a default).
        registry: the codecs (default: :func:`negotiate.codecs.default_registry`
            with ``options``); every codec in it is reachable.
        options: limits and the unknown-property policy; ``max_body`` is
            enforced before a body is read.
        resources: the resource table response shaping translates ``[SR_NAME]``
            references with (``SO-Language``, ``Accept-Language``).
        codings: the content codings responses may be compressed with, preferred
            first: ``True`` (every one installed,
            :func:`negotiate.coding.available_codings`), ``False`` or ``()``
            (none: no ``Content-Encoding``, no ``Accept-Encoding`` in ``Vary``;
            for a server or middleware that compresses itself), or names
            (``("gzip",)``).

    ``registry``, ``options`` and ``resources`` are fixed once the App is built (each
    operation's pipeline is built with them): setting one raises ``AttributeError``;
    build another App instead. ``authenticator`` may be replaced at any time.

    Raises:
        ValueError: two operations share a path and method, or ``codings`` names
            an unknown coding.
        ImportError: ``codings`` names ``br`` or ``zstd`` without its package.
    """

    def __init__(
        self,
        operations: Iterable[Operation],
        *,
        authenticator: Authenticator,
        registry: CodecRegistry | None = None,
        options: Options = DEFAULT_OPTIONS,
        resources: Resources = DEFAULT_RESOURCES,
        codings: bool | Iterable[str] = True,
    ) -> None:
        self.options = options
        self.codings: tuple[str, ...] = _response_codings(codings)
        """The codings responses may be compressed with, preferred first."""
        self._vary = _VARY_CODED if self.codings else VARY
        self._shaped_vary = shaped_vary(self._vary)
        self._raw_vary = raw_pair(self._vary)
        self._raw_shaped_vary = raw_pair(self._shaped_vary)
        self.registry = registry if registry is not None else default_registry(options)
        self.authenticator = authenticator
        self.resources = resources
        # NOTE: each operation's pipeline is built here, once, with the registry, the
        # options and the resources given here.
        self._routes: dict[str, dict[str, tuple[Operation, Pipeline[Context]]]] = {}
        for op in operations:
            methods = self._routes.setdefault(_route_key(op.path), {})
            method = op.method.upper()
            if method in methods:
                raise ValueError(f"two operations for {method} {op.path}")
            methods[method] = (op, self._pipeline(op))
        # PERF: the path as a client sends it -> its methods; most clients send the
        # registered spelling, so the case fold and slash strip run once per spelling.
        self._paths: dict[str, dict[str, tuple[Operation, Pipeline[Context]]]] = {}
        self._usual: dict[_UsualKey, _Usual] = {}
        self._generation = self.registry.generation
        try:
            self._json: Codec | None = self.registry.codec(MEDIA_JSON)
        except NegotiateError:
            self._json = None

    def _pipeline(self, op: Operation) -> Pipeline[Context]:
        return Pipeline(
            op.request,
            op.response,
            handler=op.handler,
            registry=self.registry,
            options=self.options,
            resources=self.resources,
            request_base=op.request_base,
            response_base=op.response_base,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        # NOTE: a registry, options or resources set after construction would reach
        # some steps of a request and not others (the pipelines keep the first ones).
        if name in _FIXED and name in self.__dict__:
            raise AttributeError(
                f"App.{name} is fixed once the App is built (its operations' pipelines "
                f"use it); build a new App with another {name}"
            )
        object.__setattr__(self, name, value)

    @property
    def operations(self) -> list[Operation]:
        """Every operation, in registration order."""
        return [op for methods in self._routes.values() for op, _ in methods.values()]

    @property
    def blocking(self) -> bool:
        """Whether any handler does I/O (adapters may then run requests in threads)."""
        return any(op.blocking for op in self.operations)

    def handles(self, path: str) -> bool:
        """Whether ``path`` is one of this app's routes (any method)."""
        return self._methods(path) is not None

    def _methods(self, path: str) -> dict[str, tuple[Operation, Pipeline[Context]]] | None:
        """The operations (and their pipelines) at ``path`` by method, or ``None``."""
        methods = self._paths.get(path)
        if methods is None:
            methods = self._routes.get(_route_key(path))
            # NOTE: only known paths are remembered, and only so many spellings of
            # them, so that clients cannot grow the memo without bound.
            if methods is not None and len(self._paths) < _MEMO_LIMIT:
                self._paths[path] = methods
        return methods

    def handle(
        self,
        method: str,
        path: str,
        query_string: str | bytes,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]],
        body: bytes,
    ) -> Response:
        """Answer one request.

        Args:
            method: the request method.
            path: the percent-decoded path, without the query string.
            query_string: the raw query string (``$select=Name`` or
                ``%24select=Name``), percent-encoded.
            headers: the request headers.
            body: the whole request body.

        Returns:
            The response; never raises for anything a client can send.
        """
        started = self.start(method, path, query_string, headers)
        if isinstance(started, Response):
            return started
        return started.finish(body)

    def start(
        self,
        method: str,
        path: str,
        query_string: str | bytes,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]],
    ) -> Exchange | Response:
        """Check everything that does not need the body (steps 1-5 of the module docs).

        Adapters call this before reading the body, so that a request that
        will be refused (404, 405, 401, 406, 413 by ``Content-Length``) is
        refused without reading it. The request's plan (the reader, the
        ``$select`` projector, the shaping) is resolved here, once.

        Returns:
            A :class:`Response` when the request is refused, else an
            :class:`Exchange` whose :meth:`Exchange.finish` takes the body.
        """
        if not isinstance(headers, Headers):
            headers = Headers(headers)
        if not method.isupper():
            method = method.upper()
        accept, content_type, length, coded, shaped = headers._head()
        writer: Writer | None = None
        refusal: NegotiateError | None = None
        # PERF: a request without a query, a coding or shaping headers (the usual one)
        # whose route and headers resolved before takes its operation, writer and plan
        # from one memo; only the checks of this request (credentials, length) run.
        plain = not query_string and coded is None and not shaped
        key = (method, path, accept, content_type)
        usual = self._usual.get(key) if plain else None
        if usual is not None and self._generation != self.registry.generation:
            usual = None  # NOTE: the registry's codecs changed: resolved again
        if usual is None:
            try:
                writer = self.registry.writer_for_accept(accept)
            except NegotiateError as exc:
                refusal = exc
        else:
            op, pipeline, plan = usual
            writer = plan.writer
        try:
            if usual is None:
                op, pipeline = self._operation(method, path)
            principal: Principal | None = None
            if not op.public:
                try:
                    principal = self.authenticator.authenticate(headers)
                except NegotiateError:
                    raise
                except Exception:  # noqa: BLE001 - an authenticator's bug is a 500, logged
                    log.exception("the authenticator failed on %s", excerpt(path))
                    raise _Logged(
                        "Authentication failed unexpectedly; see the server log"
                    ) from None
                if principal is None:
                    raise Unauthorized("Authentication required")
            if refusal is not None:
                raise refusal
            assert writer is not None
            # PERF: a plain number of a few digits is the usual Content-Length.
            if length is not None and not (
                len(length) < 16
                and length.isdigit()
                and length.isascii()
                and int(length) <= self.options.max_body
            ):
                check_content_length(length, self.options.max_body)
            if usual is None:
                if coded is not None and not _coding.parse_content_encoding(coded):
                    coded = None  # identity: nothing to undo
                query = parse_query(query_string) if query_string else _EMPTY_QUERY
                try:
                    plan = pipeline.plan(
                        writer,
                        content_type,
                        select=query.get("$select") if query else None,
                        headers=shaping_headers(headers) if shaped else None,
                    )
                except Exception:  # noqa: BLE001 - a bug met while planning is a 500, logged
                    log.exception("planning failed on %s %s", excerpt(method), excerpt(path))
                    raise _Logged("An unexpected error occurred; see the server log") from None
                if plain and plan.steps is not None:
                    self._remember(key, (op, pipeline, plan))
            else:
                query = _EMPTY_QUERY
        except NegotiateError as exc:
            log_error(exc, method, path)
            return self.error(exc, writer, method, _accept_encoding(headers))
        ctx = Context(
            method, path, headers, query, principal, plan.request_essence, writer.media_type
        )
        vary = self._shaped_vary if op.response is not None else self._vary
        return Exchange(self, op, ctx, writer, pipeline, plan, coded, vary)

    def _operation(self, method: str, path: str) -> tuple[Operation, Pipeline[Context]]:
        """The operation (and its pipeline) for the request line.

        Raises:
            NotFound: no route at ``path``.
            MethodNotAllowed: the route has no operation for ``method``.
        """
        methods = self._paths.get(path) or self._methods(path)
        if methods is None:
            raise NotFound(f"No such resource: {excerpt(path)}")
        found = methods.get(method)
        if found is None:
            allowed = sorted(methods)
            raise MethodNotAllowed(
                f"Method {excerpt(method)} is not allowed here; use {', '.join(allowed)}",
                allowed=allowed,
            )
        return found

    def _remember(self, key: _UsualKey, usual: _Usual) -> None:
        """Keep a usual request's operation and plan (see :meth:`start`)."""
        # NOTE: bounded, as the other memos: clients choose the paths and header values.
        # A registry whose codecs changed (register, clear_memos) makes new writers and
        # plans: the memo starts again when the registry's generation moves on.
        memo = self._usual
        if len(memo) >= _MEMO_LIMIT or self._generation != self.registry.generation:
            memo.clear()
            self._generation = self.registry.generation
        memo[key] = usual

    def error(
        self,
        exc: NegotiateError,
        writer: Writer | tuple[Codec, str] | None,
        method: str = "POST",
        accept_encoding: str | None = None,
    ) -> Response:
        """The response for an error, encoded as the module docs say.

        Args:
            exc: the error.
            writer: the negotiated writer (a ``(codec, media type)`` pair will do), or
                ``None``.
            method: the request method (415 on POST lists types in ``Accept-Post``).
            accept_encoding: the request's ``Accept-Encoding`` (the body is compressed
                as a successful one would be), or ``None``.

        Returns:
            The error response.
        """
        value = {key: _bounded(item) for key, item in exc.to_dict().items()}
        body: bytes | None = None
        content_type = "application/json; charset=utf-8"
        if writer is not None:
            if isinstance(writer, tuple):
                writer = Writer.of(*writer)
            try:
                body = writer.encode_error(value)  # None: the format writes errors as JSON
                content_type = writer.content_type
            except Exception as failure:  # noqa: BLE001 - fall back to JSON rather than fail twice
                # NOTE: one line, no traceback: the error itself is what matters, and a
                # client can cause this on purpose, once per request.
                (log.debug if exc.status < 500 else log.warning)(
                    "cannot write a %d error as %s (%s); answered in JSON",
                    exc.status,
                    writer.media_type,
                    failure,
                )
                body = None
        if body is None:
            body = _json_error(value)
            content_type = "application/json; charset=utf-8"
            if self._json is not None:
                content_type = self._json.content_type(MEDIA_JSON)
        headers = [("content-type", content_type), ("content-length", ""), self._vary]
        body = self._compress(body, headers, accept_encoding)
        headers[1] = ("content-length", str(len(body)))
        if isinstance(exc, Unauthorized):
            headers.append(("www-authenticate", _CHALLENGE))
        elif isinstance(exc, MethodNotAllowed):
            headers.append(("allow", ", ".join(exc.detail.get("allowed", ()))))
        elif isinstance(exc, UnsupportedMediaType) and exc.location == "Content-Encoding":
            # NOTE: RFC 9110 §15.5.16: a 415 for a content coding lists the codings
            # that would do in Accept-Encoding (and says nothing of media types).
            supported = exc.detail.get("supported") or _coding.decodable_codings()
            headers.append(("accept-encoding", ", ".join(supported)))
        elif isinstance(exc, UnsupportedMediaType) and method == "POST":
            # NOTE: Accept-Post lists media ranges (RFC 9110 §15.5.16, the Accept-Post
            # registration), never the charsets a charset 415 may list in Supported.
            types = self.registry.request_types
            if types:
                headers.append(("accept-post", ", ".join(types)))
        return Response(exc.status, headers, body)

    def _compress(
        self, body: bytes, headers: list[tuple[str, str]], accept_encoding: str | None
    ) -> bytes:
        """``body`` in the coding ``Accept-Encoding`` prefers (``Content-Encoding`` added)."""
        # PERF: no header (the usual request), codings off or a small body: no lookup.
        if accept_encoding is None or not self.codings or len(body) < _MIN_ENCODE_SIZE:
            return body
        chosen = _coding.choose_coding(accept_encoding, len(body), self.codings)
        # NOTE: None (even identity refused): sent as it is, as coding.choose_coding's
        # policy says; a 406 over compression would hide the response itself.
        if chosen is None or chosen == CODING_IDENTITY:
            return body
        headers.append(("content-encoding", chosen))
        return _coding.encode_body(body, chosen)


# -- helpers -------------------------------------------------------------------


def _response_codings(codings: bool | Iterable[str]) -> tuple[str, ...]:
    """The ``codings`` argument of :class:`App` as canonical names, checked."""
    if codings is True:
        return _coding.available_codings()
    if codings is False:
        return ()
    if isinstance(codings, str):
        codings = (codings,)
    found: list[str] = []
    for name in codings:
        canonical = canonical_coding(name)
        if canonical == CODING_IDENTITY:
            continue  # always possible; listing it changes nothing
        if canonical not in _coding.available_codings():
            _coding.encode_body(b"", canonical)  # ImportError (br, zstd) or ValueError
        if canonical not in found:
            found.append(canonical)
    return tuple(found)


def _route_key(path: str) -> str:
    # NOTE: ASP.NET routes match case-insensitively; a trailing slash is the same route.
    key = path.casefold()
    return key[:-1] if len(key) > 1 and key.endswith("/") else key
