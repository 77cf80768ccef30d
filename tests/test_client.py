"""The httpx client against the reference application: in process, and a few over real HTTP.

Most tests run the reference application in process, through httpx's own
transports: ``httpx.WSGITransport`` for :class:`Client`,
``httpx.ASGITransport`` for :class:`AsyncClient` (and ``httpx.MockTransport``
for answers no server gives). Three run it under uvicorn on loopback (one
sync, one async, one error path), so the client is also seen over sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers import (
    CONTACT,
    PASSWORD,
    PATCH_REQUEST_TYPES,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    TICKET,
    TOKEN,
    USER,
    WRAPPER,
    XML_RESPONSE_TYPES,
    UvicornThread,
)

from negotiate.asgi import ASGIAdapter
from negotiate.client import AsyncClient, Client, Ticket, error_from_body
from negotiate.enrich import EmbeddedProvider, enrich_contact, preview_contact
from negotiate.errors import (
    GatewayTimeout,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    NotAcceptable,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from negotiate.http import App
from negotiate.wsgi import WSGIAdapter

BASE_URL = "http://negotiate.test"


def in_process(app: App, auth: Any) -> Client:
    """A client of ``app`` through httpx's WSGI transport (no sockets)."""
    return Client(BASE_URL, auth=auth, transport=httpx.WSGITransport(app=WSGIAdapter(app)))


def async_in_process(app: App, auth: Any) -> AsyncClient:
    """An async client of ``app`` through httpx's ASGI transport (no sockets)."""
    transport = httpx.ASGITransport(app=ASGIAdapter(app))
    return AsyncClient(BASE_URL, auth=auth, transport=transport)


@pytest.fixture(scope="module")
def client(app: App) -> Iterator[Client]:
    with in_process(app, TOKEN) as found:
        yield found


def expected(sample: dict[str, Any] | None, provider: EmbeddedProvider, enrich_id: str) -> Any:
    company = provider.lookup(enrich_id)
    assert company is not None
    return enrich_contact(CONTACT.normalize(sample) if sample else None, company)


@pytest.mark.parametrize("accept", RESPONSE_TYPES)
@pytest.mark.parametrize("send_as", REQUEST_TYPES)
def test_every_type(
    client: Client,
    sample: dict[str, Any],
    provider: EmbeddedProvider,
    enrich_id: str,
    send_as: str,
    accept: str,
) -> None:
    result = client.enrich(sample, enrich_id, send_as=send_as, accept=accept)
    assert result == expected(sample, provider, enrich_id)


@pytest.mark.parametrize("accept", RESPONSE_TYPES)
def test_a_null_contact(
    client: Client, provider: EmbeddedProvider, enrich_id: str, accept: str
) -> None:
    assert client.enrich(None, enrich_id, accept=accept) == expected(None, provider, enrich_id)


def test_a_partial_contact_in_any_case(
    client: Client, provider: EmbeddedProvider, enrich_id: str
) -> None:
    result = client.enrich({"name": "Nordvik", "PHONES": [{"value": "1"}]}, enrich_id)
    assert result["Name"] == "Nordvik"
    assert result["Phones"][0]["Value"] == "1"
    assert len(result["Phones"]) > 1


@pytest.mark.parametrize("send_as", PATCH_REQUEST_TYPES)
def test_a_patch_request_against_an_explicit_base(
    client: Client, enrich_id: str, send_as: str
) -> None:
    # the reference server patches the wrapper's default: the same base, given explicitly
    base = WRAPPER.default()
    result = client.enrich({"Name": "Nordvik"}, enrich_id, send_as=send_as, base=base)
    assert result["Name"] == "Nordvik"


def test_select_timezone_language(client: Client, sample: dict[str, Any], enrich_id: str) -> None:
    sample["DbiLastModified"] = "2019-07-11T11:24:47Z"
    sample["Department"] = 'US:"Sales";NO:"Salg";'
    for accept in RESPONSE_TYPES:
        result = client.enrich(
            sample,
            enrich_id,
            select="Department,DbiLastModified,Address/Formatted",
            timezone="US-NY, includeTZOffset",
            language="nb",
            accept=accept,
        )
        assert result["DbiLastModified"] == "2019-07-11T07:24:47-0400", accept
        assert result["Department"] == "Salg"
        assert result["Address"]["Formatted"] and result["Address"]["Street"] is None
        assert result["Name"] is None


