"""The WSGI adapter (PEP 3333): moves bytes between a WSGI server and :class:`negotiate.http.App`.

Use it as the application::

    from negotiate.wsgi import WSGIAdapter
    application = WSGIAdapter(app)                 # gunicorn module:application

or in front of another WSGI application (Flask, Django), which gets every
request whose path is not one of ``app``'s routes::

    application = WSGIAdapter(app, fallback=flask_app.wsgi_app)

The request is refused before its body is read when :meth:`App.start` can
already tell (404, 405, 401, 406, or a ``Content-Length`` over the limit).
The body is read up to ``CONTENT_LENGTH``; without one it is empty unless the
server sets ``wsgi.input_terminated`` (chunked uploads), in which case it is
read to its end, and a body past ``Options.max_body`` is a 413. A body with
``Content-Encoding`` is decoded by the core (:meth:`Exchange.finish`), bounded
by ``max_body`` of decoded bytes; the limit above is on the bytes received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from negotiate.errors import BodyTooLarge
from negotiate.http import App, Exchange, Headers, Response

__all__ = ["WSGIAdapter"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CHUNK = 64 * 1024


class WSGIAdapter:
    """A WSGI application serving an :class:`App`.

    Args:
        app: the framework-neutral application.
        fallback: the WSGI application for other paths; without one, other
            paths get the app's 404.
    """

    def __init__(self, app: App, *, fallback: WSGIApp | None = None) -> None:
        self.app = app
        self.fallback = fallback

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        path = _path(environ)
        if self.fallback is not None and not self.app.handles(path):
            return self.fallback(environ, start_response)
        app = self.app
        started = app.start(
            environ.get("REQUEST_METHOD", "GET"),
            path,
            environ.get("QUERY_STRING", ""),
            Headers(_headers(environ)),
        )
        if isinstance(started, Exchange):
            body = _read_body(environ, app.options.max_body)
            if isinstance(body, BodyTooLarge):
                response = started.error(body)
            else:
                response = started.finish(body)
        else:
            response = started
        return _respond(start_response, response)


def _path(environ: dict[str, Any]) -> str:
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    # NOTE: PEP 3333 passes the path as bytes decoded as Latin-1; URLs are UTF-8.
    try:
        return str(raw.encode("latin-1").decode("utf-8"))
    except (UnicodeEncodeError, UnicodeDecodeError):
        return str(raw)


def _headers(environ: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            yield key[5:].replace("_", "-"), value
        elif key == "CONTENT_TYPE" and value:
            yield "content-type", value
        elif key == "CONTENT_LENGTH" and value:
            yield "content-length", value


def _read_body(environ: dict[str, Any], limit: int) -> bytes | BodyTooLarge:
    stream: IO[bytes] | None = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        # App.start has checked that the length is a number within the limit.
        # NOTE: leading zeros go first: int() refuses strings of more than 4300 digits.
        remaining = int(length.strip().lstrip("0") or "0")
        chunks = []
        while remaining > 0:
            chunk = stream.read(min(remaining, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    if not environ.get("wsgi.input_terminated"):
        return b""
    chunks = []
    size = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return BodyTooLarge(
                f"Body of more than {limit} bytes is over the limit of {limit}", limit=limit
            )
        chunks.append(chunk)


def _respond(start_response: StartResponse, response: Response) -> list[bytes]:
    start_response(f"{response.status} {response.reason}", response.headers)
    return [response.body]
