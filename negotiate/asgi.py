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
413 without reading the rest. Handlers that block (``Operation.blocking``,
such as the remote enrichment provider) run in a worker thread
(``asyncio.to_thread``), so the event loop keeps serving; the others run
inline, which is faster for work measured in microseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from negotiate.errors import BodyTooLarge
from negotiate.http import App, Exchange, Headers, Response

__all__ = ["ASGIAdapter", "NegotiateMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ASGIAdapter:
    """An ASGI 3 application serving an :class:`App`.

    Args:
        app: the framework-neutral application.
        fallback: the ASGI application for other paths and other scope
            types; without one, other paths get the app's 404 and lifespan
            events are acknowledged.
        threaded: run handlers in a worker thread (default: when any
            operation is ``blocking``).
    """

    def __init__(
        self, app: App, *, fallback: ASGIApp | None = None, threaded: bool | None = None
    ) -> None:
        self.app = app
        self.fallback = fallback
        self.threaded = app.blocking if threaded is None else threaded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        kind = scope["type"]
        if kind == "http":
            if self.fallback is not None and not self.app.handles(scope["path"]):
                await self.fallback(scope, receive, send)
            else:
                await self._http(scope, receive, send)
        elif self.fallback is not None:
            await self.fallback(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        headers = Headers.from_asgi(scope["headers"])
        started = app.start(scope["method"], scope["path"], scope.get("query_string", b""), headers)
        if isinstance(started, Exchange):
            body = await _read_body(receive, app.options.max_body)
            if body is None:
                return  # the client went away
            if isinstance(body, BodyTooLarge):
                response = app.error(body, started.writer, started.context.method)
            elif self.threaded:
                response = await asyncio.to_thread(started.finish, body)
            else:
                response = started.finish(body)
        else:
            response = started
        await _send(send, response)


class NegotiateMiddleware(ASGIAdapter):
    """:class:`ASGIAdapter` with the middleware signature of Starlette and FastAPI.

    ``app.add_middleware(NegotiateMiddleware, handler=negotiate_app)``: requests for
    ``handler``'s routes are answered by it, everything else goes to ``app``.

    Args:
        app: the wrapped ASGI application (the fallback).
        handler: the negotiate application.
        threaded: as for :class:`ASGIAdapter`.
    """

    def __init__(self, app: ASGIApp, *, handler: App, threaded: bool | None = None) -> None:
        super().__init__(handler, fallback=app, threaded=threaded)


async def _read_body(receive: Receive, limit: int) -> bytes | BodyTooLarge | None:
    """The whole body; a 413 error past ``limit``; ``None`` on disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return BodyTooLarge(
                    f"Body of more than {limit} bytes is over the limit of {limit}", limit=limit
                )
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    # PERF: the usual request arrives in one message; skip the join.
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send(send: Send, response: Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in response.headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
