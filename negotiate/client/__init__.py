"""A client for the contact enrichment agent, on httpx (extra: ``client``).

::

    from negotiate.client import Client

    with Client("http://127.0.0.1:8000", auth="<token>") as client:
        contact = client.enrich({"Name": "Nordvik"}, "NO-923609016", accept="application/xml")
        preview = client.preview("NO-923609016")

:class:`AsyncClient` has the same methods, as coroutines.

Requests are encoded with any request codec of the registry (``send_as``):
JSON, XML, form-urlencoded, and the patch formats, where the body is the
patch from ``base`` (default: the request wrapper's default, the server's
default base) to the request. Responses are decoded with the codec of their
``Content-Type``; a patch-format response is applied to the ContactEntity
that was sent (as the server computed it), so every ``accept`` gives the same
result. A server error comes back as the :class:`~negotiate.errors.NegotiateError`
subclass of its status (404 :class:`~negotiate.errors.NotFound`, 401
:class:`~negotiate.errors.Unauthorized`, ...) with the server's message,
location and details (``Supported``).

Content codings: every request says ``Accept-Encoding`` with the codings this
installation reads (:func:`negotiate.coding.decodable_codings`: gzip and
deflate, br and zstd with their packages), and the answer is decoded here, not
by httpx, with :class:`negotiate.coding.Decoder` while it streams in, bounded
by ``options.max_body`` of decoded bytes (a server's decompression bomb is a
:class:`~negotiate.errors.BodyTooLarge`, not a full memory). ``compress``
(``"gzip"``, ``"br"``, ...) compresses request bodies of at least
:data:`negotiate.coding.MIN_ENCODE_SIZE` bytes, with ``Content-Encoding``.

Authentication (``auth``): a ``(user, password)`` pair for Basic, a string
for a Bearer token, :class:`Ticket` for ``SOTicket``, or any ``httpx.Auth``.
A partner application adds its ``SO-AppToken`` with ``app_token``, sent on
every request (a server with application tokens configured requires it with
Bearer and SOTicket).

Where things are: this module holds the two clients (their I/O);
``_exchange`` what both share (a request encoded, its answer read),
:mod:`~negotiate.client.credentials` the ``auth`` classes and
:mod:`~negotiate.client.error_bodies` an error body read back into its error.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("negotiate.client needs httpx: pip install 'negotiate[client]'") from exc

# NOTE: the submodules import httpx as they need it; the package runs first, so a
# missing extra is always this ImportError.
from negotiate.client._exchange import _Answer, _Base, _Call, _headers
from negotiate.client.credentials import Auth, Bearer as Bearer, Ticket as Ticket, _auth
from negotiate.client.error_bodies import error_from_body as error_from_body
from negotiate.codecs import CodecRegistry
from negotiate.media import MEDIA_JSON
from negotiate.options import DEFAULT_OPTIONS, Options

__all__ = ["AsyncClient", "Bearer", "Client", "Ticket", "error_from_body"]


class Client(_Base):
    """A synchronous client.

    Args:
        base_url: the server, such as ``http://127.0.0.1:8000``.
        auth: ``(user, password)``, a Bearer token, :class:`Ticket`, an ``httpx.Auth``.
        timeout: seconds for each request (httpx's meaning).
        app_token: the partner application's token, sent as ``SO-AppToken``.
        headers: extra headers for every request.
        registry: the codecs (default: :func:`negotiate.codecs.default_registry`).
        options: limits for encoding and decoding.
        transport: an httpx transport (``httpx.MockTransport``, a WSGI app's).
        compress: the content coding request bodies are compressed with
            (``"gzip"``, ``"deflate"``, ``"br"``, ``"zstd"``), or ``None``.

    Raises:
        ValueError: ``app_token`` is empty or has surrounding spaces, or
            ``compress`` is not a content coding.
        ImportError: ``compress`` is ``br`` or ``zstd`` without its package.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: Auth = None,
        app_token: str | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        registry: CodecRegistry | None = None,
        options: Options = DEFAULT_OPTIONS,
        transport: httpx.BaseTransport | None = None,
        compress: str | None = None,
    ) -> None:
        super().__init__(registry, options, compress)
        self.http = httpx.Client(
            base_url=base_url,
            auth=_auth(auth),
            timeout=timeout,
            headers=_headers(headers, app_token),
            transport=transport,
        )

    def enrich(
        self,
        contact: Mapping[str, Any] | None,
        enrich_id: str,
        *,
        select: str | None = None,
        send_as: str = MEDIA_JSON,
        accept: str = MEDIA_JSON,
        timezone: str | None = None,
        language: str | None = None,
        culture: str | None = None,
        base: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Enrich a contact (``POST .../EnrichContactEntity``).

        Args:
            contact: a ContactEntity (any subset of its fields, names in any
                case), or ``None``.
            enrich_id: the company's id at the enrichment provider.
            select: ``$select``, such as ``"Name,Address,Phones"``.
            send_as: the request Content-Type: any request type of the registry.
            accept: the Accept header (a type, or a whole header value).
            timezone: ``SO-TimeZone`` (``"NO"``, ``"US-NY, includeTZOffset"``).
            language: ``SO-Language``.
            culture: ``SO-Culture``.
            base: for a patch ``send_as``, the request wrapper the server
                applies the patch to (default: the wrapper's default, which
                is what the reference server uses).

        Returns:
            The enriched ContactEntity, normalised.

        Raises:
            NegotiateError: the server's error as its subclass (404 for an
                unknown id, 401, 400, ...); or the contact is invalid
                (400, raised before sending); or ``send_as`` is unknown (415).
            httpx.HTTPError: the server could not be reached.
        """
        call = self._enrich_call(
            contact,
            enrich_id,
            select=select,
            send_as=send_as,
            accept=accept,
            timezone=timezone,
            language=language,
            culture=culture,
            base=base,
        )
        return self._send(call)

    def preview(
        self,
        enrich_id: str,
        *,
        select: str | None = None,
        send_as: str = MEDIA_JSON,
        accept: str = MEDIA_JSON,
        timezone: str | None = None,
        language: str | None = None,
        culture: str | None = None,
    ) -> dict[str, Any]:
        """Preview a company (``POST .../GetPreviewEnrichContact``).

        Arguments as :meth:`enrich`.

        Returns:
            The PreviewContact, normalised.

        Raises:
            NegotiateError: as :meth:`enrich`.
            httpx.HTTPError: the server could not be reached.
        """
        call = self._preview_call(
            enrich_id,
            select=select,
            send_as=send_as,
            accept=accept,
            timezone=timezone,
            language=language,
            culture=culture,
        )
        return self._send(call)

    def _send(self, call: _Call) -> dict[str, Any]:
        with self.http.stream(
            "POST", call.path, content=call.body, headers=call.headers, params=call.params
        ) as response:
            if response.is_stream_consumed:
                return self._answer(call, response, response.content)  # see _Answer
            answer = _Answer(response, self.options.max_body)
            for chunk in response.iter_raw():
                answer.feed(chunk)
        return self._answer(call, response, answer.content())

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Base):
    """An asynchronous client; arguments as :class:`Client` (``transport`` is async)."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: Auth = None,
        app_token: str | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        registry: CodecRegistry | None = None,
        options: Options = DEFAULT_OPTIONS,
        transport: httpx.AsyncBaseTransport | None = None,
        compress: str | None = None,
    ) -> None:
        super().__init__(registry, options, compress)
        self.http = httpx.AsyncClient(
            base_url=base_url,
            auth=_auth(auth),
            timeout=timeout,
            headers=_headers(headers, app_token),
            transport=transport,
        )

    async def enrich(
        self,
        contact: Mapping[str, Any] | None,
        enrich_id: str,
        *,
        select: str | None = None,
        send_as: str = MEDIA_JSON,
        accept: str = MEDIA_JSON,
        timezone: str | None = None,
        language: str | None = None,
        culture: str | None = None,
        base: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """As :meth:`Client.enrich`."""
        call = self._enrich_call(
            contact,
            enrich_id,
            select=select,
            send_as=send_as,
            accept=accept,
            timezone=timezone,
            language=language,
            culture=culture,
            base=base,
        )
        return await self._send(call)

    async def preview(
        self,
        enrich_id: str,
        *,
        select: str | None = None,
        send_as: str = MEDIA_JSON,
        accept: str = MEDIA_JSON,
        timezone: str | None = None,
        language: str | None = None,
        culture: str | None = None,
    ) -> dict[str, Any]:
        """As :meth:`Client.preview`."""
        call = self._preview_call(
            enrich_id,
            select=select,
            send_as=send_as,
            accept=accept,
            timezone=timezone,
            language=language,
            culture=culture,
        )
        return await self._send(call)

    async def _send(self, call: _Call) -> dict[str, Any]:
        async with self.http.stream(
            "POST", call.path, content=call.body, headers=call.headers, params=call.params
        ) as response:
            if response.is_stream_consumed:
                return self._answer(call, response, response.content)  # see _Answer
            answer = _Answer(response, self.options.max_body)
            async for chunk in response.aiter_raw():
                answer.feed(chunk)
        return self._answer(call, response, answer.content())

    async def aclose(self) -> None:
        """Close the connections."""
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
