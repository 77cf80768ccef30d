"""One exchange with the server, shared by both clients: the request encoded, the answer read.

:class:`_Base` encodes a request with a codec of the registry (``send_as``),
compressed with ``compress``, and reads the answer: its content codings undone
here while it streams in (:class:`_Answer`, bounded by ``options.max_body``),
decoded with the codec of its ``Content-Type`` (a patch applied to what was
sent), an error body turned back into its error
(:func:`~negotiate.client.error_bodies.error_from_body`). The clients in
:mod:`negotiate.client` add only the I/O, sync or async.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from negotiate.client.error_bodies import error_from_body
from negotiate.codecs import CodecRegistry, default_registry
from negotiate.coding import (
    MIN_ENCODE_SIZE,
    Decoder,
    available_codings,
    decodable_codings,
    encode_body,
)
from negotiate.errors import BodyTooLarge, NegotiateError, UnsupportedMediaType
from negotiate.media import CODING_IDENTITY, canonical_coding
from negotiate.options import Options
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

__all__ = []

# NOTE: the endpoint's facts come from negotiate.superoffice, not the server: importing
# the client loads no server machinery (authenticators, providers, SQLite, adapters).
_CONTACT = get_schema(ENRICH_RESPONSE)
_ENRICH_REQUEST = get_schema(ENRICH_REQUEST)
_PREVIEW = get_schema(PREVIEW_RESPONSE)
_PREVIEW_REQUEST = get_schema(PREVIEW_REQUEST)


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
