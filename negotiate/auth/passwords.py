"""Password hashes: salted scrypt, for configuration files, checked in constant time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Iterable

__all__ = [
    "hash_password",
    "verify_password",
]

# scrypt cost: 2**14 x 8 x 1 is the interactive-login setting of the scrypt paper
# (16 MiB, tens of milliseconds).
_SCRYPT_N = 2**14

_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_LEN = 32


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