@pytest.mark.parametrize("accept", RESPONSE_TYPES)
def test_preview(client: Client, provider: EmbeddedProvider, enrich_id: str, accept: str) -> None:
    company = provider.lookup(enrich_id)
    assert company is not None
    assert client.preview(enrich_id, accept=accept) == preview_contact(company)


# -- errors come back as their classes ----------------------------------------------------------


@pytest.mark.parametrize("accept", RESPONSE_TYPES)
def test_unknown_enrich_id_is_not_found(client: Client, accept: str) -> None:
    with pytest.raises(NotFound) as caught:
        client.enrich(None, "NO-000000000", accept=accept)
    assert caught.value.status == 404
    assert caught.value.location == "/EnrichId"
    assert caught.value.message == (
        "Unknown EnrichId 'NO-000000000': the enrichment provider has no such company"
    )


def test_bad_select_is_400_at_select(client: Client, enrich_id: str) -> None:
    with pytest.raises(MalformedBody) as caught:
        client.enrich(None, enrich_id, select="Nmae")
    assert caught.value.status == 400 and caught.value.location == "$select"


def test_not_acceptable_lists_the_types(client: Client, enrich_id: str) -> None:
    with pytest.raises(NotAcceptable) as caught:
        client.enrich(None, enrich_id, accept="image/png")
    assert caught.value.detail["supported"] == list(RESPONSE_TYPES)


def test_bad_timezone_is_400(client: Client, enrich_id: str) -> None:
    with pytest.raises(MalformedBody) as caught:
        client.enrich(None, enrich_id, timezone="Mars")
    assert caught.value.location.lower() == "so-timezone"


@pytest.mark.parametrize(
    "auth",
    ["wrong-token", ("tje0", "wrong"), Ticket("wrong"), None],
    ids=["bearer", "basic", "ticket", "none"],
)
def test_refused_credentials_are_unauthorized(app: App, enrich_id: str, auth: Any) -> None:
    with in_process(app, auth) as other, pytest.raises(Unauthorized) as caught:
        other.preview(enrich_id)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "auth", [(USER, PASSWORD), Ticket(TICKET), TOKEN], ids=["basic", "ticket", "bearer"]
)
def test_accepted_credentials(app: App, enrich_id: str, auth: Any) -> None:
    with in_process(app, auth) as other:
        assert other.preview(enrich_id)["Name"]


def test_local_errors_before_sending(client: Client, enrich_id: str) -> None:
    with pytest.raises(InvalidValue):
        client.enrich({"ContactId": "not a number"}, enrich_id)
    with pytest.raises(UnsupportedMediaType):
        client.enrich(None, enrich_id, send_as="text/plain")


def test_an_unreachable_server_is_an_httpx_error() -> None:
    with (
        Client("http://127.0.0.1:9", auth=TOKEN, timeout=2) as dead,
        pytest.raises(httpx.ConnectError),
    ):
        dead.preview("x")


