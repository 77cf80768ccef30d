"""What the tests share: credentials, the codecs' media types, body builders, servers in threads.

Test modules import from here (``from helpers import ...``); ``conftest.py``
holds only fixtures and imports from here too. pytest puts ``tests/`` on
``sys.path`` (the rootdir's ``conftest.py`` lives there, in the default
"prepend" import mode), which is how ``helpers`` and ``strategies`` resolve
from every test module, ``tests/codecs/`` and ``tests/conformance/`` included.

The parts:

- the credentials every test server accepts (:data:`TOKEN`, :data:`USER`,
  ...) and the header builders :func:`bearer` and :func:`basic`;
- the default registry's media types by kind, each list checked non-empty
  at import (:func:`required`), and :func:`encode_request` /
  :func:`decode_response` / :func:`error_of` for bodies in any of them, and
  :func:`selected_over_asgi` (one selected request to an ASGI app, in process);
- the house application (:func:`house_app`): two operations of the tests'
  own over the catalogue's carriers, which the core's tests (test_http,
  test_asgi, test_wsgi) run against instead of the reference server;
- servers in threads on free loopback ports: :class:`UvicornThread` (ASGI),
  :class:`WsgirefThread` (WSGI) and :class:`FakeEnrichment` (a remote
  enrichment service), each a context manager.
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson

from negotiate.auth import Authenticator
from negotiate.codecs import default_registry
from negotiate.enrich import EmbeddedProvider
from negotiate.errors import InvalidValue, NotFound, excerpt
from negotiate.http import App, Context, Operation, Response
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import get_schema

# -- credentials ----------------------------------------------------------------------------

TOKEN = "test-token-0123456789"
TICKET = "7T:test-ticket"
USER = "tje0"
PASSWORD = "Tje0-pässword"
TOKENS = {"ci": TOKEN, "ticket": TICKET}
"""The configured tokens by principal name (Bearer ``TOKEN`` is the principal ``ci``)."""


def bearer(token: str = TOKEN) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def basic(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    """The Authorization header for Basic credentials."""
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# -- carriers and media types --------------------------------------------------------------

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


def encode_request(media_type: str, wrapper: dict[str, Any]) -> bytes:
    """The request wrapper in a request type (a patch type: the patch from the default)."""
    return REGISTRY.codec(media_type).encode(WRAPPER.normalize(wrapper), WRAPPER)


def decode_response(media_type: str, body: bytes, sent: Any, schema: Any = CONTACT) -> Any:
    """A response body as a value (a patch type: applied to what was sent)."""
    codec, parsed = REGISTRY.for_content_type(media_type)
    return codec.decode(body, schema, media_type=parsed, base=sent)


def error_of(response: Response) -> dict[str, Any]:
    """An error response's fields, whichever codec wrote it (XML's ``<Error>`` root unwrapped)."""
    media = response.header("content-type")
    assert media is not None
    codec, parsed = REGISTRY.for_content_type(media)
    data = codec.decode(response.body, None, media_type=parsed)
    if "Error" in data and len(data) == 1:
        data = data["Error"]
    return dict(data)


def selected_over_asgi(
    asgi: Any, path: str, contact: dict[str, Any], enrich_id: str
) -> dict[str, Any]:
    """``POST path?$select=Name,Address`` to an ASGI app in process (httpx's ASGITransport).

    The request carries Bearer credentials and ``SO-TimeZone: UTC``; the answer is checked
    to be the JSON 200 whose ``Vary`` names every header the core read, with ``contact``'s
    Name, a formatted (enriched) Address and nothing unselected (Phones null).

    Returns:
        The answered (selected) contact.
    """
    import asyncio

    import httpx

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                path,
                params={"$select": "Name,Address"},
                json={"ContactEntity": contact, "EnrichId": enrich_id},
                headers={**bearer(), "SO-TimeZone": "UTC"},
            )

    response = asyncio.run(go())
    assert response.status_code == 200
    assert (
        response.headers["vary"]
        == "Accept, Accept-Encoding, SO-TimeZone, SO-Language, Accept-Language"
    )
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    result: dict[str, Any] = response.json()
    assert result["Name"] == contact["Name"] and result["Address"]["Formatted"]
    assert result["Phones"] is None
    return result


# -- the house application --------------------------------------------------------------------
# NOTE: the core's tests run against these operations, not the reference server's: a change
# to the enrichment rules then cannot break the core's tests, nor hide a break in the core.
# They use the same carriers (EnrichContactEntityRequest -> ContactEntity, and
# GetPreviewEnrichContactRequest -> PreviewContact) and the same error locations, so the
# core's paths (patch bases, $select, shaping, every codec) are all exercised.

COMPLETE_PATH = "/api/v1/House/Contact/Complete"
SUMMARY_PATH = "/api/v1/House/Contact/Summary"
PREVIEW = get_schema("PreviewContact")
SUMMARY_REQUEST = get_schema("GetPreviewEnrichContactRequest")


@dataclass(frozen=True)
class HouseCompany:
    """A company in the house directory."""

    name: str
    phone: str
    street: str
    zipcode: str
    city: str

    def address(self) -> dict[str, Any]:
        """The company's address as an ``Address`` carrier's plain data."""
        return {
            "Street": {"Address1": self.street, "Zipcode": self.zipcode, "City": self.city},
            "Formatted": f"{self.street}\n{self.zipcode} {self.city}",
        }


HOUSE_ID = "NO-912345678"
HOUSE_DIRECTORY = {
    HOUSE_ID: HouseCompany("Fjordlys Rør AS", "+47 55 12 34 56", "Bryggen 7", "5003", "Bergen"),
}


def house_company(value: dict[str, Any]) -> HouseCompany:
    """The directory's company for a request carrier's ``EnrichId``.

    Raises:
        InvalidValue: no ``EnrichId`` (400 at ``/EnrichId``).
        NotFound: the directory has no such company (404 at ``/EnrichId``).
    """
    enrich_id = value["EnrichId"]
    if not enrich_id or not enrich_id.strip():
        raise InvalidValue("EnrichId is required", location="/EnrichId")
    company = HOUSE_DIRECTORY.get(enrich_id)
    if company is None:
        raise NotFound(
            f"Unknown EnrichId {excerpt(enrich_id)}: not in the house directory",
            location="/EnrichId",
        )
    return company


def house_complete(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The sent contact, completed: a name if it had none, one more phone, the address."""
    company = house_company(value)
    sent = value["ContactEntity"]
    contact = sent if sent is not None else CONTACT.default()
    return CONTACT.normalize(
        {
            **contact,
            "Name": contact["Name"] or company.name,
            "Phones": [*(contact["Phones"] or ()), {"Value": company.phone}],
            "Address": company.address(),
        }
    )


def house_summary(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The company as a ``PreviewContact``."""
    company = house_company(value)
    return PREVIEW.normalize(
        {"Name": company.name, "DirectPhone": company.phone, "Address": company.address()}
    )


def _sent_contact(value: dict[str, Any]) -> Any:
    # a patch-format answer is the diff from what the client sent (its default for null)
    sent = value["ContactEntity"]
    return sent if sent is not None else CONTACT.default()


def house_operations() -> list[Operation]:
    """The house's two operations: complete a contact, and summarise a company."""
    return [
        Operation(COMPLETE_PATH, house_complete, WRAPPER, CONTACT, response_base=_sent_contact),
        Operation(SUMMARY_PATH, house_summary, SUMMARY_REQUEST, PREVIEW),
    ]


def house_app(authenticator: Authenticator, options: Options = DEFAULT_OPTIONS) -> App:
    """The house application: :func:`house_operations` behind ``authenticator``."""
    return App(house_operations(), authenticator=authenticator, options=options)


# -- servers in threads -----------------------------------------------------------------------


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
