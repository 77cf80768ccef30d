"""``Authorization: Basic``, ``SOTicket`` and ``Bearer`` against configured secrets.

The remembered table of good ``Authorization`` values, and Basic's flood guard: the
remembered failures and the budget of password checks per second.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from negotiate.auth.base import _CACHE_LIMIT, Principal
from negotiate.auth.passwords import _dummy_hash, _parse_hash, verify_password
from negotiate.auth.tokens import _TOKEN_PREFIX, _stored_digest
from negotiate.errors import TooManyPasswordChecks, Unauthorized

__all__ = [
    "CredentialAuthenticator",
]

_FAILURE_LIMIT = 4096
_CHECK_RATE = 10.0
_INVALID_BASIC = "Invalid user name or password"
_clock = time.monotonic  # NOTE: the budget's clock; tests replace it


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
    digest = _stored_digest(token)
    if digest is None:
        # NOTE: the value is not quoted: it may be a secret pasted in the wrong place.
        raise ValueError(
            f"{entry}: not a sha256 digest (expected 'sha256:' and 64 hex digits, "
            f"got 'sha256:' and {len(token) - len(_TOKEN_PREFIX)} characters; "
            "see negotiate.auth.token_digest)"
        )
    return digest
