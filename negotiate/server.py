"""The reference server: SuperOffice's contact enrichment agent on :mod:`negotiate.http`.

Two operations, as SuperOffice's WebAPI has them:

* ``POST /api/v1/Agents/Contact/EnrichContactEntity``: body
  ``EnrichContactEntityRequest`` (``{"ContactEntity": ..., "EnrichId": ...}``),
  answer the enriched ``ContactEntity`` (merge rules in
  :mod:`negotiate.enrich.merge`). A patch-format answer is the diff from the
  ContactEntity the client sent (its default when it sent null). A patch
  *request* body applies to the wrapper's default, ``{"ContactEntity": null,
  "EnrichId": null}``: a merge patch is then simply the wrapper with the
  fields to send, and a JSON Patch builds it (``add /EnrichId``, ``add
  /ContactEntity``); an embedding application may supply another base
  (``enrich_operations(request_base=...)``, a stored contact, say).
* ``POST /api/v1/Agents/Contact/GetPreviewEnrichContact``: body
  ``{"EnrichId": ...}``, answer a ``PreviewContact``. A patch-format answer
  is the diff from PreviewContact's default.

A missing ``EnrichId`` is a 400, an unknown one a 404; the remote provider's
failures are 502 and 504.

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

Without users and tokens, :func:`serve` makes a random demo token, prints it
with a ready ``curl`` command and serves; it never serves without
authentication unless told ``insecure_no_auth=True``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from negotiate.asgi import ASGIAdapter
from negotiate.auth import (
    ANONYMOUS,
    APP_TOKEN_HEADER,
    AppTokens,
    Authenticator,
    CredentialAuthenticator,
    RequireAppToken,
    new_token,
    token_digest,
)
from negotiate.codecs import CodecRegistry
from negotiate.enrich import (
    EmbeddedProvider,
    EnrichmentProvider,
    HttpProvider,
    enrich_contact,
    preview_contact,
)
from negotiate.errors import InvalidValue, NotFound
from negotiate.http import App, Context, Operation
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import get_schema
from negotiate.wsgi import WSGIAdapter

__all__ = [
    "ENRICH_PATH",
    "PREVIEW_PATH",
    "ServerConfig",
    "add_serve_arguments",
    "app_factory",
    "asgi_app",
    "create_app",
    "enrich_operations",
    "main",
    "run",
    "serve",
    "wsgi_app",
]

ENRICH_PATH = "/api/v1/Agents/Contact/EnrichContactEntity"
PREVIEW_PATH = "/api/v1/Agents/Contact/GetPreviewEnrichContact"
CONFIG_ENV = "NEGOTIATE_CONFIG"
_RESOLVED_ENV = "NEGOTIATE_SERVE_RESOLVED"
_INSTALL = "pip install 'negotiate[server]'"

_CONTACT = get_schema("ContactEntity")
_ENRICH_REQUEST = get_schema("EnrichContactEntityRequest")
_PREVIEW = get_schema("PreviewContact")
_PREVIEW_REQUEST = get_schema("GetPreviewEnrichContactRequest")


# -- the operations ---------------------------------------------------------------


def enrich_operations(
    provider: EnrichmentProvider,
    *,
    request_base: Callable[[Context], Any] | None = None,
) -> list[Operation]:
    """EnrichContactEntity and GetPreviewEnrichContact over a provider.

    Args:
        provider: the enrichment source.
        request_base: what a patch body of EnrichContactEntity applies to
            (default: the request wrapper's default).

    Returns:
        The two operations, for :class:`negotiate.http.App`.
    """
    blocking = bool(getattr(provider, "blocking", True))

    def lookup(value: dict[str, Any]) -> Any:
        enrich_id = value.get("EnrichId")
        if not enrich_id or not enrich_id.strip():
            raise InvalidValue("EnrichId is required", location="/EnrichId")
        company = provider.lookup(enrich_id)
        if company is None:
            raise NotFound(
                f"Unknown EnrichId {enrich_id!r}: the enrichment provider has no such company",
                location="/EnrichId",
            )
        return company

    def enrich(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return enrich_contact(value["ContactEntity"], lookup(value))

    def preview(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return preview_contact(lookup(value))

    def sent_contact(value: dict[str, Any]) -> dict[str, Any]:
        contact: dict[str, Any] | None = value["ContactEntity"]
        return contact if contact is not None else _CONTACT.default()

    return [
        Operation(
            ENRICH_PATH,
            enrich,
            _ENRICH_REQUEST,
            _CONTACT,
            request_base=request_base,
            response_base=sent_contact,
            blocking=blocking,
        ),
        Operation(PREVIEW_PATH, preview, _PREVIEW_REQUEST, _PREVIEW, blocking=blocking),
    ]


# -- configuration ----------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """What the reference server is configured with (see the module docstring).

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


# -- applications -----------------------------------------------------------------


def create_app(
    config: ServerConfig | None = None,
    *,
    provider: EnrichmentProvider | None = None,
    authenticator: Authenticator | None = None,
    registry: CodecRegistry | None = None,
) -> App:
    """The reference application.

    Args:
        config: the configuration (default: :class:`ServerConfig` defaults,
            which have no credentials: pass ``authenticator`` then).
        provider: overrides the configured enrichment provider.
        authenticator: overrides the configured credentials.
        registry: overrides the default codec registry.

    Raises:
        ValueError: no credentials and no ``authenticator`` (and not
            ``insecure_no_auth``); a malformed configuration value.
    """
    config = config if config is not None else ServerConfig()
    return App(
        enrich_operations(provider if provider is not None else config.provider()),
        authenticator=authenticator if authenticator is not None else config.authenticator(),
        registry=registry,
        options=config.options(),
    )


def asgi_app(config: ServerConfig | None = None, **kwargs: Any) -> ASGIAdapter:
    """The reference application for ASGI servers (arguments as :func:`create_app`)."""
    return ASGIAdapter(create_app(config, **kwargs))


def wsgi_app(config: ServerConfig | None = None, **kwargs: Any) -> WSGIAdapter:
    """The reference application for WSGI servers (arguments as :func:`create_app`)."""
    return WSGIAdapter(create_app(config, **kwargs))


def app_factory() -> ASGIAdapter:
    """The ASGI application of a ``negotiate serve`` worker process.

    ``uvicorn --factory negotiate.server:app_factory`` works too, configured by
    ``$NEGOTIATE_CONFIG``.

    Raises:
        ValueError: the configuration has no credentials.
    """
    resolved = os.environ.get(_RESOLVED_ENV)
    if resolved:
        return asgi_app(ServerConfig.from_dict(json.loads(resolved)))
    return asgi_app(load_config())


# -- negotiate serve --------------------------------------------------------------


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    *,
    config: ServerConfig | str | Path | None = None,
    insecure_no_auth: bool = False,
    log_level: str = "info",
    out: TextIO | None = None,
) -> int:
    """Run the reference server under uvicorn until interrupted.

    Args:
        host: the address to listen on.
        port: the port.
        workers: worker processes.
        config: a :class:`ServerConfig`, a TOML file, or ``None`` (then
            ``$NEGOTIATE_CONFIG``, else no credentials: a demo token is made).
        insecure_no_auth: serve without authentication.
        log_level: uvicorn's log level.
        out: where the banner goes (default: stdout).

    Returns:
        The exit status: 0 after a clean shutdown, 2 for a bad configuration,
        uvicorn's status when it cannot start (3: the port is taken, say).

    Raises:
        ImportError: uvicorn is missing; the message gives the install command.
    """
    uvicorn = _uvicorn()
    out = out if out is not None else sys.stdout
    try:
        cfg = load_config(config)
        if insecure_no_auth:
            cfg = replace(cfg, insecure_no_auth=True)
        token = None
        if not cfg.insecure_no_auth and not cfg.has_auth:
            token = new_token()
            cfg = replace(cfg, tokens={"demo": token_digest(token)})
        app = create_app(cfg)  # fail here, not in every worker, on a bad configuration
    except (ValueError, OSError) as exc:
        print(f"negotiate serve: {exc}", file=sys.stderr)
        return 2
    print(_banner(cfg, app, host, port, workers, token), file=out, flush=True)
    os.environ[_RESOLVED_ENV] = json.dumps(cfg.to_dict())
    try:
        uvicorn.run(
            "negotiate.server:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            lifespan="off",
            server_header=False,
        )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        os.environ.pop(_RESOLVED_ENV, None)
    return 0


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(f"negotiate serve needs uvicorn: {_INSTALL}") from exc
    return uvicorn