def test_a_mock_transport(enrich_id: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.url.params["$select"] == "Name"
        return httpx.Response(
            504,
            headers={"Content-Type": "application/json"},
            json={"Message": "Gateway Timeout", "MessageDetail": "slow", "Location": ""},
        )

    with Client("http://x", auth=TOKEN, transport=httpx.MockTransport(handler)) as mocked:
        with pytest.raises(GatewayTimeout, match="slow"):
            mocked.enrich(None, enrich_id, select="Name")


def test_unexpected_answers() -> None:
    answers = iter(
        [
            httpx.Response(204),
            httpx.Response(200, content=b"{}"),
            httpx.Response(
                502, content=b"<html>proxy error</html>", headers={"Content-Type": "text/html"}
            ),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    with Client("http://x", transport=transport) as mocked:
        with pytest.raises(NegotiateError, match="Unexpected status 204") as first:
            mocked.preview("x")
        assert first.value.status == 204
        with pytest.raises(UnsupportedMediaType, match="no Content-Type"):
            mocked.preview("x")
        with pytest.raises(NegotiateError, match="proxy error") as third:
            mocked.preview("x")
        assert third.value.status == 502


# -- error bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "data", "cls", "message", "location", "detail"),
    [
        (
            404,
            {
                "Message": "Not Found",
                "MessageDetail": "gone - at /EnrichId",
                "Location": "/EnrichId",
            },
            NotFound,
            "gone",
            "/EnrichId",
            {},
        ),
        (
            415,
            {
                "Error": {
                    "Message": "Unsupported Media Type",
                    "MessageDetail": "no",
                    "Status": "415",
                    "Location": None,
                    "Supported": {"string": ["a", "b"]},
                }
            },
            UnsupportedMediaType,
            "no",
            "",
            {"supported": ["a", "b"]},
        ),
        (
            406,
            {"Error": {"MessageDetail": "x", "Supported": {"string": "a"}}},
            NotAcceptable,
            "x",
            "",
            {"supported": ["a"]},
        ),
        (418, {"Message": "Teapot"}, NegotiateError, "Teapot", "", {}),
        (500, None, NegotiateError, "fallback", "", {}),
    ],
    ids=["json", "xml", "xml-one-item", "unknown-status", "no-body"],
)
def test_error_from_body(
    status: int,
    data: Any,
    cls: type[NegotiateError],
    message: str,
    location: str,
    detail: dict[str, Any],
) -> None:
    error = error_from_body(status, data, "fallback")
    assert type(error) is cls
    assert (error.status, error.message, error.location, error.detail) == (
        status,
        message,
        location,
        detail,
    )


# -- async ---------------------------------------------------------------------------------------


async def async_round(client: AsyncClient, sample: dict[str, Any], enrich_id: str) -> list[Any]:
    """Every request type with every response type at once, a preview, and a refusal."""
    async with client:
        calls = [
            client.enrich(sample, enrich_id, send_as=send_as, accept=accept)
            for send_as in REQUEST_TYPES
            for accept in RESPONSE_TYPES
        ]
        results = await asyncio.gather(*calls)
        results.append(await client.preview(enrich_id, select="Name"))
        try:
            await client.enrich(None, "NO-000000000")
        except NotFound as exc:
            results.append(exc)
        return results


def check_async_round(results: list[Any], want: Any) -> None:
    assert all(r == want for r in results[:-2])
    assert results[-2]["Name"] and results[-2]["Address"] is None
    assert isinstance(results[-1], NotFound)


def test_the_async_client(
    app: App, sample: dict[str, Any], provider: EmbeddedProvider, enrich_id: str
) -> None:
    client = async_in_process(app, (USER, PASSWORD))
    results = run_async(async_round(client, sample, enrich_id))
    check_async_round(results, expected(sample, provider, enrich_id))


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


# -- over real HTTP (the reference application under uvicorn) ----------------------------------


def test_the_client_over_real_http(
    asgi_server: UvicornThread, sample: dict[str, Any], provider: EmbeddedProvider, enrich_id: str
) -> None:
    want = expected(sample, provider, enrich_id)
    with Client(asgi_server.url, auth=(USER, PASSWORD)) as client:
        for send_as in REQUEST_TYPES:
            assert client.enrich(sample, enrich_id, send_as=send_as) == want, send_as
        for accept in RESPONSE_TYPES:
            assert client.enrich(sample, enrich_id, accept=accept) == want, accept
        assert client.preview(enrich_id, select="Name")["Address"] is None


def test_the_async_client_over_real_http(
    asgi_server: UvicornThread, sample: dict[str, Any], provider: EmbeddedProvider, enrich_id: str
) -> None:
    client = AsyncClient(asgi_server.url, auth=Ticket(TICKET))
    results = run_async(async_round(client, sample, enrich_id))
    check_async_round(results, expected(sample, provider, enrich_id))


def test_refusals_over_real_http(asgi_server: UvicornThread, enrich_id: str) -> None:
    with Client(asgi_server.url, auth="wrong-token") as other, pytest.raises(Unauthorized):
        other.preview(enrich_id)
    with Client(asgi_server.url, auth=TOKEN) as client, pytest.raises(NotFound) as caught:
        client.enrich(None, "NO-000000000", accept=XML_RESPONSE_TYPES[0])
    assert (caught.value.status, caught.value.location) == (404, "/EnrichId")
