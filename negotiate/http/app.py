"""Framework-neutral request handling: no I/O, no framework.

An :class:`App` is a table of :class:`Operation` s (path, method, request and
response carriers, a handler function) plus a codec registry, an
:class:`~negotiate.auth.Authenticator` and :class:`~negotiate.options.Options`.
It takes ``(method, path, query string, headers, body)`` and returns a
:class:`Response` ``(status, headers, body)``; the ASGI and WSGI adapters only
move bytes.

One request, in order:

1. The response codec is chosen from ``Accept`` (remembered; a 406 is raised
   only once the route and the credentials are known to be good, so that a
   404 or 401 is not hidden behind it).
2. Route: unknown path 404; known path, wrong method 405 with ``Allow``.
   Paths match case-insensitively (as ASP.NET routes do) and a trailing ``/``
   is ignored.
3. Authentication: the authenticator's principal, or 401 with
   ``WWW-Authenticate: Basic realm="SuperOffice Username or Ticket"``.
4. ``Content-Length`` over ``Options.max_body``: 413, before the body is read
   (:meth:`App.start` answers steps 1-4 without a body, so adapters can refuse
   early).
5. The query string: ``$select`` (``%24select`` too, name case-insensitive,
   repeated values joined by commas), compiled against the response carrier;
   unknown paths 400. What the headers and the query decide (the reader, the
   ``$select`` projector, the shaping) is resolved here, once, into the
   request's :class:`~negotiate.pipeline.Plan`; a refusal among it is answered
   where its step runs (below), as it always was.
6. The body is decoded by the codec for its ``Content-Type`` (415 with the
   accepted types when none; an empty body is the carrier's default). A patch
   body (JSON Patch, merge patch) applies to the operation's ``request_base``,
   else to the request carrier's default.
7. The handler runs; its result is projected by ``$select``, then shaped by
   the ``SO-TimeZone`` / ``SO-Language`` / ``Accept-Language`` / ``SO-Culture``
   headers (with the app's resource table).
8. The result is encoded by the negotiated codec. A patch-format response is
   the diff from the operation's ``response_base`` (for EnrichContactEntity,
   the ContactEntity the client sent) to the result, so applying it to what
   the client sent gives exactly what a JSON response would have carried.

Steps 6-8 are the operation's :class:`~negotiate.pipeline.Pipeline`, the
same one ``negotiate convert`` runs.

Every response carries ``Content-Type`` (with a charset where the format has
one), ``Content-Length`` and ``Vary``.

Content codings (RFC 9110 §8.4; :mod:`negotiate.coding`), unless the app is
built with ``codings=False``:

- A response body (errors and patch documents too) of at least
  :data:`~negotiate.coding.MIN_ENCODE_SIZE` bytes is compressed with the
  coding ``Accept-Encoding`` prefers among the app's (``br``, ``zstd``,
  ``gzip``, ``deflate``: those installed, in that order on a tie), with
  ``Content-Encoding``; without ``Accept-Encoding`` it is sent as it is.
- ``Vary`` names the request headers that shaped the response: ``Accept``;
  ``Accept-Encoding`` (always with codings on: it may have); and the shaping
  headers the request carried that were read: ``SO-TimeZone``,
  ``SO-Language``, ``Accept-Language`` (unless ``SO-Language`` overrode it).
- ``Content-Language`` is the language shaping translated to (the tag
  RFC 4647 lookup chose, :attr:`~negotiate.shaping.Shaping.content_language`).

A request body with ``Content-Encoding`` (``gzip``, ``deflate``, ``br``,
``zstd``, stacked too) is decoded before its codec reads it, bounded by
``Options.max_body`` of decoded bytes (:func:`~negotiate.coding.decode_body`;
the ASGI adapter decodes while the body streams in). ``Content-Length`` is the
wire size and is held to ``max_body`` too. An unknown coding is a 415 whose
``Accept-Encoding`` header lists the codings this installation reads
(RFC 9110 §15.5.16), answered before the body is read. Request bodies are
decoded whatever ``codings`` says: that option is about responses.

Errors have SuperOffice's agent shape, ``{"Message": ..., "MessageDetail": ...}``
plus ``Status``, ``Location`` and details such as ``Supported`` (see
:meth:`NegotiateError.to_dict`), encoded with the negotiated codec. JSON is
used instead when nothing acceptable was negotiated (406, or a bad ``Accept``
met before negotiation) and when the negotiated codec says so (a patch format:
an error is not a change to anything). Each codec knows its error document
(:meth:`~negotiate.codecs.base.BaseCodec.encode_error`): in XML an ``<Error>``
element with one child per key, in the order above (``Supported`` holds
``<string>`` items), without a namespace, the shape of ASP.NET Web API's
``HttpError`` in XML, with what XML 1.0 cannot carry written escaped
(``\\x01``). An error the negotiated codec still cannot write is answered in
JSON. Every string in an error body is cut
to :data:`MAX_ERROR_TEXT` characters and every list to :data:`MAX_ERROR_ITEMS`
items (a backstop: messages quote client input through
:func:`~negotiate.errors.excerpt` in the first place). A 415 on ``POST``
lists the registry's request media types in ``Accept-Post``, whatever the
error's own ``Supported`` says (a charset 415 lists charsets there).

Logging (logger ``negotiate.http``): a 4xx is one debug line, never a
traceback; a 502/504 one warning line; a 500 raised as a
:class:`NegotiateError` one error line. An exception that is not a
:class:`NegotiateError` (a bug in a handler or an authenticator) is logged
once with its traceback and answered 500 without its text.

The error classes of this layer extend the tree in :mod:`negotiate.errors`::

    NegotiateError
     ├── Unauthorized               401  no or wrong credentials
     ├── MethodNotAllowed           405  the path exists, the method does not
     ├── BadGateway                 502  the enrichment service failed
     └── GatewayTimeout             504  the enrichment service did not answer in time
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from negotiate import coding as _coding
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.codecs.base import Codec
from negotiate.errors import (
    BadGateway as BadGateway,
    BodyTooLarge,
    GatewayTimeout as GatewayTimeout,
    MalformedBody,
    MethodNotAllowed as MethodNotAllowed,
    NegotiateError,
    NotFound,
    Unauthorized as Unauthorized,
    UnsupportedMediaType,
    error_class as error_class,
    excerpt,
)
from negotiate.media import CODING_IDENTITY, MEDIA_JSON, canonical_coding
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Plan, Writer
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema

if TYPE_CHECKING:
    from negotiate.auth import Authenticator, Principal

__all__ = [
    "MAX_ERROR_ITEMS",
    "MAX_ERROR_TEXT",
    "REALM",
    "App",
    "BadGateway",
    "Context",
    "Exchange",
    "GatewayTimeout",
    "Headers",
    "MethodNotAllowed",
    "Operation",
    "Response",
    "Unauthorized",
    "error_class",
]

log = logging.getLogger("negotiate.http")

REALM = "SuperOffice Username or Ticket"
"""The realm of the ``WWW-Authenticate`` challenge, as SuperOffice sends it."""

_CHALLENGE = f'Basic realm="{REALM}"'
_MAX_QUERY_FIELDS = 64
_MEMO_LIMIT = 256
# PERF: the header pairs every response shares are built once; a Response's header
# list is fresh per response (callers may append to it) but its tuples are shared.
_VARY = ("vary", "Accept")
_VARY_CODED = ("vary", "Accept, Accept-Encoding")
_MIN_ENCODE_SIZE = _coding.MIN_ENCODE_SIZE

MAX_ERROR_TEXT = 1024
"""The most characters of any one string in an error body (longer ones are cut)."""

MAX_ERROR_ITEMS = 64
"""The most items of any one list in an error body (longer ones are cut)."""

_SURROGATE = re.compile("[\ud800-\udfff]")


# -- requests and responses ----------------------------------------------------


class Headers(Mapping[str, str]):
    """Request headers: case-insensitive names, repeated fields joined.

    Repeated fields are joined with ``", "`` (RFC 9110 §5.3), ``Cookie`` with
    ``"; "`` (RFC 6265 §5.4). Byte names and values (ASGI) are read as
    Latin-1, as HTTP/1.1 defines them.

    Args:
        items: a mapping or ``(name, value)`` pairs, ``str`` or ``bytes``.
    """

    # NOTE: one of two forms: _map, the decoded fields; or (from_asgi) _raw, the
    # server's bytes, decoded one value at a time as asked for and all at once
    # (into _map) the first time the whole mapping is needed.
    __slots__ = ("_map", "_raw")

    def __init__(
        self, items: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] = ()
    ) -> None:
        pairs: Iterable[tuple[str | bytes, str | bytes]] = (
            items.items() if isinstance(items, Mapping) else items
        )
        self._map: dict[str, str] | None = _joined(pairs, fold=True)
        self._raw: dict[bytes, bytes] | None = None

    @classmethod
    def from_asgi(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Headers from an ASGI scope, whose names the server has already lower-cased.

        Args:
            raw: the scope's ``headers``.
        """
        # PERF: the hot path of every ASGI request. dict() builds the table in C; a
        # request reads four or five of its fields, so only those are decoded.
        pairs = raw if isinstance(raw, list) else list(raw)
        table = dict(pairs)
        headers = cls.__new__(cls)
        if len(table) == len(pairs):
            headers._raw, headers._map = table, None
        else:  # a repeated field: join the values now
            headers._raw, headers._map = None, _joined(pairs, fold=False)
        return headers

    def _value(self, raw_name: bytes, name: str) -> str | None:
        """The value of a lower-case name, given both as bytes and as text."""
        raw = self._raw
        if raw is None:
            assert self._map is not None
            return self._map.get(name)
        value = raw.get(raw_name)
        return None if value is None else value.decode("latin-1")

    def _decoded(self) -> dict[str, str]:
        found = self._map
        if found is None:
            assert self._raw is not None
            found = self._map = _joined(self._raw.items(), fold=False)
            self._raw = None
        return found

    def any_of(self, names: Iterable[str]) -> bool:
        """Whether any of these lower-case header names is present."""
        return any(name in self for name in names)

    def __getitem__(self, name: str) -> str:
        value: str | None = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        """The value of a header (case-insensitive), or ``default``."""
        name = name.lower()
        raw = self._raw
        if raw is None:
            assert self._map is not None
            return self._map.get(name, default)
        key = _RAW_NAMES.get(name)
        if key is None:
            try:
                key = name.encode("latin-1")
            except UnicodeEncodeError:  # no HTTP field has such a name
                return default
        value = raw.get(key)
        return default if value is None else value.decode("latin-1")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._raw) if self._raw is not None else len(self._decoded())

    def __repr__(self) -> str:
        return f"Headers({self._decoded()!r})"


