"""Shared fixtures: the reference application, real servers on loopback, a fake remote source.

The servers are session-scoped and started once: uvicorn (ASGI) and wsgiref
(WSGI) each in a thread on a free 127.0.0.1 port, serving the reference
application with known credentials, and a fake remote enrichment service
(``http.server``) for the HTTP provider. Each is stopped at the end of the
session.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
import pytest
from hypothesis import HealthCheck, settings

from negotiate.asgi import ASGIAdapter
from negotiate.auth import hash_password
from negotiate.codecs import default_registry
from negotiate.enrich import EmbeddedProvider
from negotiate.http import App
from negotiate.schema import get_schema
from negotiate.server import ServerConfig, create_app
from negotiate.wsgi import WSGIAdapter

# Carriers are large draws and CI machines are slow: the size and speed health
# checks say nothing about correctness here. Under CI the examples are
# derandomised, so a run is reproducible; locally they stay random, so new
# examples keep being explored.
settings.register_profile(
    "negotiate",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("negotiate-ci", settings.get_profile("negotiate"), derandomize=True)
settings.load_profile("negotiate-ci" if os.environ.get("CI") else "negotiate")

TOKEN = "test-token-0123456789"
TICKET = "7T:test-ticket"
USER = "tje0"
PASSWORD = "Tje0-pässword"
REGISTRY = default_registry()
REQUEST_TYPES = REGISTRY.request_types
RESPONSE_TYPES = REGISTRY.response_types
CONTACT = get_schema("ContactEntity")
WRAPPER = get_schema("EnrichContactEntityRequest")
SAMPLE = Path(__file__).resolve().parent.parent / "negotiate" / "data" / "contact-sample.json"


def is_patch(media_type: str) -> bool:
    """Whether a media type is a patch format (its responses are diffs)."""
    return media_type.endswith("patch+json")


def required(types: list[str], what: str) -> list[str]:
    """``types``, which must not be empty.

    Raises:
        RuntimeError: no such codec is registered. A registry missing a codec
            the suite tests is a broken build: the whole run fails at
            collection, instead of the tests quietly becoming skips.
    """
    if not types:
        raise RuntimeError(f"default_registry() has no {what} codec registered")
    return types


PATCH_REQUEST_TYPES = required([t for t in REQUEST_TYPES if is_patch(t)], "patch request")
PATCH_RESPONSE_TYPES = required([t for t in RESPONSE_TYPES if is_patch(t)], "patch response")
XML_RESPONSE_TYPES = required([t for t in RESPONSE_TYPES if t.endswith("xml")], "XML response")


def bearer(token: str = TOKEN) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def basic(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    """The Authorization header for Basic credentials."""
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def encode_request(media_type: str, wrapper: dict[str, Any]) -> bytes:
    """The request wrapper in a request type (a patch type: the patch from the default)."""
    return REGISTRY.codec(media_type).encode(WRAPPER.normalize(wrapper), WRAPPER)


def decode_response(media_type: str, body: bytes, sent: Any, schema: Any = CONTACT) -> Any:
    """A response body as a value (a patch type: applied to what was sent)."""
    codec, parsed = REGISTRY.for_content_type(media_type)
    return codec.decode(body, schema, media_type=parsed, base=sent)


@pytest.fixture(scope="session")
def config() -> ServerConfig:
    """The reference server's configuration: one user, one token, one ticket."""
    return ServerConfig(
        users={USER: hash_password(PASSWORD)},
        tokens={"ci": TOKEN, "ticket": TICKET},
    )


@pytest.fixture(scope="session")
def app(config: ServerConfig) -> App:
    """The reference application (embedded provider)."""
    return create_app(config)


@pytest.fixture(scope="session")
def provider() -> Iterator[EmbeddedProvider]:
    """The embedded enrichment provider."""
    found = EmbeddedProvider()
    yield found
    found.close()


@pytest.fixture(scope="session")
def enrich_id(provider: EmbeddedProvider) -> str:
    """A Norwegian EnrichId that exists."""
    return provider.ids(1, country="NO")[0]


@pytest.fixture
def sample() -> dict[str, Any]:
    """The bundled sample ContactEntity, normalised (a fresh copy per test)."""
    return CONTACT.normalize(orjson.loads(SAMPLE.read_bytes()))


def free_socket() -> socket.socket:
    """A listening-ready socket bound to a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class UvicornThread:
    """uvicorn serving an ASGI app in a thread on a free loopback port."""

    def __init__(self, asgi: Any) -> None:
        import uvicorn

        self.socket = free_socket()
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            asgi, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


@pytest.fixture(scope="session")
def asgi_server(app: App) -> Iterator[UvicornThread]:
    """The reference application under uvicorn (real HTTP on 127.0.0.1)."""
    with UvicornThread(ASGIAdapter(app)) as server:
        yield server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class WsgirefThread:
    """wsgiref serving a WSGI app in a thread on a free loopback port."""

    def __init__(self, wsgi: Any) -> None:
        self.server = make_server(
            "127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WsgirefThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=20)


@pytest.fixture(scope="session")
def wsgi_server(app: App) -> Iterator[WsgirefThread]:
    """The reference application under wsgiref (real HTTP on 127.0.0.1)."""
    with WsgirefThread(WSGIAdapter(app)) as server:
        yield server


class FakeEnrichment:
    """A fake remote enrichment service.

    ``GET /companies/<id>``: a known id answers the embedded provider's
    company; ``SLOW-<n>`` sleeps ``n`` ms first; ``FAIL-<status>`` answers that
    status; ``FLAKY-<n>-<id>`` fails with 503 the first ``n`` times (per id),
    then answers ``<id>``; ``BAD`` answers invalid JSON; ``WRONG`` a JSON
    object missing keys; ``HUGE`` more than a megabyte. Requests are counted
    per id.
    """

    def __init__(self, provider: EmbeddedProvider) -> None:
        self.provider = provider
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                status, body = fake.answer(unquote(self.path.rsplit("/", 1)[-1]))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/companies/{{id}}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, key: str) -> tuple[int, bytes]:
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            count = self.hits[key]
        if key.startswith("SLOW-"):
            time.sleep(int(key[5:]) / 1000)
            key = self.provider.ids(1)[0]
        elif key.startswith("FAIL-"):
            return int(key[5:]), b'{"error": "failed"}'
        elif key.startswith("FLAKY-"):
            _, failures, key = key.split("-", 2)
            if count <= int(failures):
                return 503, b'{"error": "try again"}'
        elif key == "BAD":
            return 200, b'{"EnrichId": '
        elif key == "WRONG":
            return 200, json.dumps({"EnrichId": "X"}).encode()
        elif key == "HUGE":
            return 200, b" " * (1 << 20) + b"{}"
        company = self.provider.lookup(key)
        if company is None:
            return 404, b'{"error": "no such company"}'
        return 200, orjson.dumps(company.to_dict())

    def count(self, key: str) -> int:
        """How many requests asked for ``key``."""
        with self.lock:
            return self.hits.get(key, 0)

    def __enter__(self) -> FakeEnrichment:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=20)


@pytest.fixture(scope="session")
def fake_enrichment(provider: EmbeddedProvider) -> Iterator[FakeEnrichment]:
    """The fake remote enrichment service, on loopback."""
    with FakeEnrichment(provider) as fake:
        yield fake
