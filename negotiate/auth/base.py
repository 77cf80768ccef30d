"""The pieces every authenticator shares: :class:`Principal`, the :class:`Authenticator`
protocol, :class:`Anonymous` and :class:`Chain`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from negotiate.errors import Unauthorized, excerpt

__all__ = [
    "ANONYMOUS",
    "Anonymous",
    "Authenticator",
    "Chain",
    "Principal",
]

# NOTE: the bound of every table an authenticator remembers (CredentialAuthenticator's
# verified headers, RequireAppToken's named principals).
_CACHE_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling.

    Attributes:
        name: the user name, or the name a token was configured under.
        scheme: how they proved it: ``Basic``, ``SOTicket``, ``Bearer``,
            ``Session`` or ``Anonymous``.
        app: the partner application its ``SO-AppToken`` names
            (:class:`RequireAppToken`), or ``None``.
    """

    name: str
    scheme: str
    app: str | None = None


@runtime_checkable
class Authenticator(Protocol):
    """Decides who is calling from the request headers."""

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The caller, or ``None`` when the request carries no credentials it knows.

        Args:
            headers: the request headers (case-insensitive names).

        Raises:
            Unauthorized: credentials are present but wrong or malformed.
        """
        ...


class Anonymous:
    """Lets everyone in as ``Principal("anonymous", "Anonymous")``.

    Only for development (``negotiate serve --insecure-no-auth``) and tests.
    """

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """Always the anonymous principal."""
        return _ANONYMOUS_PRINCIPAL


_ANONYMOUS_PRINCIPAL = Principal("anonymous", "Anonymous")
ANONYMOUS = Anonymous()
"""The authenticator that lets everyone in."""


class Chain:
    """Asks several authenticators in turn; the first principal wins.

    Args:
        authenticators: in the order to ask.

    An error from one (wrong credentials) ends the chain: credentials that
    one authenticator rejects are not offered to the next.
    """

    def __init__(self, *authenticators: Authenticator) -> None:
        self.authenticators = authenticators

    def costly(self, headers: Mapping[str, str]) -> bool:
        """Whether any of them would run a slow check (see ``CredentialAuthenticator.costly``)."""
        for authenticator in self.authenticators:
            costly: Callable[[Mapping[str, str]], bool] | None = getattr(
                authenticator, "costly", None
            )
            if costly is not None and costly(headers):
                return True
        return False

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The first principal any authenticator finds, or ``None``.

        Raises:
            Unauthorized: one of them rejected the credentials, or an
                ``Authorization`` header has a scheme none of them knows.
        """
        for authenticator in self.authenticators:
            principal = authenticator.authenticate(headers)
            if principal is not None:
                return principal
        header = headers.get("authorization")
        if header:
            scheme = header.strip().partition(" ")[0]
            raise Unauthorized(
                f"Unsupported authorization scheme {excerpt(scheme)}; use Basic, SOTicket or Bearer"
            )
        return None