# PERF: the byte forms of the names this package reads, for lookups in an ASGI table.
_RAW_NAMES = {
    name: name.encode("ascii")
    for name in (
        "accept",
        "accept-encoding",
        "accept-language",
        "authorization",
        "content-encoding",
        "content-length",
        "content-type",
        "cookie",
        "so-culture",
        "so-language",
        "so-timezone",
        "x-xsrf-token",
    )
}


def _joined(pairs: Iterable[tuple[str | bytes, str | bytes]], *, fold: bool) -> dict[str, str]:
    """Decoded, (with ``fold``) lower-cased fields, repeated ones joined."""
    found: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
        if fold:
            name = name.lower()
        if name in found:
            found[name] += ("; " if name == "cookie" else ", ") + value
        else:
            found[name] = value
    return found


@dataclass(slots=True)
class Response:
    """What :meth:`App.handle` returns.

    Attributes:
        status: the HTTP status code.
        headers: ``(name, value)`` pairs, names lower case.
        body: the encoded body.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def reason(self) -> str:
        """The reason phrase of the status (``"OK"``)."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def header(self, name: str) -> str | None:
        """The value of a response header (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Context:
    """What a handler learns about its request besides the decoded body.

    Attributes:
        method: the request method, upper case.
        path: the request path.
        headers: the request headers.
        query: the decoded query parameters (the last value of each name).
        principal: who the authenticator says is calling.
        request_type: the essence of the request's Content-Type, or ``None``.
        response_type: the negotiated response media type.
    """

    method: str
    path: str
    headers: Headers
    query: Mapping[str, str]
    principal: Principal | None
    request_type: str | None = None
    response_type: str = MEDIA_JSON


Handler = Callable[[Any, Context], Any]
"""An operation's function: ``(decoded request value, context) -> response value``."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One endpoint.

    Attributes:
        path: the path, such as ``/api/v1/Agents/Contact/EnrichContactEntity``.
        handler: ``(request value, context) -> response value``; the response
            value must be a normalised ``response`` carrier. It may raise any
            :class:`NegotiateError` (answered with its status).
        request: the request body's carrier (``None``: plain data).
        response: the response carrier (``None``: plain data; no ``$select``).
        method: the HTTP method.
        request_base: ``(context) -> value`` a patch request body applies to
            (a stored entity, say); ``None``: the request carrier's default.
        response_base: ``(request value) -> value`` a patch-format response is
            the diff from; ``None``: the response carrier's default.
        blocking: the handler does I/O (the ASGI adapter runs it in a thread).
        public: anyone may call it: the authenticator is not asked (the
            context's ``principal`` is ``None``); for documents such as an
            OpenAPI description.
    """

    path: str
    handler: Handler
    request: Schema | None
    response: Schema | None
    method: str = "POST"
    request_base: Callable[[Context], Any] | None = None
    response_base: Callable[[Any], Any] | None = None
    blocking: bool = False
    public: bool = False


# -- the application -----------------------------------------------------------


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
        self._vary = _VARY_CODED if self.codings else _VARY
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
        method = method.upper()
        writer: Writer | None = None
        refusal: NegotiateError | None = None
        try:
            writer = self.registry.writer_for_accept(headers._value(b"accept", "accept"))
        except NegotiateError as exc:
            refusal = exc
        try:
            methods = self._methods(path)
            if methods is None:
                raise NotFound(f"No such resource: {excerpt(path)}")
            found = methods.get(method)
            if found is None:
                allowed = sorted(methods)
                raise MethodNotAllowed(
                    f"Method {excerpt(method)} is not allowed here; use {', '.join(allowed)}",
                    allowed=allowed,
                )
            principal: Principal | None = None
            if not found[0].public:
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
            length = headers._value(b"content-length", "content-length")
            # PERF: a plain number of a few digits is the usual Content-Length.
            if length is not None and not (
                len(length) < 16
                and length.isdigit()
                and length.isascii()
                and int(length) <= self.options.max_body
            ):
                _check_length(length, self.options.max_body)
            coded = headers._value(b"content-encoding", "content-encoding")
            if coded is not None and not _coding.parse_content_encoding(coded):
                coded = None  # identity: nothing to undo
            query = _parse_query(query_string) if query_string else _EMPTY_QUERY
            op, pipeline = found
            shaped = _has_shaping(headers)
            try:
                plan = pipeline.plan(
                    writer,
                    headers._value(b"content-type", "content-type"),
                    select=query.get("$select") if query else None,
                    headers=_shaping_headers(headers) if shaped else None,
                )
            except Exception:  # noqa: BLE001 - a bug met while planning is a 500, logged
                log.exception("planning failed on %s %s", excerpt(method), excerpt(path))
                raise _Logged("An unexpected error occurred; see the server log") from None
        except NegotiateError as exc:
            _log(exc, method, path)
            return self.error(exc, writer, method, _accept_encoding(headers))
        ctx = Context(
            method, path, headers, query, principal, plan.request_essence, writer.media_type
        )
        vary = self._vary
        if shaped and op.response is not None:
            vary = _shaped_vary(vary, headers)
        return Exchange(self, op, ctx, writer, pipeline, plan, coded, vary)

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


class Exchange:
    """A request that passed :meth:`App.start`; :meth:`finish` takes its body.

    Attributes:
        app: the application.
        operation: the operation it is routed to.
        context: what its handler is given.
        writer: the negotiated response writer.
        pipeline: the operation's pipeline.
        plan: what the request's headers and query decided.
        content_encoding: the request's ``Content-Encoding`` when it names a coding
            to undo (checked: every one is readable), else ``None``.
        vary: the response's ``Vary`` header pair.
    """

    __slots__ = (
        "app",
        "content_encoding",
        "context",
        "operation",
        "pipeline",
        "plan",
        "vary",
        "writer",
    )

    def __init__(
        self,
        app: App,
        operation: Operation,
        context: Context,
        writer: Writer,
        pipeline: Pipeline[Context],
        plan: Plan,
        content_encoding: str | None = None,
        vary: tuple[str, str] = _VARY,
    ) -> None:
        self.app = app
        self.operation = operation
        self.context = context
        self.writer = writer
        self.pipeline = pipeline
        self.plan = plan
        self.content_encoding = content_encoding
        self.vary = vary

    def decoder(self) -> _coding.Decoder | None:
        """An incremental decoder of the body's ``Content-Encoding`` bounded by
        ``max_body``, for adapters that decode while the body streams in (then
        ``finish(body, decoded=True)``); ``None`` when the body is not coded."""
        if self.content_encoding is None:
            return None
        return _coding.Decoder(self.content_encoding, self.app.options.max_body)

    def finish(self, body: bytes, *, decoded: bool = False) -> Response:
        """Undo the body's content coding, decode it, run the handler, project,
        shape and encode (and compress).

        Args:
            body: the whole body as received.
            decoded: its ``Content-Encoding`` is already undone (by :meth:`decoder`).

        Returns:
            The response; never raises for anything a client can send.
        """
        ctx = self.context
        try:
            if self.content_encoding is not None and not decoded:
                body = _coding.decode_body(body, self.content_encoding, self.app.options.max_body)
            out = self.pipeline.run(self.plan, body, ctx)
        except NegotiateError as exc:
            _log(exc, ctx.method, ctx.path)
            return self.error(exc)
        except Exception:  # noqa: BLE001 - a handler bug must not kill the server
            log.exception("unhandled error in %s %s", ctx.method, excerpt(ctx.path))
            return self.error(_Logged("An unexpected error occurred; see the server log"))
        # PERF: the usual answer (no language, not compressed) is the three pairs alone.
        extra: list[tuple[str, str]] | None = None
        shaping = self.plan.shaping
        if shaping is not None and not isinstance(shaping, NegotiateError):
            language = shaping.content_language
            if language is not None:
                extra = [("content-language", language)]
        app = self.app
        if app.codings and len(out) >= _MIN_ENCODE_SIZE:
            # PERF: the header is looked up only for a body worth compressing. NOTE: a
            # smaller body is sent as it is even to "identity;q=0", which RFC 9110
            # §12.5.3 lets a server disregard: it would gain nothing.
            accept_encoding = ctx.headers._value(b"accept-encoding", "accept-encoding")
            if accept_encoding is not None:
                if extra is None:
                    extra = []
                out = app._compress(out, extra, accept_encoding)
        headers = [self.writer.header, ("content-length", str(len(out))), self.vary]
        if extra:
            headers += extra
        return Response(200, headers, out)

    def error(self, exc: NegotiateError) -> Response:
        """The error response to this request (see :meth:`App.error`)."""
        ctx = self.context
        return self.app.error(exc, self.writer, ctx.method, _accept_encoding(ctx.headers))


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


def _accept_encoding(headers: Headers) -> str | None:
    value: str | None = headers._value(b"accept-encoding", "accept-encoding")
    return value


# The Vary pair for (the codings' pair, the shaping headers read), made once each.
_VARIES: dict[tuple[tuple[str, str], tuple[str, ...]], tuple[str, str]] = {}


def _shaped_vary(base: tuple[str, str], headers: Headers) -> tuple[str, str]:
    """``base`` with the shaping headers the request carried that shaping reads.

    ``SO-Language`` overrides ``Accept-Language`` (not read then); ``SO-Culture``
    changes nothing in these carriers (see :mod:`negotiate.shaping`).
    """
    names: list[str] = []
    zone = headers._value(b"so-timezone", "so-timezone")
    if zone is not None and zone.strip():
        names.append("SO-TimeZone")
    language = headers._value(b"so-language", "so-language")
    if language is not None and language.strip():
        names.append("SO-Language")
    elif headers._value(b"accept-language", "accept-language") is not None:
        names.append("Accept-Language")
    key = (base, tuple(names))
    found = _VARIES.get(key)
    if found is None:
        found = _VARIES[key] = ("vary", ", ".join((base[1], *names)))
    return found


def _route_key(path: str) -> str:
    # NOTE: ASP.NET routes match case-insensitively; a trailing slash is the same route.
    key = path.casefold()
    return key[:-1] if len(key) > 1 and key.endswith("/") else key


def _check_length(value: str, limit: int) -> None:
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise MalformedBody(f"Expected a number in Content-Length, got {excerpt(value)}")
    digits = text.lstrip("0")
    # NOTE: int() refuses strings of more than 4300 digits; a number that long is over
    # any limit anyway.
    if len(digits) > len(str(limit)) or int(digits or "0") > limit:
        shown = text if len(text) <= 40 else text[:20] + "..."
        raise BodyTooLarge(f"Body of {shown} bytes is over the limit of {limit}", limit=limit)


_EMPTY_QUERY: Mapping[str, str] = {}


def _parse_query(query_string: str | bytes) -> Mapping[str, str]:
    if not query_string:
        return _EMPTY_QUERY
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    try:
        pairs = parse_qsl(
            query_string,
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=_MAX_QUERY_FIELDS,
        )
    except ValueError:
        raise MalformedBody(
            f"Too many query parameters (limit {_MAX_QUERY_FIELDS})", location="?"
        ) from None
    query: dict[str, str] = {}
    for name, value in pairs:
        if name.casefold() == "$select":
            name = "$select"
            if name in query and value:
                value = query[name] + "," + value if query[name] else value
        query[name] = value
    return query


class _Logged(NegotiateError):
    """500 for a failure already logged with its traceback (not logged again)."""


def _log(exc: NegotiateError, method: str, path: str) -> None:
    """Log an error response in one line (see the module docstring), never a traceback."""
    status = exc.status
    if status < 500:
        # PERF: isEnabledFor is cached per logger; a 4xx costs no formatting when off.
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%d %s %s: %r", status, excerpt(method), excerpt(path), _cut(str(exc)))
    elif not isinstance(exc, _Logged):
        level = logging.ERROR if status == 500 else logging.WARNING
        log.log(level, "%d %s %s: %r", status, excerpt(method), excerpt(path), _cut(str(exc)))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[:MAX_ERROR_TEXT] + "…"


def _bounded(value: Any) -> Any:
    """A value of an error body with long strings and lists cut (a backstop)."""
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, list | tuple):
        items = [_cut(item) if isinstance(item, str) else item for item in value]
        return items if len(items) <= MAX_ERROR_ITEMS else [*items[:MAX_ERROR_ITEMS], "…"]
    return value


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escaped(item: Any, pattern: re.Pattern[str]) -> Any:
    """A string (or a list's strings) with the characters ``pattern`` finds escaped."""
    if isinstance(item, str):
        return pattern.sub(_escape, item) if pattern.search(item) is not None else item
    if isinstance(item, list):
        return [_escaped(x, pattern) for x in item]
    return item


def _as_text(value: object) -> str:
    return _SURROGATE.sub(_escape, str(value))


def _json_error(value: dict[str, Any]) -> bytes:
    """The error as JSON, whatever its strings and details hold."""
    try:
        return orjson.dumps(value)
    except TypeError:
        pass
    # NOTE: UTF-8 cannot carry a lone surrogate, and a handler may put anything in a
    # detail: escape the one, write the other as text, rather than fail a second time.
    safe = {key: _escaped(item, _SURROGATE) for key, item in value.items()}
    return orjson.dumps(safe, default=_as_text)


_SHAPING_NAMES = ("so-timezone", "so-language", "accept-language", "so-culture")
_SHAPING = frozenset(_SHAPING_NAMES)
_SHAPING_RAW = frozenset(name.encode("ascii") for name in _SHAPING)


def _shaping_headers(headers: Headers) -> dict[str, str] | None:
    """The shaping headers present, by lower-case name, or ``None`` when there are none."""
    # PERF: most requests carry none of them; a set test on the raw names, no decoding.
    raw = headers._raw
    if _SHAPING_RAW.isdisjoint(raw) if raw is not None else _SHAPING.isdisjoint(headers._decoded()):
        return None
    found = {}
    for name in _SHAPING_NAMES:
        value = headers.get(name)
        if value is not None:
            found[name] = value
    return found


def _has_shaping(headers: Headers) -> bool:
    """Whether any of the shaping headers is present."""
    # PERF: most requests carry none of them; a set test on the raw names, no decoding.
    raw = headers._raw
    if raw is not None:
        return not _SHAPING_RAW.isdisjoint(raw)
    return not _SHAPING.isdisjoint(headers._decoded())
