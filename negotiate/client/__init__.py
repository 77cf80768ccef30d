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
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from types import TracebackType
from typing import Any

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("negotiate.client needs httpx: pip install 'negotiate[client]'") from exc

from negotiate.codecs import CodecRegistry, default_registry
from negotiate.coding import (
    MIN_ENCODE_SIZE,
    Decoder,
    available_codings,
    decodable_codings,
    encode_body,
)
from negotiate.errors import BodyTooLarge, NegotiateError, UnsupportedMediaType, error_class
from negotiate.media import CODING_IDENTITY, MEDIA_JSON, canonical_coding
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Schema, get_schema
from negotiate.superoffice import (
    APP_TOKEN_HEADER,
    CULTURE_HEADER,
    ENRICH_PATH,
    ENRICH_REQUEST,
    ENRICH_RESPONSE,
    LANGUAGE_HEADER,
    PREVIEW_PATH,
    PREVIEW_REQUEST,
    PREVIEW_RESPONSE,
    TIMEZONE_HEADER,
)

__all__ = ["AsyncClient", "Bearer", "Client", "Ticket", "error_from_body"]

# NOTE: the endpoint's facts come from negotiate.superoffice, not the server: importing
# the client loads no server machinery (authenticators, providers, SQLite, adapters).
_CONTACT = get_schema(ENRICH_RESPONSE)
_ENRICH_REQUEST = get_schema(ENRICH_REQUEST)
_PREVIEW = get_schema(PREVIEW_RESPONSE)
_PREVIEW_REQUEST = get_schema(PREVIEW_REQUEST)
_ERROR_KEYS = frozenset({"Message", "MessageDetail", "Status", "Location"})

Auth = tuple[str, str] | str | httpx.Auth | None


