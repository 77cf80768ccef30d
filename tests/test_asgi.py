"""The ASGI adapter: in process (httpx.ASGITransport, hand-made scopes) and under uvicorn.

The application behind it is the house one (``helpers.house_app``), not the
reference server's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import orjson
import pytest
from helpers import (
    COMPLETE_PATH,
    HOUSE_ID,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    SUMMARY_PATH,
    UvicornThread,
    basic,
    bearer,
    decode_response,
    encode_request,
    selected_over_asgi,
)

from negotiate.asgi import ASGIAdapter, NegotiateMiddleware
from negotiate.auth import ANONYMOUS
from negotiate.http import App, Context, Operation
from negotiate.options import Options

JSON = "application/json"
Message = MutableMapping[str, Any]


@pytest.fixture(scope="module")
def app(house: App) -> App:
    """The application behind the adapter: the house one, not the reference server's."""
    return house


@pytest.fixture(scope="module")
def enrich_id() -> str:
    """An EnrichId the house directory knows."""
    return HOUSE_ID


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def call(
    asgi: Any, scope: dict[str, Any], messages: list[Message]
) -> tuple[list[Message], int]:
    """Drive an ASGI app by hand; returns what it sent and how many messages it read."""
    sent: list[Message] = []
    queue = list(messages)
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await asgi(scope, receive, send)
    return sent, read


def http_scope(path: str = COMPLETE_PATH, method: str = "POST", **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
    }


# -- in process --------------------------------------------------------------------------------


class TestInProcess:
    def test_through_httpx_asgi_transport(
        self, app: App, sample: dict[str, Any], enrich_id: str
    ) -> None:
        selected_over_asgi(ASGIAdapter(app), COMPLETE_PATH, sample, enrich_id)

    def test_a_body_in_chunks(self, app: App, enrich_id: str) -> None:
        body = orjson.dumps({"EnrichId": enrich_id})
        chunks = [body[i : i + 3] for i in range(0, len(body), 3)]
        messages = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        scope = http_scope(Content_Type=JSON, **bearer())
        sent, _ = run(call(ASGIAdapter(app), scope, messages))
        assert sent[0]["status"] == 200
        assert orjson.loads(sent[1]["body"])["Address"]["Formatted"]

    def test_refused_before_reading_the_body(self, app: App) -> None:
        scope = http_scope(Content_Type=JSON)
        sent, read = run(call(ASGIAdapter(app), scope, [{"type": "http.request", "body": b"{}"}]))
        assert sent[0]["status"] == 401
        assert (b"www-authenticate", b'Basic realm="SuperOffice Username or Ticket"') in sent[0][
            "headers"
        ]
        assert read == 0

    def test_a_streamed_body_over_the_limit_is_413_without_reading_on(self) -> None:
        app = App(
            [Operation("/x", lambda v, c: v, None, None)],
            authenticator=ANONYMOUS,
            options=Options(max_body=10),
        )
        messages = [{"type": "http.request", "body": b"123456", "more_body": True}] * 5
        sent, read = run(call(ASGIAdapter(app), http_scope("/x", Content_Type=JSON), messages))
        assert sent[0]["status"] == 413
        assert read == 2

    def test_a_disconnect_sends_nothing(self, app: App) -> None:
        scope = http_scope(Content_Type=JSON, **bearer())
        sent, _ = run(call(ASGIAdapter(app), scope, [{"type": "http.disconnect"}]))
        assert sent == []

    def test_lifespan_and_websocket_without_a_fallback(self, app: App) -> None:
        messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent, _ = run(call(ASGIAdapter(app), {"type": "lifespan"}, messages))
        assert [m["type"] for m in sent] == [
            "lifespan.startup.complete",
            "lifespan.shutdown.complete",
        ]
        sent, _ = run(call(ASGIAdapter(app), {"type": "websocket", "path": "/"}, []))
        assert sent == [{"type": "websocket.close", "code": 1000}]

    def test_other_paths_and_scopes_go_to_the_fallback(self, app: App) -> None:
        seen: list[str] = []

        async def fallback(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["type"] + " " + scope.get("path", ""))
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})

        adapter = ASGIAdapter(app, fallback=fallback)
        sent, _ = run(call(adapter, http_scope("/health", method="GET"), []))
        assert sent[0]["status"] == 204
        run(call(adapter, {"type": "lifespan"}, []))
        ours = [{"type": "http.request", "body": b'{"EnrichId": "NO-1"}'}]
        sent, _ = run(call(adapter, http_scope(Content_Type=JSON, **bearer()), ours))
        assert sent[0]["status"] == 404  # answered by the app (unknown EnrichId)
        assert b"Unknown EnrichId" in sent[1]["body"]
        assert seen == ["http /health", "lifespan "]

    def test_starlette_middleware(self, app: App, enrich_id: str) -> None:
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        async def hello(request: Any) -> PlainTextResponse:
            return PlainTextResponse("hello")

        web = Starlette(routes=[Route("/hello", hello)])
        web.add_middleware(NegotiateMiddleware, handler=app)

        async def go() -> tuple[httpx.Response, httpx.Response]:
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                ours = await client.post(
                    SUMMARY_PATH, json={"EnrichId": enrich_id}, headers=basic()
                )
                theirs = await client.get("/hello")
                return ours, theirs

        ours, theirs = run(go())
        assert ours.status_code == 200 and ours.json()["Name"]
        assert theirs.text == "hello"

    def test_blocking_handlers_run_in_a_thread(self) -> None:
        threads: list[int] = []

        def handler(value: Any, ctx: Context) -> Any:
            threads.append(threading.get_ident())
            return value

        app = App([Operation("/x", handler, None, None, blocking=True)], authenticator=ANONYMOUS)
        adapter = ASGIAdapter(app)
        assert adapter.threaded

        async def go() -> tuple[list[Message], int]:
            threads.append(threading.get_ident())
            return await call(
                adapter,
                http_scope("/x", Content_Type=JSON),
                [{"type": "http.request", "body": b"[1]"}],
            )

        sent, _ = run(go())
        assert sent[1]["body"] == b"[1]"
        assert threads[0] != threads[1]
        assert ASGIAdapter(app, threaded=False).threaded is False


