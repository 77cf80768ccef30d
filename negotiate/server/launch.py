"""Running the reference server: :func:`serve` under uvicorn, and ``negotiate serve``.

Without users and tokens, :func:`serve` makes a random demo token, prints it
with a ready ``curl`` command and serves; it never serves without
authentication unless told ``insecure_no_auth=True``.

:func:`serve` binds its socket before it prints anything, then runs uvicorn
with its keep-alive timeout, concurrency limit and (h11) event size limit
set, and with an HTTP protocol of uvicorn's extended by the limits uvicorn
lacks: the header and body deadlines (a connection that stops sending is
answered 408 and closed) and the header size limit for every parser.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import importlib.util
import inspect
import json
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from negotiate.asgi import ASGIAdapter
from negotiate.auth import new_token, token_digest
from negotiate.enrich import EmbeddedProvider
from negotiate.http import App
from negotiate.server.config import _SERVER_KEYS, CONFIG_ENV, ServerConfig, load_config
from negotiate.server.operations import asgi_app, create_app
from negotiate.superoffice import APP_TOKEN_HEADER, ENRICH_PATH, PREVIEW_PATH

__all__ = ["add_serve_arguments", "app_factory", "main", "run", "serve", "uvicorn_config"]

_RESOLVED_ENV = "NEGOTIATE_SERVE_RESOLVED"
_INSTALL = "pip install 'negotiate[server]'"


def app_factory() -> ASGIAdapter:
    """The ASGI application of a ``negotiate serve`` worker process.

    ``uvicorn --factory negotiate.server:app_factory`` works too, configured by
    ``$NEGOTIATE_CONFIG``.

    Raises:
        ValueError: the configuration has no credentials.
    """
    resolved = os.environ.get(_RESOLVED_ENV)
    if resolved:
        return asgi_app(ServerConfig.from_dict(json.loads(resolved)))
    return asgi_app(load_config())


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    *,
    config: ServerConfig | str | Path | None = None,
    insecure_no_auth: bool = False,
    log_level: str = "info",
    out: TextIO | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> int:
    """Run the reference server under uvicorn until interrupted.

    Args:
        host: the address to listen on.
        port: the port (0: any free one; the banner shows which).
        workers: worker processes.
        config: a :class:`ServerConfig`, a TOML file, or ``None`` (then
            ``$NEGOTIATE_CONFIG``, else no credentials: a demo token is made).
        insecure_no_auth: serve without authentication.
        log_level: uvicorn's log level.
        out: where the banner goes (default: stdout).
        overrides: :class:`ServerConfig` fields that replace the configured
            ones (the command line's ``--header-timeout`` and the like).

    Returns:
        The exit status: 0 after a clean shutdown, 2 for a bad configuration,
        3 when the server cannot start (the address cannot be bound, say: one
        line on stderr, and nothing printed on ``out``).

    Raises:
        ImportError: uvicorn is missing; the message gives the install command.
    """
    uvicorn = _uvicorn()
    out = out if out is not None else sys.stdout
    try:
        cfg = load_config(config)
        if overrides:
            cfg = ServerConfig.from_dict({**cfg.to_dict(), **overrides})
        if insecure_no_auth:
            cfg = replace(cfg, insecure_no_auth=True)
        token = None
        if not cfg.insecure_no_auth and not cfg.has_auth:
            token = new_token()
            cfg = replace(cfg, tokens={"demo": token_digest(token)})
        app = create_app(cfg)  # fail here, not in every worker, on a bad configuration
    except (ValueError, OSError) as exc:
        print(f"negotiate serve: {exc}", file=sys.stderr)
        return 2
    try:
        sock = _bind(host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        print(f"negotiate serve: cannot listen on {where}: {reason}", file=sys.stderr)
        return _STARTUP_FAILURE
    try:
        bound = sock.getsockname()[1]
        print(_banner(cfg, app, host, bound, workers, token), file=out, flush=True)
        os.environ[_RESOLVED_ENV] = json.dumps(cfg.to_dict())
        server_config = uvicorn_config(
            "negotiate.server:app_factory",
            cfg,
            factory=True,
            host=host,
            port=bound,
            workers=workers,
            log_level=log_level,
            server_header=False,
        )
        return _launch(uvicorn, server_config, sock)
    finally:
        os.environ.pop(_RESOLVED_ENV, None)
        sock.close()


_STARTUP_FAILURE = 3  # uvicorn's own status for a server that could not start


def uvicorn_config(
    app: Any, config: ServerConfig | None = None, *, http: str = "auto", **kwargs: Any
) -> Any:
    """A ``uvicorn.Config`` with the connection limits of a :class:`ServerConfig`.

    What :func:`serve` runs; for running uvicorn yourself
    (``uvicorn.Server(uvicorn_config(app, cfg)).run()``) with the same limits:
    keep-alive timeout, concurrency limit, header and body deadlines and the
    header size limit (see :class:`ServerConfig`).

    Args:
        app: the ASGI application, or its import string.
        config: where the limits come from (default: the defaults).
        http: uvicorn's HTTP parser: ``auto`` (httptools when installed),
            ``httptools`` or ``h11``.
        kwargs: more ``uvicorn.Config`` arguments (``host``, ``port``...).

    Raises:
        ImportError: uvicorn is missing.
        ValueError: an unknown ``http``.
    """
    if http not in ("auto", "httptools", "h11"):
        raise ValueError(f"http must be auto, httptools or h11, got {http!r}")
    cfg = config if config is not None else ServerConfig()
    limits = _ConnectionLimits(cfg.header_timeout, cfg.body_timeout, cfg.max_header_size, http)
    options: dict[str, Any] = {
        "lifespan": "off",
        "ws": "none",  # NOTE: no websocket routes; an upgrade is an ordinary request
        "http": functools.partial(_http_protocol, limits),
        "timeout_keep_alive": cfg.keep_alive_timeout,
        "limit_concurrency": cfg.limit_concurrency,
        "h11_max_incomplete_event_size": cfg.max_header_size,
    }
    return _uvicorn().Config(app, **{**options, **kwargs})


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(f"negotiate serve needs uvicorn: {_INSTALL}") from exc
    return uvicorn


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound as uvicorn binds it (so the workers can share it).

    Raises:
        OSError: the address is taken, not local, or not allowed.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _launch(uvicorn: Any, config: Any, sock: socket.socket) -> int:
    """Run uvicorn on a bound socket until it stops; the exit status."""
    server = uvicorn.Server(config)
    try:
        if config.workers <= 1:
            server.run(sockets=[sock])
            return 0 if server.started else _STARTUP_FAILURE
        from uvicorn.supervisors import Multiprocess

        # NOTE: older uvicorn wants the target (server.run); newer ones make their own.
        params = inspect.signature(Multiprocess).parameters
        extra = {"target": server.run} if "target" in params else {}
        Multiprocess(config, sockets=[sock], **extra).run()
    except SystemExit as exc:  # uvicorn exits so when the application cannot be loaded
        return exc.code if isinstance(exc.code, int) else 1
    return 0


# -- connection limits (a uvicorn HTTP protocol) ------------------------------------


@dataclass(frozen=True)
class _ConnectionLimits:
    """What :class:`_Limited` enforces on each connection (picklable, for the workers)."""

    header_timeout: float
    body_timeout: float
    max_header_size: int
    http: str = "auto"


def _http_protocol(limits: _ConnectionLimits, **kwargs: Any) -> asyncio.Protocol:
    """A uvicorn HTTP protocol with ``limits`` (``functools.partial`` of it is the ``http``
    of :func:`serve`'s uvicorn config; uvicorn calls it with its own keyword arguments)."""
    protocol: asyncio.Protocol = _limited_class(limits.http)(limits=limits, **kwargs)
    return protocol


@functools.cache
def _limited_class(http: str) -> type[_Limited]:
    """uvicorn's protocol class for the parser ``http``, with :class:`_Limited` in front."""
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    module, name = {
        "httptools": ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol"),
        "h11": ("uvicorn.protocols.http.h11_impl", "H11Protocol"),
    }[http]
    base = getattr(importlib.import_module(module), name)
    return type(f"Limited{name}", (_Limited, base), {})


_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class _Limited(asyncio.Protocol):
    """The limits uvicorn's HTTP protocols lack, in front of one of them.

    * the header deadline: from the connection's start, or from the first
      byte of a request on a kept-alive connection, to the end of its head;
    * the body deadline: from the end of the head to the end of the body;
    * the header size: more bytes than ``max_header_size`` before the head
      ends is a 431, whichever parser reads it.

    A deadline that passes is answered 408 (nothing, on a connection that
    sent no byte of its next request) and the connection is closed; the
    application's ``receive()`` then says the client went away. Between
    requests, uvicorn's keep-alive timeout applies.

    Only the ``cycle`` of uvicorn's protocols (the request being served, with
    its ``more_body`` and ``response_complete`` flags), ``transport`` and
    ``loop`` are read; the parsing stays uvicorn's.
    """

    cycle: Any
    transport: Any
    loop: asyncio.AbstractEventLoop

    def __init__(self, *args: Any, limits: _ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._deadline: asyncio.TimerHandle | None = None
        self._head = 0  # bytes of the current request head so far
        self._tail = b""  # its last bytes, to find its end across two reads
        self._lingering = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm(self._limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # refused: what still comes is read and dropped
        before = self.cycle
        heading = before is None or (before.response_complete and not before.more_body)
        if heading:
            size = self._head + len(data)
            if size > self._limits.max_header_size and not self._head_fits(data):
                self._refuse_head()
                return
            self._head = size
        super().data_received(data)
        cycle = self.cycle
        # PERF: the usual request (head and body in one read) arms no timer at all.
        if cycle is not before:  # a head is complete: a new request
            self._head = 0
            if cycle.more_body:
                self._arm(self._limits.body_timeout)
            elif self._deadline is not None:
                self._disarm()
        elif heading:
            self._tail = data[-3:]
            if self._deadline is None:  # the first bytes of a request after keep-alive
                self._arm(self._limits.header_timeout)
        elif self._deadline is not None and not cycle.more_body:
            # the body is complete: the application's turn; after an early answer,
            # the connection is idle now, and gets the head deadline for the next one
            if cycle.response_complete:
                self._arm(self._limits.header_timeout)
            else:
                self._disarm()

    def _head_fits(self, data: bytes) -> bool:
        """Whether the head ends in ``data`` within the size limit."""
        tail = self._tail if self._head else b""
        window = tail + data
        ends = [i + len(end) for end in _HEAD_ENDS if (i := window.find(end)) >= 0]
        offset = self._head - len(tail)
        return bool(ends) and offset + min(ends) <= self._limits.max_header_size

    def _arm(self, seconds: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse_head(self) -> None:
        """431, then a lingering close: the client is likely still sending its headers, and
        closing a socket with unread data resets it, which can lose the answer."""
        self.transport.write(_plain(431, "Request Header Fields Too Large", "Headers too large"))
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the client reads the answer, then the end
        self._arm(_LINGER)

    def _expired(self) -> None:
        self._deadline = None
        transport = self.transport
        if transport.is_closing() or transport.get_protocol() is not self:
            return
        if self._lingering:
            transport.close()
            return
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_started:
            self._answer(408, "Request Timeout", "The request body did not arrive in time")
        elif self._head and (cycle is None or cycle.response_complete):
            self._answer(408, "Request Timeout", "The request headers did not arrive in time")
        else:
            transport.close()

    def _answer(self, status: int, reason: str, message: str) -> None:
        """Answer with ``status`` and a plain-text message, then close the connection."""
        self.transport.write(_plain(status, reason, message))
        self.transport.close()
        self._disarm()


_LINGER = 2.0  # seconds a refused connection is read (and dropped) before it is closed


def _plain(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response with a plain-text body that closes the connection."""
    body = message.encode("ascii")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _banner(
    cfg: ServerConfig, app: App, host: str, port: int, workers: int, token: str | None
) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    base = f"http://{shown}:{port}"
    source = cfg.enrichment_url or "the embedded company database"
    lines = [
        f"negotiate: serving {ENRICH_PATH} and {PREVIEW_PATH}",
        f"  on {base} with {workers} worker(s); enrichment from {source}",
        "  request types:  " + ", ".join(app.registry.request_types),
        "  response types: " + ", ".join(app.registry.response_types),
    ]
    example = _example_id(cfg)
    if cfg.insecure_no_auth:
        lines.append("  WARNING: authentication is OFF (--insecure-no-auth)")
        auth = ""
    elif token is not None:
        lines.append(f"  demo token (valid until this server stops): {token}")
        auth = f" \\\n  -H 'Authorization: Bearer {token}'"
    else:
        auth = " \\\n  -H 'Authorization: Bearer <your token>'"
    if cfg.app_tokens and not cfg.insecure_no_auth:
        auth += f" \\\n  -H '{APP_TOKEN_HEADER}: <your application token>'"
    body = json.dumps(
        {"ContactEntity": {"Name": example[1]}, "EnrichId": example[0]}, ensure_ascii=False
    )
    lines += [
        "",
        "Try it:",
        "",
        f"curl -s -X POST '{base}{ENRICH_PATH}?$select=Name,Address,Phones,Emails'{auth} \\",
        "  -H 'Content-Type: application/json' -H 'Accept: application/json' \\",
        f"  -d '{body}'",
        "",
    ]
    return "\n".join(lines)


def _example_id(cfg: ServerConfig) -> tuple[str, str]:
    if not cfg.enrichment_url:
        try:
            provider = EmbeddedProvider(cfg.database)
            try:
                ids = provider.ids(1, country="NO") or provider.ids(1)
                company = provider.lookup(ids[0]) if ids else None
            finally:
                provider.close()
            if company is not None:
                return company.enrich_id, company.name
        except (OSError, IndexError):
            pass
    return "NO-923609016", "Nordvik Maskin AS"


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``negotiate serve`` to a parser (for the CLI)."""
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"TOML configuration (default: ${CONFIG_ENV}; none: a demo token is made)",
    )
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without authentication (development only)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        help="uvicorn log level (default: info)",
    )
    limits = parser.add_argument_group(
        "connection limits", "per worker; each overrides the [server] table of the configuration"
    )
    for flag, kind, default, what in (
        ("--keep-alive-timeout", float, "5", "seconds an idle connection stays open"),
        ("--header-timeout", float, "10", "seconds to receive a request's headers; then 408"),
        ("--body-timeout", float, "60", "seconds to receive a request's body; then 408"),
        ("--limit-concurrency", int, "128", "connections and requests at once; more get 503"),
        ("--max-header-size", int, "16384", "bytes of request line and headers; more get 431"),
    ):
        limits.add_argument(flag, type=kind, metavar="N", help=f"{what} (default: {default})")


def run(args: argparse.Namespace) -> int:
    """Run ``negotiate serve`` with parsed arguments (see :func:`add_serve_arguments`)."""
    if args.workers < 1:
        print("negotiate serve: --workers must be at least 1", file=sys.stderr)
        return 2
    overrides = {
        name: getattr(args, name) for name in _SERVER_KEYS if getattr(args, name, None) is not None
    }
    return serve(
        args.host,
        args.port,
        args.workers,
        config=args.config,
        insecure_no_auth=args.insecure_no_auth,
        log_level=args.log_level,
        overrides=overrides,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m negotiate.server``: the same as ``negotiate serve``."""
    parser = argparse.ArgumentParser(
        prog="negotiate serve",
        description="Serve SuperOffice's EnrichContactEntity and GetPreviewEnrichContact.",
    )
    add_serve_arguments(parser)
    return run(parser.parse_args(argv))
