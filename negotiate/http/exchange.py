"""The request in flight: :class:`Exchange` (``finish`` takes the body), and ``Vary``.

Part of :mod:`negotiate.http` (see its docstring): what :meth:`App.start` hands an
adapter, the ``Vary`` pairs of responses and the content coding of a response body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from negotiate import coding as _coding
from negotiate.errors import NegotiateError, excerpt
from negotiate.http.errors import _Logged, log, log_error
from negotiate.http.headers import Headers
from negotiate.http.messages import Context, Operation, Response, raw_headers, raw_pair
from negotiate.pipeline import Pipeline, Plan, Writer

if TYPE_CHECKING:
    from negotiate.http.app import App

__all__ = ["SHAPED_VARY_NAMES", "VARY", "Exchange", "shaped_vary"]

# PERF: the header pairs every response shares are built once; a Response's header
# list is fresh per response (callers may append to it) but its tuples are shared.
VARY = ("vary", "Accept")
"""The ``Vary`` pair of a response without codings or shaping headers."""
_VARY_CODED = ("vary", "Accept, Accept-Encoding")
_MIN_ENCODE_SIZE = _coding.MIN_ENCODE_SIZE


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
        vary: tuple[str, str] = VARY,
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
            # PERF: the usual plan's fused steps, without Pipeline.run's frame.
            steps = self.plan.steps
            out = steps(body, ctx) if steps is not None else self.pipeline.run(self.plan, body, ctx)
        except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the server
            return self._failed(exc)
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

    def finish_raw(
        self, body: bytes, *, decoded: bool = False
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """:meth:`finish`, the header pairs as Latin-1 bytes: what an ASGI server sends.

        Returns:
            The status, the header pairs and the body of the response.
        """
        steps = self.plan.steps
        if steps is None or (self.content_encoding is not None and not decoded):
            response = self.finish(body, decoded=decoded)
            return response.status, raw_headers(response.headers), response.body
        # PERF: the usual request (fused steps, nothing to undo) without the Response
        # and the header pairs' second form: fewer steps after the codecs' work, which
        # is what runs with cold caches on a server (see benches/bench_http.py --bare).
        ctx = self.context
        try:
            out = steps(body, ctx)
        except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the server
            response = self._failed(exc)
            return response.status, raw_headers(response.headers), response.body
        app = self.app
        vary = self.vary
        if vary is app._shaped_vary:
            raw_vary = app._raw_shaped_vary
        elif vary is app._vary:
            raw_vary = app._raw_vary
        else:
            raw_vary = raw_pair(vary)
        extra: list[tuple[str, str]] | None = None
        if app.codings and len(out) >= _MIN_ENCODE_SIZE:
            accept_encoding = ctx.headers._value(b"accept-encoding", "accept-encoding")
            if accept_encoding is not None:
                extra = []
                out = app._compress(out, extra, accept_encoding)
        raw = [self.writer.raw_header, (b"content-length", b"%d" % len(out)), raw_vary]
        if extra:
            raw += raw_headers(extra)
        return 200, raw, out

    def _failed(self, exc: Exception) -> Response:
        """The answer to an exception met while finishing (called in its ``except``)."""
        ctx = self.context
        if isinstance(exc, NegotiateError):
            log_error(exc, ctx.method, ctx.path)
            return self.error(exc)
        log.exception("unhandled error in %s %s", ctx.method, excerpt(ctx.path))
        return self.error(_Logged("An unexpected error occurred; see the server log"))

    def error(self, exc: NegotiateError) -> Response:
        """The error response to this request (see :meth:`App.error`)."""
        ctx = self.context
        return self.app.error(exc, self.writer, ctx.method, _accept_encoding(ctx.headers))


def _accept_encoding(headers: Headers) -> str | None:
    value: str | None = headers._value(b"accept-encoding", "accept-encoding")
    return value


SHAPED_VARY_NAMES = ("SO-TimeZone", "SO-Language", "Accept-Language")
"""The shaping headers a ``Vary`` names for a response with a carrier.

NOTE: named whether or not the request carried them: a shared cache matches a
stored answer by the ``Vary`` headers' values, absence included, so a name left
out for an unshaped answer would let a cache serve it to a request that asks for
a time zone. ``SO-Culture`` changes nothing in these carriers (see
:mod:`negotiate.shaping`), so it is not named.
"""


def shaped_vary(base: tuple[str, str]) -> tuple[str, str]:
    """``base`` with the shaping headers (:data:`SHAPED_VARY_NAMES`) after it.

    For a response with a carrier (without one nothing is shaped); an error
    answer is not shaped and keeps ``base``.

    Args:
        base: the ``Vary`` pair without shaping (:data:`VARY`, or with
            ``Accept-Encoding`` when the response may be compressed).

    Returns:
        The ``("vary", value)`` pair.
    """
    return ("vary", ", ".join((base[1], *SHAPED_VARY_NAMES)))
