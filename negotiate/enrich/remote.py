"""A remote enrichment source over HTTP (standard library only).

The service is asked ``GET <url>`` with the ``EnrichId`` percent-encoded into
the URL (``{id}`` in the template, else appended as a last path segment) and
``Accept: application/json``. It answers 200 with a company in the wire form
of :meth:`Company.to_dict <negotiate.enrich.model.Company.to_dict>`, or 404
when it has no such company.

Failures map to gateway errors, after bounded retries:

=========================================  ========  ==================
what happened                              retried   answer
=========================================  ========  ==================
404                                        no        unknown ``EnrichId``
429, 500, 502, 503                         yes       502 Bad Gateway
504, connect or read timeout               yes       504 Gateway Timeout
connection refused or reset, DNS failure   yes       502 Bad Gateway
other 4xx/3xx, malformed or oversized JSON no        502 Bad Gateway
=========================================  ========  ==================

``retries`` extra attempts follow the first, ``backoff`` seconds apart,
doubling up to ``max_backoff``; each attempt has its own ``timeout`` (per
socket operation: connect, send, each read). The worst case is therefore
about ``(retries + 1) * timeout + backoffs``.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import quote

import orjson

from negotiate.enrich.model import Company
from negotiate.errors import BadGateway, GatewayTimeout, NegotiateError, excerpt

__all__ = ["HttpProvider"]

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _Retryable(Exception):
    def __init__(self, error: NegotiateError) -> None:
        super().__init__(str(error))
        self.error = error


class HttpProvider:
    """Companies from a remote enrichment service.

    Args:
        url: the service URL: a template with ``{id}`` (``https://e.example/
            companies/{id}``), or a base URL the id is appended to.
        timeout: seconds for each socket operation of one attempt.
        retries: extra attempts after a retryable failure (0: none).
        backoff: seconds before the first retry; doubles per retry.
        max_backoff: the longest pause between attempts.
        headers: extra request headers (an API key, say).
        max_response: the largest answer read, in bytes; larger is a 502.
        proxies: scheme to proxy URL; ``None`` takes them from the environment
            (``https_proxy`` and friends), ``{}`` uses none.

    Raises:
        ValueError: the URL is not http(s) or a number is out of range.
    """

    blocking = True  # NOTE: network I/O; the ASGI adapter runs the handler in a thread

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        headers: Mapping[str, str] | None = None,
        max_response: int = 1 << 20,
        proxies: Mapping[str, str] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"enrichment URL must be http(s): {url!r}")
        if timeout <= 0 or retries < 0 or backoff < 0 or max_response <= 0:
            raise ValueError("timeout and max_response must be positive, retries and backoff >= 0")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.max_response = max_response
        handlers: list[urllib.request.BaseHandler] = []
        if proxies is not None:
            handlers.append(urllib.request.ProxyHandler(dict(proxies)))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"HttpProvider({self.url!r}, timeout={self.timeout}, retries={self.retries})"

    def lookup(self, enrich_id: str) -> Company | None:
        """The company with this id from the service, or ``None`` on its 404.

        Raises:
            BadGateway: the service failed, refused, or answered nonsense.
            GatewayTimeout: the service did not answer in time, on every attempt.
        """
        url = self._url(enrich_id)
        error: NegotiateError = BadGateway("The enrichment service was not asked")
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))
            try:
                return self._once(url)
            except _Retryable as exc:
                error = exc.error
        if self.retries:
            error.message += f" (after {self.retries + 1} attempts)"
        raise error

    def _url(self, enrich_id: str) -> str:
        encoded = quote(enrich_id, safe="")
        if "{id}" in self.url:
            return self.url.replace("{id}", encoded)
        return self.url.rstrip("/") + "/" + encoded

    def _once(self, url: str) -> Company | None:
        request = urllib.request.Request(url, headers=self.headers, method="GET")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                body = response.read(self.max_response + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                return None
            if exc.code == 504:
                raise _Retryable(
                    GatewayTimeout("The enrichment service timed out (it answered 504)")
                ) from None
            if exc.code in _RETRY_STATUS:
                raise _Retryable(
                    BadGateway(f"The enrichment service failed: {exc.code} {exc.reason}")
                ) from None
            raise BadGateway(
                f"The enrichment service refused the request: {exc.code} {exc.reason}"
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise _Retryable(self._timeout()) from None
            raise _Retryable(
                BadGateway(f"Cannot reach the enrichment service: {exc.reason}")
            ) from None
        except TimeoutError:
            raise _Retryable(self._timeout()) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Retryable(
                BadGateway(f"The enrichment service connection failed: {excerpt(exc)}")
            ) from None
        if status != 200:
            raise BadGateway(f"The enrichment service answered {status}, expected 200")
        if len(body) > self.max_response:
            raise BadGateway(f"The enrichment service answered more than {self.max_response} bytes")
        try:
            return Company.from_dict(orjson.loads(body))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise BadGateway(f"The enrichment service answered an invalid company: {exc}") from None

    def _timeout(self) -> GatewayTimeout:
        return GatewayTimeout(f"The enrichment service did not answer within {self.timeout:g} s")
