"""The reference server's configuration: :class:`ServerConfig` and :func:`load_config`.

Configuration is a TOML file (``negotiate serve --config FILE``, or the
``NEGOTIATE_CONFIG`` environment variable)::

    [auth]
    users = { tje0 = "scrypt$16384$8$1$..." }   # negotiate.auth.hash_password
    tokens = { ci = "sha256:9f86d0..." }        # Bearer and SOTicket; negotiate.auth.token_digest
    app_tokens = { partner = "sha256:2c26b4..." }   # SO-AppToken; required with Bearer, SOTicket

    [enrichment]
    url = "https://enrich.example/companies/{id}"   # omit for the embedded database
    timeout = 2.0
    retries = 2
    headers = { "X-Api-Key" = "..." }
    database = "/srv/companies.sqlite"              # another embedded database

    [limits]
    max_body = 16777216
    max_depth = 64
    max_items = 10000
    unknown = "ignore"                              # or "error"

    [server]                                        # per uvicorn worker
    keep_alive_timeout = 5.0      # s an idle connection stays open between requests
    header_timeout = 10.0         # s from connecting (or a request's first byte) to its last header
    body_timeout = 60.0           # s from the last header to the last byte of the body
    limit_concurrency = 128       # connections and requests at once; more are answered 503
    max_header_size = 16384       # bytes of request line and headers; more is a 431

Every value is checked when the file is read (an unknown section or key, a
wrong type, a malformed password hash or token digest is a ``ValueError``
naming it), not when the first request needs it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from negotiate.auth import (
    ANONYMOUS,
    AppTokens,
    Authenticator,
    CredentialAuthenticator,
    RequireAppToken,
)
from negotiate.enrich import EmbeddedProvider, EnrichmentProvider, HttpProvider
from negotiate.options import DEFAULT_OPTIONS, Options

__all__ = ["CONFIG_ENV", "ServerConfig", "load_config"]

CONFIG_ENV = "NEGOTIATE_CONFIG"
"""The environment variable naming the configuration file."""


@dataclass(frozen=True)
class ServerConfig:
    """What the reference server is configured with (the TOML layout: the module docstring).

    Attributes:
        users: user name to :func:`~negotiate.auth.hash_password` hash.
        tokens: name to token (``sha256:`` digest or clear), for Bearer and SOTicket.
        app_tokens: partner application name to ``SO-AppToken`` (``sha256:``
            digest or clear); when any are set, Bearer and SOTicket requests
            must carry one (:class:`~negotiate.auth.RequireAppToken`).
        insecure_no_auth: let everyone in (development only).
        enrichment_url: a remote enrichment service; ``None``: the embedded database.
        enrichment_timeout: seconds per socket operation on the remote service.
        enrichment_retries: extra attempts on the remote service.
        enrichment_headers: extra headers for the remote service.
        database: another SQLite file for the embedded provider.
        max_body: largest request body in bytes.
        max_depth: deepest nesting.
        max_items: most items in an array or dictionary.
        unknown: ``"ignore"`` or ``"error"`` for undeclared properties.
        keep_alive_timeout: seconds an idle connection is kept between requests.
        header_timeout: seconds from connecting, or from a request's first
            byte, to the end of its headers; then 408 and the connection closes.
        body_timeout: seconds from the end of the headers to the end of the
            body; then 408 and the connection closes.
        limit_concurrency: connections and requests at once per worker; more
            are answered 503.
        max_header_size: bytes of request line and headers; more is a 431.
    """

    users: Mapping[str, str] = field(default_factory=dict)
    tokens: Mapping[str, str] = field(default_factory=dict)
    app_tokens: Mapping[str, str] = field(default_factory=dict)
    insecure_no_auth: bool = False
    enrichment_url: str | None = None
    enrichment_timeout: float = 2.0
    enrichment_retries: int = 2
    enrichment_headers: Mapping[str, str] = field(default_factory=dict)
    database: str | None = None
    max_body: int = DEFAULT_OPTIONS.max_body
    max_depth: int = DEFAULT_OPTIONS.max_depth
    max_items: int = DEFAULT_OPTIONS.max_items
    unknown: str = "ignore"
    keep_alive_timeout: float = 5.0
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    limit_concurrency: int = 128
    max_header_size: int = 16 * 1024

    @property
    def has_auth(self) -> bool:
        """Whether any user or token is configured."""
        return bool(self.users or self.tokens)

    def options(self) -> Options:
        """The codec options these limits make.

        Raises:
            ValueError: ``unknown`` is neither ``ignore`` nor ``error``.
        """
        if self.unknown not in ("ignore", "error"):
            raise ValueError(f"limits.unknown must be 'ignore' or 'error', got {self.unknown!r}")
        return Options(
            unknown="error" if self.unknown == "error" else "ignore",
            max_body=self.max_body,
            max_depth=self.max_depth,
            max_items=self.max_items,
        )

    def provider(self) -> EnrichmentProvider:
        """The enrichment provider this configuration names.

        Raises:
            ValueError: a bad URL; FileNotFoundError: no such database.
        """
        if self.enrichment_url:
            return HttpProvider(
                self.enrichment_url,
                timeout=self.enrichment_timeout,
                retries=self.enrichment_retries,
                headers=self.enrichment_headers,
            )
        return EmbeddedProvider(self.database)

    def authenticator(self) -> Authenticator:
        """The authenticator these credentials make.

        Raises:
            ValueError: nothing is configured and ``insecure_no_auth`` is not set,
                or a user's hash or an application token's digest is malformed.
        """
        if self.insecure_no_auth:
            return ANONYMOUS
        if not self.has_auth:
            raise ValueError(
                "no users or tokens configured; add [auth] to the configuration "
                "(or allow anonymous access explicitly with insecure_no_auth)"
            )
        credentials = CredentialAuthenticator(users=self.users, tokens=self.tokens)
        if not self.app_tokens:
            return credentials
        return RequireAppToken(credentials, AppTokens(self.app_tokens))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for passing to worker processes)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerConfig:
        """Read :meth:`to_dict` output.

        Raises:
            ValueError: an unknown key or a value of the wrong type.
        """
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        config = cls(**data)
        config._check()
        return config

    @classmethod
    def from_toml(cls, path: str | Path) -> ServerConfig:
        """Read a TOML configuration file (layout in the module docstring).

        Raises:
            ValueError: malformed TOML, an unknown section or key, a wrong type.
            OSError: the file cannot be read.
        """
        with open(path, "rb") as handle:
            try:
                data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{path}: {exc}") from None
        flat: dict[str, Any] = {}
        sections = {
            "auth": {k: k for k in ("users", "tokens", "app_tokens", "insecure_no_auth")},
            "enrichment": {
                "url": "enrichment_url",
                "timeout": "enrichment_timeout",
                "retries": "enrichment_retries",
                "headers": "enrichment_headers",
                "database": "database",
            },
            "limits": {k: k for k in ("max_body", "max_depth", "max_items", "unknown")},
            "server": {k: k for k in _SERVER_KEYS},
        }
        for section, table in data.items():
            keys = sections.get(section)
            if keys is None or not isinstance(table, dict):
                raise ValueError(f"{path}: unknown section [{section}]")
            for key, value in table.items():
                if key not in keys:
                    raise ValueError(f"{path}: unknown key {key!r} in [{section}]")
                flat[keys[key]] = value
        try:
            return cls.from_dict(flat)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def _check(self) -> None:
        for name in ("users", "tokens", "app_tokens", "enrichment_headers"):
            value: Any = getattr(self, name)
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError(f"{name} must be a table of strings")
        numbers: dict[str, type | tuple[type, ...]] = {
            "max_body": int,
            "max_depth": int,
            "max_items": int,
            "enrichment_retries": int,
            "enrichment_timeout": (int, float),
        }
        for name, kind in numbers.items():
            number: Any = getattr(self, name)
            typed = isinstance(number, kind) and not isinstance(number, bool)
            if not typed or number < 0:
                raise ValueError(f"{name} must be a non-negative number, got {number!r}")
        for name in _SERVER_KEYS:
            number = getattr(self, name)
            kind = int if name in ("limit_concurrency", "max_header_size") else (int, float)
            typed = isinstance(number, kind) and not isinstance(number, bool)
            if not typed or not number > 0:
                raise ValueError(f"{name} must be a positive number, got {number!r}")
        if not isinstance(self.insecure_no_auth, bool):
            raise ValueError("insecure_no_auth must be true or false")
        for name in ("enrichment_url", "database"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        try:
            AppTokens(self.app_tokens)  # a malformed digest fails here, not at the first request
        except ValueError as exc:
            raise ValueError(f"app_tokens: {exc}") from None
        self.options()
        if self.has_auth:
            # NOTE: a malformed hash or digest is named here, when the file is read,
            # not when the first request needs it (building the authenticator is cheap).
            try:
                CredentialAuthenticator(users=self.users, tokens=self.tokens)
            except ValueError as exc:
                raise ValueError(f"[auth] {exc}") from None


_SERVER_KEYS = (
    "keep_alive_timeout",
    "header_timeout",
    "body_timeout",
    "limit_concurrency",
    "max_header_size",
)


def load_config(source: ServerConfig | str | Path | None = None) -> ServerConfig:
    """The configuration from an object, a TOML file, ``$NEGOTIATE_CONFIG``, or the defaults.

    Raises:
        ValueError, OSError: as :meth:`ServerConfig.from_toml`.
    """
    if isinstance(source, ServerConfig):
        return source
    if source is None:
        source = os.environ.get(CONFIG_ENV) or None
    if source is None:
        return ServerConfig()
    return ServerConfig.from_toml(source)