# -- under uvicorn, real HTTP ----------------------------------------------------------------


@pytest.fixture(scope="module")
def house_server(app: App) -> Iterator[UvicornThread]:
    """The house application under uvicorn (real HTTP on 127.0.0.1)."""
    with UvicornThread(ASGIAdapter(app)) as server:
        yield server


@pytest.fixture(scope="module")
def client(house_server: UvicornThread) -> Any:
    with httpx.Client(base_url=house_server.url, headers=bearer(), timeout=10) as http:
        yield http


@pytest.mark.parametrize("accept", RESPONSE_TYPES)
@pytest.mark.parametrize("content_type", REQUEST_TYPES)
def test_every_type_over_real_http(
    client: httpx.Client, sample: dict[str, Any], enrich_id: str, content_type: str, accept: str
) -> None:
    select = "Name,Department,Address,Phones,Emails,DbiLastModified"
    sample["DbiLastModified"] = "2019-07-11T11:24:47.8282933+02:00"
    sample["Department"] = 'US:"Sales";NO:"Salg";'
    headers = {"SO-TimeZone": "UTC", "SO-Language": "nb"}
    expected = client.post(
        COMPLETE_PATH,
        params={"$select": select},
        json={"ContactEntity": sample, "EnrichId": enrich_id},
        headers=headers,
    ).json()
    assert expected["DbiLastModified"] == "2019-07-11T09:24:47.8282933"
    assert expected["Department"] == "Salg"
    response = client.post(
        COMPLETE_PATH,
        params={"$select": select},
        content=encode_request(content_type, {"ContactEntity": sample, "EnrichId": enrich_id}),
        headers={**headers, "Content-Type": content_type, "Accept": accept},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    assert (
        response.headers["vary"]
        == "Accept, Accept-Encoding, SO-TimeZone, SO-Language, Accept-Language"
    )
    assert decode_response(accept, response.content, sample) == expected


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("POST", "/api/v1/Agents/Contact/Nope", {}, b"{}", 404),
        ("GET", COMPLETE_PATH, {}, b"", 405),
        ("POST", COMPLETE_PATH, {"Accept": "image/png"}, b"{}", 406),
        ("POST", COMPLETE_PATH, {"Content-Type": "text/plain"}, b"x", 415),
        ("POST", COMPLETE_PATH, {"Content-Type": JSON}, b"{", 400),
        ("POST", COMPLETE_PATH, {"Content-Type": JSON}, b'{"EnrichId": "NO-1"}', 404),
        ("POST", COMPLETE_PATH, {"Authorization": "Bearer nope"}, b"{}", 401),
        ("POST", COMPLETE_PATH, {"Authorization": ""}, b"{}", 401),
    ],
    ids=["404", "405", "406", "415", "400", "unknown-id", "401-wrong", "401-none"],
)
def test_refusals_over_real_http(
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
) -> None:
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["vary"] == "Accept, Accept-Encoding"
    assert response.json()["Status"] == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic realm=")
    if status == 405:
        assert response.headers["allow"] == "POST"


def test_413_over_real_http() -> None:
    app = App(
        [Operation("/x", lambda v, c: v, None, None)],
        authenticator=ANONYMOUS,
        options=Options(max_body=1000),
    )
    with UvicornThread(ASGIAdapter(app)) as server, httpx.Client(base_url=server.url) as http:
        big = http.post("/x", content=b"[" + b"1," * 1000 + b"1]", headers={"Content-Type": JSON})
        assert big.status_code == 413
        assert big.json()["Limit"] == 1000

        def chunks() -> Any:
            for _ in range(100):
                yield b"1" * 100

        streamed = http.post("/x", content=chunks(), headers={"Content-Type": JSON})
        assert streamed.status_code == 413
        assert http.post("/x", content=b"[1]", headers={"Content-Type": JSON}).json() == [1]
