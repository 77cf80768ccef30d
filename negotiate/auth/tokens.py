"""Tokens and tickets: the digest they are configured as, and fresh ones."""

from __future__ import annotations

import hashlib
import secrets

__all__ = [
    "new_token",
    "token_digest",
]

_TOKEN_PREFIX = "sha256:"


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


def _stored_digest(token: str) -> bytes | None:
    """The 32 bytes a configured token is checked against.

    Args:
        token: :func:`token_digest` form (``sha256:<hex>``) or the token in clear
            (hashed here).

    Returns:
        The SHA-256 digest; ``None`` for ``sha256:`` followed by anything but 64
        hex digits (each caller names the entry in its own message).
    """
    if not token.startswith(_TOKEN_PREFIX):
        return hashlib.sha256(token.encode("utf-8")).digest()
    hex_digits = token[len(_TOKEN_PREFIX) :]
    if len(hex_digits) != 64:
        return None
    try:
        # NOTE: fromhex skips spaces between bytes: 64 characters with one make fewer
        # than 32 bytes, refused below.
        digest = bytes.fromhex(hex_digits)
    except ValueError:
        return None
    return digest if len(digest) == 32 else None