def _banner(
    cfg: ServerConfig, app: App, host: str, port: int, workers: int, token: str | None
) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    base = f"http://{shown}:{port}"
    source = cfg.enrichment_url or "the embedded company database"
    lines = [
        f"negotiate: serving {ENRICH_PATH} and {PREVIEW_PATH}",
        f"  on {base} with {workers} worker(s); enrichment from {source}",
        "  request types:  " + ", ".join(app.registry.request_types),
        "  response types: " + ", ".join(app.registry.response_types),
    ]
    example = _example_id(cfg)
    if cfg.insecure_no_auth:
        lines.append("  WARNING: authentication is OFF (--insecure-no-auth)")
        auth = ""
    elif token is not None:
        lines.append(f"  demo token (valid until this server stops): {token}")
        auth = f" \\\n  -H 'Authorization: Bearer {token}'"
    else:
        auth = " \\\n  -H 'Authorization: Bearer <your token>'"
    if cfg.app_tokens and not cfg.insecure_no_auth:
        auth += f" \\\n  -H '{APP_TOKEN_HEADER}: <your application token>'"
    body = json.dumps(
        {"ContactEntity": {"Name": example[1]}, "EnrichId": example[0]}, ensure_ascii=False
    )
    lines += [
        "",
        "Try it:",
        "",
        f"curl -s -X POST '{base}{ENRICH_PATH}?$select=Name,Address,Phones,Emails'{auth} \\",
        "  -H 'Content-Type: application/json' -H 'Accept: application/json' \\",
        f"  -d '{body}'",
        "",
    ]
    return "\n".join(lines)


def _example_id(cfg: ServerConfig) -> tuple[str, str]:
    if not cfg.enrichment_url:
        try:
            provider = EmbeddedProvider(cfg.database)
            try:
                ids = provider.ids(1, country="NO") or provider.ids(1)
                company = provider.lookup(ids[0]) if ids else None
            finally:
                provider.close()
            if company is not None:
                return company.enrich_id, company.name
        except (OSError, IndexError):
            pass
    return "NO-923609016", "Nordvik Maskin AS"


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``negotiate serve`` to a parser (for the CLI)."""
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"TOML configuration (default: ${CONFIG_ENV}; none: a demo token is made)",
    )
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without authentication (development only)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        help="uvicorn log level (default: info)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``negotiate serve`` with parsed arguments (see :func:`add_serve_arguments`)."""
    if args.workers < 1:
        print("negotiate serve: --workers must be at least 1", file=sys.stderr)
        return 2
    return serve(
        args.host,
        args.port,
        args.workers,
        config=args.config,
        insecure_no_auth=args.insecure_no_auth,
        log_level=args.log_level,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m negotiate.server``: the same as ``negotiate serve``."""
    parser = argparse.ArgumentParser(
        prog="negotiate serve",
        description="Serve SuperOffice's EnrichContactEntity and GetPreviewEnrichContact.",
    )
    add_serve_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