class Bearer(httpx.Auth):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header."""
        request.headers["Authorization"] = self._header
        yield request


class Ticket(httpx.Auth):
    """``Authorization: SOTicket <ticket>`` (SuperOffice's credentials ticket)."""

    def __init__(self, ticket: str) -> None:
        self._header = f"SOTicket {ticket}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header."""
        request.headers["Authorization"] = self._header
        yield request


def _auth(auth: Auth) -> httpx.Auth | tuple[str, str] | None:
    if isinstance(auth, str):
        return Bearer(auth)
    return auth


def _headers(headers: Mapping[str, str] | None, app_token: str | None) -> dict[str, str]:
    # NOTE: the codings this package decodes (the answer is decoded here, not by httpx);
    # an Accept-Encoding in ``headers`` wins.
    found = {"Accept-Encoding": ", ".join(decodable_codings())}
    given = dict(headers or {})
    if any(k.lower() == "accept-encoding" for k in given):
        found = {}
    found.update(given)
    if app_token is None:
        return found
    if not app_token or app_token != app_token.strip():
        # NOTE: the server takes an empty header for none at all; say so here, not as a 401.
        raise ValueError("app_token must be a non-empty token without surrounding spaces")
    # NOTE: app_token wins over an SO-AppToken in headers (in any case): two would be joined
    # into one value the server refuses.
    found = {k: v for k, v in found.items() if k.lower() != APP_TOKEN_HEADER.lower()}
    found[APP_TOKEN_HEADER] = app_token
    return found


class _Call:
    """One prepared request and how to read its answer."""

    __slots__ = ("headers", "body", "params", "path", "schema", "sent")

    def __init__(
        self,
        path: str,
        body: bytes,
        headers: dict[str, str],
        params: dict[str, str],
        schema: Schema,
        sent: Any,
    ) -> None:
        self.path = path
        self.body = body
        self.headers = headers
        self.params = params
        self.schema = schema
        self.sent = sent


def _compression(compress: str | None) -> str | None:
    """The ``compress`` argument as a canonical coding name, checked."""
    if compress is None:
        return None
    name = canonical_coding(compress)
    if name == CODING_IDENTITY:
        return None
    if name not in available_codings():
        encode_body(b"", name)  # ImportError for br/zstd without the package, else ValueError
    return name


class _Answer:
    """Reads a streamed answer: its content codings undone, bounded (see the module docs).

    NOTE: an answer made in memory (``httpx.Response(content=...)`` from an
    ``httpx.MockTransport`` handler) is read, and decoded, when it is made; its
    ``content`` is taken as it is.
    """

    __slots__ = ("_decoder", "_parts", "_received", "_wire_limit")

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self._decoder = Decoder(response.headers.get("content-encoding", ""), limit)
        self._parts: list[bytes] = []
        self._received = 0
        # NOTE: coded bytes of a body within the limit are at most a little more than it.
        self._wire_limit = limit + (limit >> 8) + 4096

    def feed(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received > self._wire_limit:
            limit = self._decoder.limit
            raise BodyTooLarge(f"The answer is over the limit of {limit} bytes", limit=limit)
        self._parts.append(self._decoder.feed(chunk))

    def content(self) -> bytes:
        self._parts.append(self._decoder.finish())
        return b"".join(self._parts)


class _Base:
    """Encoding requests and decoding answers, shared by both clients."""

    def __init__(
        self, registry: CodecRegistry | None, options: Options, compress: str | None = None
    ) -> None:
        self.options = options
        self.registry = registry if registry is not None else default_registry(options)
        self.compress = _compression(compress)

    def _enrich_call(
        self,
        contact: Mapping[str, Any] | None,
        enrich_id: str,
        *,
        select: str | None,
        send_as: str,
        accept: str,
        timezone: str | None,
        language: str | None,
        culture: str | None,
        base: Mapping[str, Any] | None,
    ) -> _Call:
        sent = (
            _CONTACT.normalize(contact, self.options) if contact is not None else _CONTACT.default()
        )
        wrapper = {"ContactEntity": sent if contact is not None else None, "EnrichId": enrich_id}
        return self._call(
            ENRICH_PATH,
            wrapper,
            _ENRICH_REQUEST,
            _CONTACT,
            sent,
            select=select,
            send_as=send_as,
            accept=accept,
            timezone=timezone,
            language=language,
            culture=culture,
            base=base,
        )

    def _preview_call(
        self,
        enrich_id: str,
        *,
        select: str | None,
        send_as: str,
        accept: str,
        timezone: str | None,
        language: str | None,
        culture: str | None,
    ) -> _Call:
        return self._call(
            PREVIEW_PATH,
            {"EnrichId": enrich_id},
            _PREVIEW_REQUEST,
            _PREVIEW,
            _PREVIEW.default(),
            select=select,
            send_as=send_as,
            accept=accept,
            timezone=timezone,
            language=language,
            culture=culture,
            base=None,
        )

    def _call(
        self,
        path: str,
        value: dict[str, Any],
        request_schema: Schema,
        response_schema: Schema,
        sent: Any,
        *,
        select: str | None,
        send_as: str,
        accept: str,
        timezone: str | None,
        language: str | None,
        culture: str | None,
        base: Mapping[str, Any] | None,
    ) -> _Call:
        codec, media_type = self.registry.for_content_type(send_as)
        patch_base = request_schema.normalize(base, self.options) if base is not None else None
        body = codec.encode(value, request_schema, base=patch_base)
        content_type = send_as if media_type.params else codec.content_type(media_type.essence)
        headers = {"Content-Type": content_type, "Accept": accept}
        if self.compress is not None and len(body) >= MIN_ENCODE_SIZE:
            body = encode_body(body, self.compress)
            headers["Content-Encoding"] = self.compress
        if timezone is not None:
            headers[TIMEZONE_HEADER] = timezone
        if language is not None:
            headers[LANGUAGE_HEADER] = language
        if culture is not None:
            headers[CULTURE_HEADER] = culture
        params = {"$select": select} if select else {}
        return _Call(path, body, headers, params, response_schema, sent)

    def _answer(self, call: _Call, response: httpx.Response, content: bytes) -> dict[str, Any]:
        content_type = response.headers.get("content-type")
        if response.status_code >= 400:
            raise self._error(response, content_type, content)
        if response.status_code != 200:
            unexpected = NegotiateError(
                f"Unexpected status {response.status_code} from {call.path}"
            )
            unexpected.status = response.status_code
            raise unexpected
        if not content_type:
            raise UnsupportedMediaType("The server's answer has no Content-Type")
        codec, media_type = self.registry.for_content_type(content_type)
        # NOTE: a patch-format answer is the diff from what was sent; patch codecs apply it
        # to ``base`` and the others ignore ``base``.
        result: dict[str, Any] = codec.decode(
            content, call.schema, media_type=media_type, base=call.sent
        )
        return result

    def _error(
        self, response: httpx.Response, content_type: str | None, content: bytes
    ) -> NegotiateError:
        status = response.status_code
        data: Any = None
        if content_type:
            try:
                codec, media_type = self.registry.for_content_type(content_type)
                data = codec.decode(content, None, media_type=media_type)
            except NegotiateError:
                data = None
        text = content[:800].decode("utf-8", "replace")[:200]
        return error_from_body(status, data, text or response.reason_phrase)


def error_from_body(status: int, data: Any, fallback: str = "") -> NegotiateError:
    """The :class:`NegotiateError` a server error body stands for.

    Args:
        status: the HTTP status.
        data: the decoded body: ``{"Message", "MessageDetail", "Location", ...}``
            (JSON) or ``{"Error": {...}}`` (XML); anything else uses ``fallback``.
        fallback: the message when the body has none (the raw text, say).

    Returns:
        An instance of the status's class (:func:`negotiate.errors.error_class`);
        ``status`` is set on the instance when the class is the base class.
    """
    if isinstance(data, Mapping) and len(data) == 1 and isinstance(data.get("Error"), Mapping):
        data = data["Error"]  # XML: <Error><Message>...</Message>...</Error>
    cls = error_class(status)
    if not isinstance(data, Mapping):
        error = cls(fallback or f"HTTP {status}")
    else:
        location = data.get("Location") or ""
        message = data.get("MessageDetail") or data.get("Message") or fallback or f"HTTP {status}"
        suffix = f" - at {location}"
        if location and isinstance(message, str) and message.endswith(suffix):
            message = message[: -len(suffix)]
        detail = {
            key[:1].lower() + key[1:]: _listed(value)
            for key, value in data.items()
            if key not in _ERROR_KEYS
        }
        error = cls(str(message), location=str(location), **detail)
    if error.status != status:
        error.status = status
    return error


def _listed(value: Any) -> Any:
    # XML lists arrive as {"string": [...]} (or one item: {"string": "x"}).
    if isinstance(value, Mapping) and list(value) == ["string"]:
        items = value["string"]
        return items if isinstance(items, list) else [items]
    return value


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
