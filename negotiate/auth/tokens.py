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
