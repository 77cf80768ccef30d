"""Authentication: who is calling, as SuperOffice's WebAPI decides it.

SuperOffice accepts ``Authorization: Basic`` (on-site users),
``Authorization: SOTicket <ticket>`` and ``Authorization: Bearer <token>``
(online), and, without an ``Authorization`` header, a web session whose
``X-XSRF-TOKEN`` header must equal its ``XSRF-TOKEN`` cookie. Anonymous
requests get 401 with ``WWW-Authenticate: Basic realm="SuperOffice Username or
Ticket"`` (the HTTP layer adds the header).

An :class:`Authenticator` is anything with ``authenticate(headers) ->
Principal | None``: ``None`` means "no credentials I know about" (the
request is answered 401, or the next authenticator in a :class:`Chain` is
asked); credentials that are present but wrong raise
:class:`~negotiate.errors.Unauthorized`. Embedding applications plug in their
own (sessions, API gateways, mTLS) and combine them with :class:`Chain`.

Configured secrets are never stored in clear: passwords as salted scrypt
hashes (:func:`hash_password`), tokens as SHA-256 digests
(:func:`token_digest`), and every comparison is constant-time
(:func:`hmac.compare_digest`). An ``Authorization`` value that passed those
checks is remembered in memory (a bounded table, oldest out first) so that a
client reusing it is not checked again.

Password checks (scrypt, tens of milliseconds of CPU on purpose) are the one
costly thing an anonymous client can make the server do, so Basic is
guarded: without configured users no hash is ever computed; a failed
credential is remembered (a bounded table of keyed digests) and refused
again without a hash; and all new checks together are held to a budget per
second (over it: 503, whoever the user is). An authenticator whose check is
slow may say so per request with ``costly(headers) -> bool``; the ASGI
adapter then runs the check in a worker thread, off the event loop.

Partner applications identify themselves with an ``SO-AppToken`` header
next to their credentials (SuperOffice: "used when calling Online WebAPI from
a server"). :class:`RequireAppToken` wraps any authenticator and adds that
check: a principal that proved itself with ``Bearer`` or ``SOTicket`` must
come with a known application token, others (``Basic``, a web session) may,
and a token that is sent is always checked; a missing or unknown one is
:class:`~negotiate.errors.Unauthorized`, and the application's name becomes
:attr:`Principal.app`. The check itself is an :data:`AppTokenChecker`,
``(token) -> application name or None``: :class:`AppTokens` checks
configured SHA-256 digests in constant time, and an embedding application
passes its own callable to look tokens up elsewhere (a partner registry)::

    RequireAppToken(CredentialAuthenticator(tokens=...), registry.app_for_token)
"""

from __future__ import annotations

from negotiate.auth.app_tokens import (
    AppTokenChecker as AppTokenChecker,
    AppTokens as AppTokens,
    RequireAppToken as RequireAppToken,
)
from negotiate.auth.base import (
    ANONYMOUS as ANONYMOUS,
    Anonymous as Anonymous,
    Authenticator as Authenticator,
    Chain as Chain,
    Principal as Principal,
)
from negotiate.auth.credentials import (
    CredentialAuthenticator as CredentialAuthenticator,
)
from negotiate.auth.passwords import (
    hash_password as hash_password,
    verify_password as verify_password,
)
from negotiate.auth.sessions import (
    XsrfAuthenticator as XsrfAuthenticator,
    parse_cookies as parse_cookies,
)
from negotiate.auth.tokens import (
    new_token as new_token,
    token_digest as token_digest,
)

# NOTE: TooManyPasswordChecks (negotiate.errors) and APP_TOKEN_HEADER (negotiate.superoffice)
# live where they belong; re-exported so that ``negotiate.auth.X`` keeps working.
from negotiate.errors import TooManyPasswordChecks as TooManyPasswordChecks
from negotiate.superoffice import APP_TOKEN_HEADER as APP_TOKEN_HEADER

__all__ = [
    "ANONYMOUS",
    "APP_TOKEN_HEADER",
    "Anonymous",
    "AppTokenChecker",
    "AppTokens",
    "Authenticator",
    "Chain",
    "CredentialAuthenticator",
    "Principal",
    "RequireAppToken",
    "TooManyPasswordChecks",
    "XsrfAuthenticator",
    "hash_password",
    "new_token",
    "parse_cookies",
    "token_digest",
    "verify_password",
]
