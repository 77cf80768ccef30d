"""Partner applications: ``SO-AppToken`` checked next to the caller's credentials."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from negotiate.auth.base import _CACHE_LIMIT, Authenticator, Principal
from negotiate.auth.tokens import _stored_digest
from negotiate.errors import Unauthorized
from negotiate.superoffice import APP_TOKEN_HEADER

__all__ = [
    "AppTokenChecker",
    "AppTokens",
    "RequireAppToken",
]

AppTokenChecker = Callable[[str], str | None]
"""``(token) -> application name``, or ``None`` for a token it does not know.

It may raise :class:`~negotiate.errors.Unauthorized` itself (a revoked
partner, say); any other exception is a server error (500, logged).
"""


class AppTokens:
    """Partner application tokens checked against configured SHA-256 digests.

    An :data:`AppTokenChecker`: call it with a token to get its application's
    name. A token is hashed and compared with every configured digest in
    constant time, so the time taken says nothing about which application,
    if any, it belongs to; a token that matched is remembered (one per
    application), one that did not never is.

    Args:
        tokens: application name to token, given as :func:`token_digest`
            (``sha256:<hex>``, recommended) or in clear (hashed here).

    Raises:
        ValueError: an empty name, a ``sha256:`` value that is not 64 hex
            digits, or two applications with the same token.
    """

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._digests: list[tuple[bytes, str]] = []
        owners: dict[bytes, str] = {}
        for name, token in tokens.items():
            if not name:
                raise ValueError("an application token needs a non-empty application name")
            digest = _app_digest(name, token)
            if digest in owners:
                raise ValueError(f"applications {owners[digest]!r} and {name!r} share a token")
            owners[digest] = name
            self._digests.append((digest, name))
        self._known: dict[str, str] = {}

    def __call__(self, token: str) -> str | None:
        """The application whose token this is, or ``None``."""
        # PERF: a partner sends the same token on every request. NOTE: the table holds
        # only tokens that matched, at most one per digest, so it stays as small as the
        # configuration; the lookup leaks nothing, as for CredentialAuthenticator.
        known = self._known.get(token)
        if known is not None:
            return known
        actual = hashlib.sha256(token.encode("utf-8")).digest()
        found: str | None = None
        # NOTE: every digest is compared, without stopping at a match, as for Bearer tokens.
        for expected, name in self._digests:
            if hmac.compare_digest(actual, expected) and found is None:
                found = name
        if found is not None:
            self._known[token] = found
        return found


def _app_digest(name: str, token: str) -> bytes:
    digest = _stored_digest(token)
    if digest is None:
        raise ValueError(
            f"application {name!r}: expected sha256: and 64 hex digits "
            "(negotiate.auth.token_digest of the token)"
        )
    return digest


class RequireAppToken:
    """Another authenticator, plus the partner application's ``SO-AppToken``.

    The inner authenticator decides who is calling; then the header is
    checked. Principals whose scheme is in ``required`` must carry a known
    token; for the others the header is optional, but a token that is sent
    must be known too. The principal returned names the application
    (:attr:`Principal.app`). Credentials are checked first, so without valid
    ones nothing is learnt about application tokens.

    Args:
        inner: the authenticator that finds the caller.
        check: an :data:`AppTokenChecker`, or application name to token
            (made into :class:`AppTokens`).
        required: the schemes that must carry the header (default:
            ``Bearer`` and ``SOTicket``, the server-to-server ones).

    Raises:
        ValueError: ``check`` is a mapping :class:`AppTokens` refuses.
    """

    def __init__(
        self,
        inner: Authenticator,
        check: AppTokenChecker | Mapping[str, str],
        *,
        required: Iterable[str] = ("Bearer", "SOTicket"),
    ) -> None:
        self.inner = inner
        self._check: AppTokenChecker = AppTokens(check) if isinstance(check, Mapping) else check
        self._required = frozenset(required)
        # PERF: (principal, application) -> the principal naming it; dataclasses.replace
        # costs a microsecond. Filled up to a bound (inner principals may be per session).
        self._named: dict[tuple[Principal, str], Principal] = {}

    def costly(self, headers: Mapping[str, str]) -> bool:
        """Whether the inner authenticator would run a slow check (an app token check is cheap)."""
        costly: Callable[[Mapping[str, str]], bool] | None = getattr(self.inner, "costly", None)
        return costly is not None and costly(headers)

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The inner authenticator's principal, with its application.

        Returns:
            ``None`` when the inner authenticator finds no credentials.

        Raises:
            Unauthorized: the inner authenticator's refusal; or the header is
                missing (for a required scheme), or the token is unknown.
        """
        principal = self.inner.authenticate(headers)
        if principal is None:
            return None
        token = headers.get("so-apptoken")
        if not token:
            if principal.scheme in self._required:
                raise Unauthorized(
                    f"{principal.scheme} credentials need an {APP_TOKEN_HEADER} header "
                    "with the token of a registered partner application"
                )
            return principal
        app = self._check(token)
        if app is None:
            # NOTE: one message for every refused token (unknown, malformed, of another
            # format): nothing in it tells a caller how close it came.
            raise Unauthorized(
                f"Invalid {APP_TOKEN_HEADER}: not the token of a registered partner application"
            )
        named = self._named.get((principal, app))
        if named is None:
            named = principal if principal.app == app else replace(principal, app=app)
            if len(self._named) < _CACHE_LIMIT:
                self._named[principal, app] = named
        return named
