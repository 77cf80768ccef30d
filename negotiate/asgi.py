"""The ASGI adapter: moves bytes between an ASGI server and :class:`negotiate.http.App`.

Use it as the application::

    from negotiate.asgi import ASGIAdapter
    application = ASGIAdapter(app)                     # uvicorn module:application

or in front of another ASGI application, which gets every request whose path
is not one of ``app``'s routes, and every non-HTTP scope (websockets,
lifespan)::

    application = ASGIAdapter(app, fallback=starlette_app)

or as Starlette/FastAPI middleware (the same thing, in their idiom)::

    fastapi_app.add_middleware(NegotiateMiddleware, handler=app)

The request is refused before its body is read when :meth:`App.start` can
already tell (404, 405, 401, 406, or a ``Content-Length`` over the limit); a
body that grows past ``Options.max_body`` while it streams in is answered
413 without reading the rest.

A body with ``Content-Encoding`` is decoded while it streams in, a message at
a time (:meth:`Exchange.decoder`), in the worker pool (how much a few coded
bytes decode to is not known until they are decoded: 1 KiB of zstd can be
32 MiB), and answered 413 as soon as the decoded bytes pass
``Options.max_body``, without reading the rest: a gzip bomb of 1 GiB of
zeros (1 MB on the wire) costs ``max_body`` of memory and the time to
inflate it. The bytes received are held to ``max_body`` too.

The event loop never does CPU-heavy work. A request whose body is over
``offload_above`` bytes (64 KiB by default) is decoded, handled and encoded
in the adapter's own bounded thread pool, and so is every password check
(:meth:`App.start` runs there when the authenticator's ``costly(headers)``
says it would hash a password). Smaller bodies, which take microseconds, are
served inline. Handlers that block (``Operation.blocking``, such as the
remote enrichment provider) run in a worker thread (``asyncio.to_thread``),
so the event loop keeps serving.

The pool is a :class:`~concurrent.futures.ThreadPoolExecutor` of its own,
rather than a semaphore around the loop's default executor: its size bounds
the heavy work (and the memory of decoded bodies) whatever else uses the
default executor (DNS lookups, other libraries), that work cannot starve
them, and it is not tied to one event loop. Threads share the GIL: a
decode in the pool still takes turns with the loop, which gets it back every
few milliseconds (``sys.getswitchinterval()``) except during one long call
into C (one ``orjson.loads`` of a huge body). Requests waiting for a thread
hold their bodies; the server's concurrency limit bounds how many wait.

Read deadlines (headers, body), header size and concurrency limits are the
server's job; :mod:`negotiate.server` sets them for uvicorn.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from negotiate.coding import Decoder
from negotiate.errors import BodyTooLarge, NegotiateError
from negotiate.http import App, Exchange, Headers, Response, body_too_large
from negotiate.http.messages import raw_headers

__all__ = ["OFFLOAD_ABOVE", "ASGIAdapter", "NegotiateMiddleware", "raw_headers"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_T = TypeVar("_T")

OFFLOAD_ABOVE = 64 * 1024
"""Bodies larger than this many bytes are served in the worker pool (the default)."""


def _default_threads() -> int:
    # NOTE: password checks (scrypt releases the GIL) use up to one core per thread;
    # decoding is GIL-bound, so more threads than cores add memory, not speed.
    return max(2, min(4, os.cpu_count() or 1))


class ASGIAdapter:
    """An ASGI 3 application serving an :class:`App`.

    Args:
        app: the framework-neutral application.
        fallback: the ASGI application for other paths and other scope
            types; without one, other paths get the app's 404 and lifespan
            events are acknowledged.
        threaded: run handlers in a worker thread (default: when any
            operation is ``blocking``).
        offload_above: bodies of more bytes than this are decoded, handled
            and encoded in the worker pool; smaller ones inline.
        threads: the size of the worker pool, which also runs password
            checks (default: the number of cores, at least 2, at most 4).
    """

    def __init__(
        self,
        app: App,
        *,
        fallback: ASGIApp | None = None,
        threaded: bool | None = None,
        offload_above: int = OFFLOAD_ABOVE,
        threads: int | None = None,
    ) -> None:
        if offload_above < 0:
            raise ValueError(f"offload_above must not be negative, got {offload_above}")
        self.app = app
        self.fallback = fallback
        self.threaded = app.blocking if threaded is None else threaded
        self.offload_above = offload_above
        # NOTE: ThreadPoolExecutor starts its threads on first use; an idle adapter
        # costs none.
        # PERF: (the authenticator, its ``costly`` method or None), looked up again only
        # when the app's authenticator is replaced.
        self._costly = _costly_check(app.authenticator)
        self.pool = ThreadPoolExecutor(
            max_workers=threads if threads is not None else _default_threads(),
            thread_name_prefix="negotiate-asgi",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] != "http" or (
            self.fallback is not None and not self.app.handles(scope["path"])
        ):
            await self._other(scope, receive, send)
            return
        # PERF: the request is served here rather than in a helper coroutine: one
        # coroutine per request fewer.
        app = self.app
        headers = Headers.from_asgi(scope["headers"])
        costly = self._costly
        if costly[0] is not app.authenticator:
            costly = self._costly = _costly_check(app.authenticator)
        if costly[1] is not None and costly[1](headers):
            started = await self._in_pool(
                app.start, scope["method"], scope["path"], scope.get("query_string", b""), headers
            )
        else:
            started = app.start(
                scope["method"], scope["path"], scope.get("query_string", b""), headers
            )
        if isinstance(started, Response):
            response = started
        elif started.content_encoding is not None:
            coded = await self._coded(started, receive)
            if coded is None:
                return  # the client went away
            response = coded
        else:
            limit = app.options.max_body
            message = await receive()
            body: bytes | BodyTooLarge | None
            # PERF: a body that fits one message (the usual request) is taken as it
            # is, without another coroutine or a join.
            if message["type"] == "http.request" and not message.get("more_body", False):
                whole: bytes = message.get("body", b"")
                body = whole if len(whole) <= limit else body_too_large(limit)
            else:
                body = await _read_body(receive, message, limit)
            if body is None:
                return  # the client went away
            if isinstance(body, BodyTooLarge):
                response = started.error(body)
            else:
                if len(body) > self.offload_above:
                    status, raw, out = await self._in_pool(started.finish_raw, body)
                elif self.threaded:
                    status, raw, out = await asyncio.to_thread(started.finish_raw, body)
                else:
                    status, raw, out = started.finish_raw(body)
                await send({"type": "http.response.start", "status": status, "headers": raw})
                await send({"type": "http.response.body", "body": out})
                return
        # PERF: one response.start and one response.body, the header pairs encoded once.
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": raw_headers(response.headers),
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _coded(self, started: Exchange, receive: Receive) -> Response | None:
        """Serve a request whose body has a ``Content-Encoding``: decoded as it arrives.

        Returns:
            The response, or ``None`` when the client went away.
        """
        decoder = started.decoder()
        assert decoder is not None
        limit = self.app.options.max_body
        parts: list[bytes] = []
        received = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                more = message.get("more_body", False)
                received += len(chunk)
                if received > limit:
                    return started.error(body_too_large(limit))
                if more:
                    if chunk:
                        parts.append(await self._in_pool(decoder.feed, chunk))
                    continue
                # the last message: its chunk and the end of the coded data, one trip
                parts.append(await self._in_pool(_feed_last, decoder, chunk))
                break
        except NegotiateError as exc:
            return started.error(exc)
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        del parts
        finish = functools.partial(started.finish, decoded=True)
        if len(body) > self.offload_above:
            return await self._in_pool(finish, body)
        if self.threaded:
            return await asyncio.to_thread(finish, body)
        return finish(body)

    async def _in_pool(self, func: Callable[..., _T], *args: Any) -> _T:
        """``func(*args)`` in the worker pool (with the caller's context variables)."""
        call = functools.partial(contextvars.copy_context().run, func, *args)
        return await asyncio.get_running_loop().run_in_executor(self.pool, call)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Scopes that are not HTTP requests for the app's routes."""
        if self.fallback is not None:
            await self.fallback(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})


