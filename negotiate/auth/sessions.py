"""Web sessions: the ``Cookie`` header and SuperOffice's double-submit XSRF check."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from negotiate.auth.base import Principal
from negotiate.errors import Unauthorized

__all__ = [
    "XsrfAuthenticator",
    "parse_cookies",
]


def parse_cookies(header: str | None) -> dict[str, str]:
    """The cookies of a ``Cookie`` header (RFC 6265 §5.4); the first of a name wins.

    Args:
        header: the header value, or ``None``.

    Returns:
        Name to value; quotes around a value are removed.
    """
    cookies: dict[str, str] = {}
    if not header:
        return cookies
    for item in header.split(";"):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies.setdefault(name, value)
    return cookies


SessionLookup = Callable[[Mapping[str, str]], Principal | None]
"""``(cookies) -> principal``: finds the web session the cookies belong to."""


class XsrfAuthenticator:
    """A web session, with SuperOffice's double-submit XSRF check.

    Used only when the request has no ``Authorization`` header. The
    ``X-XSRF-TOKEN`` header must equal the ``XSRF-TOKEN`` cookie (a page
    of the same site can read the cookie and copy it; a forged cross-site
    request cannot), and then ``session`` finds who the session belongs to.

    Args:
        session: ``(cookies) -> principal or None``: looks the session up
            (from a session cookie, say).
        cookie: the name of the XSRF cookie.
        header: the name of the XSRF header.
    """

    def __init__(
        self, session: SessionLookup, *, cookie: str = "XSRF-TOKEN", header: str = "X-XSRF-TOKEN"
    ) -> None:
        self._session = session
        self._cookie = cookie
        self._header = header

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The session's principal.

        Returns:
            ``None`` when the request has an ``Authorization`` header or no
            session cookies at all.

        Raises:
            Unauthorized: the XSRF header is missing or does not match the
                cookie, or the session is unknown.
        """
        if headers.get("authorization"):
            return None
        cookies = parse_cookies(headers.get("cookie"))
        if not cookies:
            return None
        expected = cookies.get(self._cookie, "")
        actual = headers.get(self._header) or ""
        if not expected or not actual:
            raise Unauthorized(f"A web session needs the {self._header} header and cookie")
        if not hmac.compare_digest(expected.encode("utf-8"), actual.encode("utf-8")):
            raise Unauthorized(f"{self._header} does not match the {self._cookie} cookie")
        principal = self._session(cookies)
        if principal is None:
            raise Unauthorized("Unknown or expired session")
        return principal
