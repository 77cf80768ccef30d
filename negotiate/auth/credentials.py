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

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

# NOTE: TooManyPasswordChecks (negotiate.errors) and APP_TOKEN_HEADER (negotiate.superoffice)
# live where they belong; re-exported so that ``negotiate.auth.X`` keeps working.
from negotiate.errors import (
    TooManyPasswordChecks as TooManyPasswordChecks,
    Unauthorized,
)
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

# scrypt cost: 2**14 x 8 x 1 is the interactive-login setting of the scrypt paper
# (16 MiB, tens of milliseconds).
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_LEN = 32
_TOKEN_PREFIX = "sha256:"
_CACHE_LIMIT = 1024
_FAILURE_LIMIT = 4096
_CHECK_RATE = 10.0
_INVALID_BASIC = "Invalid user name or password"
_clock = time.monotonic  # NOTE: the budget's clock; tests replace it


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


# -- secrets -------------------------------------------------------------------


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of a password, for configuration files.

    Args:
        password: the password.
        salt: 16 random bytes (default: fresh ones; pass one only in tests).

    Returns:
        ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``.
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=_SCRYPT_LEN,
    )
    return "$".join(
        [
            "scrypt",
            str(_SCRYPT_N),
            str(_SCRYPT_R),
            str(_SCRYPT_P),
            base64.b64encode(salt).decode("ascii"),
            base64.b64encode(digest).decode("ascii"),
        ]
    )


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` hash (constant-time).

    Args:
        password: the password to check.
        encoded: the stored hash.

    Returns:
        ``True`` on a match; ``False`` otherwise, also for a malformed hash.
    """
    parsed = _parse_hash(encoded)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    actual = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**26
    )
    return hmac.compare_digest(actual, expected)


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or not digest:
        return None
    return n, r, p, salt, digest


def token_digest(token: str) -> str:
    """The form a token is stored in: ``sha256:<hex>``.

    Args:
        token: the token or ticket.

    Returns:
        Its SHA-256 digest, prefixed.
    """
    return _TOKEN_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


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


# -- authenticators --------------------------------------------------------------


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


class CredentialAuthenticator:
    """``Authorization: Basic``, ``SOTicket`` and ``Bearer`` against configured secrets.

    Args:
        users: user name to :func:`hash_password` hash (Basic).
        tokens: the tokens (Bearer) and tickets (SOTicket): a mapping of
            principal name to token, or an iterable of tokens (principal
            name ``token``). Each may be given as :func:`token_digest`
            (``sha256:<hex>``, recommended) or in clear.
        check_rate: new password checks per second, all users together (a
            token bucket holding up to twice as many); ``None``: no limit.

    Raises:
        ValueError: a malformed hash or digest; the message names the entry
            (``users.tje0: ...``, ``tokens.ci: ...``).

    Basic checks run scrypt, which is slow on purpose, and token checks hash
    and compare against every configured digest; a successful check is
    remembered (keyed by the ``Authorization`` value as received, at most
    1024 entries, the oldest dropped first) so that a client reusing its
    credentials pays it once.

    Basic is also guarded against floods: without users, Basic credentials
    are refused without hashing anything; a failed user:password pair is
    remembered (a keyed BLAKE2 digest, never the password; at most 4096, the
    least recently seen dropped first) and refused again without a hash;
    and a check beyond ``check_rate`` is answered 503
    (:class:`TooManyPasswordChecks`) without one. None of these looks at the
    user name, and an unknown user still costs one scrypt run with the
    parameters of the configured hashes, so neither answers nor timing tell
    which user names exist.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        tokens: Mapping[str, str] | Iterable[str] | None = None,
        check_rate: float | None = _CHECK_RATE,
    ) -> None:
        self._users = dict(users or {})
        for name, encoded in self._users.items():
            if _parse_hash(encoded) is None:
                raise ValueError(
                    f"users.{name}: not a password hash from negotiate.auth.hash_password"
                    " (expected scrypt$<n>$<r>$<p>$<salt>$<hash>)"
                )
        pairs: Iterable[tuple[str, str, str]]
        if tokens is None:
            pairs = ()
        elif isinstance(tokens, Mapping):
            pairs = ((name, f"tokens.{name}", t) for name, t in tokens.items())
        else:
            pairs = (("token", f"tokens[{i}]", t) for i, t in enumerate(tokens))
        self._tokens: list[tuple[bytes, str]] = []
        self._principals: dict[tuple[str, str], Principal] = {}
        for name, entry, token in pairs:
            self._tokens.append((_digest_bytes(token, entry), name))
            for scheme in ("Bearer", "SOTicket"):
                self._principals[name, scheme] = Principal(name, scheme)
        self._dummy = _dummy_hash(self._users.values())
        self._verified: dict[str, Principal] = {}
        self._lock = threading.Lock()
        if check_rate is not None and not check_rate > 0:
            raise ValueError(f"check_rate must be a positive number, got {check_rate!r}")
        self._rate = check_rate
        self._burst = 2 * check_rate if check_rate is not None else 0.0
        self._allowance = self._burst
        self._stamp = _clock()
        # NOTE: failed credentials are kept as digests under a key of this process
        # only: a wrong password is often a near miss of the right one.
        self._failure_key = secrets.token_bytes(32)
        self._failed: OrderedDict[bytes, None] = OrderedDict()

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The principal for the ``Authorization`` header.

        Returns:
            ``None`` without an ``Authorization`` header, or with a scheme
            other than Basic, SOTicket and Bearer (another authenticator may
            know it).

        Raises:
            Unauthorized: malformed or wrong credentials.
            TooManyPasswordChecks: a new Basic credential beyond ``check_rate``.
        """
        header = headers.get("authorization")
        if not header:
            return None
        # PERF: a value that passed the checks below maps straight to its principal.
        # NOTE: the lookup does not leak how much of a secret is right: str hashes are
        # SipHash under a per-process random key, and the strings are compared only
        # when the whole 64-bit hash matches; the first check of a value is still the
        # constant-time one.
        principal = self._verified.get(header)
        if principal is not None:
            return principal
        scheme, _, credentials = header.strip().partition(" ")
        folded = scheme.casefold()
        credentials = credentials.strip()
        if folded == "basic":
            principal = self._basic(credentials)
        elif folded == "soticket":
            principal = self._token(credentials, "SOTicket")
        elif folded == "bearer":
            principal = self._token(credentials, "Bearer")
        else:
            return None
        self._remember(header, principal)
        return principal

    def costly(self, headers: Mapping[str, str]) -> bool:
        """Whether :meth:`authenticate` would run a password hash for these headers.

        True only for Basic credentials that are well formed, not remembered
        as good or as failed, with users configured: an adapter on an event
        loop then runs the check in a worker thread.
        """
        if not self._users:
            return False
        header = headers.get("authorization")
        if not header or header in self._verified:
            return False
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.casefold() != "basic":
            return False
        pair = _basic_pair(credentials.strip())
        return pair is not None and self._failure_digest(pair) not in self._failed

    def _remember(self, header: str, principal: Principal) -> None:
        verified = self._verified
        with self._lock:
            if len(verified) >= _CACHE_LIMIT:
                del verified[next(iter(verified))]  # the oldest: dicts keep insertion order
            verified[header] = principal

    def _token(self, credentials: str, scheme: str) -> Principal:
        if not credentials:
            raise Unauthorized(f"Expected a token after {scheme}")
        actual = hashlib.sha256(credentials.encode("utf-8")).digest()
        found: str | None = None
        # NOTE: compare against every configured digest, without stopping at a match,
        # so that the time taken does not depend on which one matched.
        for expected, name in self._tokens:
            if hmac.compare_digest(actual, expected) and found is None:
                found = name
        if found is None:
            raise Unauthorized(f"Invalid {scheme} credentials")
        return self._principals[found, scheme]

    def _basic(self, credentials: str) -> Principal:
        pair = _basic_pair(credentials)
        if pair is None:
            raise Unauthorized("Malformed Basic credentials: expected base64 of user:password")
        user, colon, password = pair.partition(":")
        if not colon:
            raise Unauthorized("Malformed Basic credentials: expected user:password")
        if not self._users:
            raise Unauthorized(_INVALID_BASIC)  # NOTE: nothing to check against: no hash
        digest = self._failure_digest(pair)
        if self._failed_before(digest):
            raise Unauthorized(_INVALID_BASIC)
        if not self._spend():
            raise TooManyPasswordChecks("Too many password checks at the moment; retry in a second")
        encoded = self._users.get(user)
        ok = verify_password(password, encoded if encoded is not None else self._dummy)
        if encoded is None or not ok:
            self._failed_now(digest)
            raise Unauthorized(_INVALID_BASIC)
        return Principal(user, "Basic")

    def _failure_digest(self, pair: str) -> bytes:
        return hashlib.blake2b(pair.encode("utf-8"), key=self._failure_key, digest_size=16).digest()

    def _failed_before(self, digest: bytes) -> bool:
        failed = self._failed
        with self._lock:
            if digest not in failed:
                return False
            failed.move_to_end(digest)
            return True

    def _failed_now(self, digest: bytes) -> None:
        failed = self._failed
        with self._lock:
            failed[digest] = None
            failed.move_to_end(digest)
            if len(failed) > _FAILURE_LIMIT:
                failed.popitem(last=False)  # the least recently seen

    def _spend(self) -> bool:
        """Take one password check from the budget; ``False`` when it is spent."""
        rate = self._rate
        if rate is None:
            return True
        with self._lock:
            now = _clock()
            elapsed = max(0.0, now - self._stamp)
            self._allowance = min(self._burst, self._allowance + elapsed * rate)
            self._stamp = now
            if self._allowance < 1:
                return False
            self._allowance -= 1
            return True


def _basic_pair(credentials: str) -> str | None:
    """``user:password`` from Basic credentials, or ``None`` when not base64 of UTF-8."""
    try:
        return base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _digest_bytes(token: str, entry: str) -> bytes:
    """The 32 bytes of a configured token: its ``sha256:`` digest, or the hash of it in clear.

    Raises:
        ValueError: ``sha256:`` followed by anything but 64 hex digits.
    """
    if not token.startswith(_TOKEN_PREFIX):
        return hashlib.sha256(token.encode("utf-8")).digest()
    hex_digits = token[len(_TOKEN_PREFIX) :]
    try:
        digest = bytes.fromhex(hex_digits)
    except ValueError:
        digest = b""
    if len(digest) != 32 or len(hex_digits) != 64:
        # NOTE: the value is not quoted: it may be a secret pasted in the wrong place.
        raise ValueError(
            f"{entry}: not a sha256 digest (expected 'sha256:' and 64 hex digits, "
            f"got 'sha256:' and {len(hex_digits)} characters; see negotiate.auth.token_digest)"
        )
    return digest


def _dummy_hash(hashes: Iterable[str]) -> str:
    """A hash for unknown users, costing what the configured ones cost (their commonest
    parameters); it matches no password, so it needs no scrypt run to make."""
    found = Counter(
        (n, r, p, len(salt), len(digest))
        for n, r, p, salt, digest in filter(None, map(_parse_hash, hashes))
    )
    n, r, p, salt_size, size = (
        found.most_common(1)[0][0] if found else (_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, 16, _SCRYPT_LEN)
    )
    salt = base64.b64encode(bytes(salt_size)).decode("ascii")
    digest = base64.b64encode(bytes(size)).decode("ascii")
    return f"scrypt${n}${r}${p}${salt}${digest}"


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
                f"Unsupported authorization scheme {scheme!r}; use Basic, SOTicket or Bearer"
            )
        return None


# -- partner applications ----------------------------------------------------------

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
    if not token.startswith(_TOKEN_PREFIX):
        return hashlib.sha256(token.encode("utf-8")).digest()
    try:
        # NOTE: fromhex skips spaces between bytes, so the length is checked after.
        digest = bytes.fromhex(token[len(_TOKEN_PREFIX) :])
    except ValueError:
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
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