class NegotiateMiddleware(ASGIAdapter):
    """:class:`ASGIAdapter` with the middleware signature of Starlette and FastAPI.

    ``app.add_middleware(NegotiateMiddleware, handler=negotiate_app)``: requests for
    ``handler``'s routes are answered by it, everything else goes to ``app``.

    Args:
        app: the wrapped ASGI application (the fallback).
        handler: the negotiate application.
        threaded, offload_above, threads: as for :class:`ASGIAdapter`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        handler: App,
        threaded: bool | None = None,
        offload_above: int = OFFLOAD_ABOVE,
        threads: int | None = None,
    ) -> None:
        super().__init__(
            handler,
            fallback=app,
            threaded=threaded,
            offload_above=offload_above,
            threads=threads,
        )


async def _read_body(receive: Receive, message: Message, limit: int) -> bytes | BodyTooLarge | None:
    """The whole body from its first message on; a 413 error past ``limit``; ``None``
    on disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return body_too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
        message = await receive()
    return b"".join(chunks)


def _costly_check(authenticator: object) -> tuple[object, Callable[[Headers], bool] | None]:
    return authenticator, getattr(authenticator, "costly", None)


def _feed_last(decoder: Decoder, chunk: bytes) -> bytes:
    head = decoder.feed(chunk)
    tail = decoder.finish()
    return head + tail if tail else head


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
