"""Credentials a client sends: ``Authorization`` for Bearer and SOTicket.

``auth`` of :class:`~negotiate.client.Client`: a ``(user, password)`` pair
(httpx's Basic), a string (a Bearer token), :class:`Ticket`, or any
``httpx.Auth``.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

__all__ = ["Bearer", "Ticket"]

Auth = tuple[str, str] | str | httpx.Auth | None
"""What ``auth=`` takes."""


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
