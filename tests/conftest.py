"""Shared fixtures: the reference application, a real server on loopback, a fake remote source.

Only fixtures (and the Hypothesis profiles) live here; what tests import
(constants, builders, the house application, the server threads) is in
``helpers.py``. The servers are session-scoped and started once: uvicorn in a
thread on a free 127.0.0.1 port, serving the reference application with known
credentials, and a fake remote enrichment service (``http.server``) for the
HTTP provider. Each is stopped at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from helpers import (
    CONTACT,
    PASSWORD,
    SAMPLE,
    TOKENS,
    USER,
    FakeEnrichment,
    UvicornThread,
    house_app,
)
from hypothesis import HealthCheck, settings

from negotiate.asgi import ASGIAdapter
from negotiate.auth import CredentialAuthenticator, hash_password
from negotiate.enrich import EmbeddedProvider
from negotiate.http import App
from negotiate.server import ServerConfig, create_app

# Carriers are large draws and CI machines are slow: the size and speed health
# checks say nothing about correctness here. Under CI the examples are
# derandomised, so a run is reproducible; locally they stay random, so new
# examples keep being explored.
settings.register_profile(
    "negotiate",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("negotiate-ci", settings.get_profile("negotiate"), derandomize=True)
settings.load_profile("negotiate-ci" if os.environ.get("CI") else "negotiate")


@pytest.fixture(scope="session")
def password_hash() -> str:
    """``PASSWORD`` hashed (scrypt, slow on purpose: once per session)."""
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def config(password_hash: str) -> ServerConfig:
    """The reference server's configuration: one user, one token, one ticket."""
    return ServerConfig(users={USER: password_hash}, tokens=TOKENS)


@pytest.fixture(scope="session")
def app(config: ServerConfig) -> App:
    """The reference application (embedded provider)."""
    return create_app(config)


@pytest.fixture(scope="session")
def house(password_hash: str) -> App:
    """The house application (``helpers.house_app``) behind the same credentials."""
    return house_app(CredentialAuthenticator(users={USER: password_hash}, tokens=TOKENS))


@pytest.fixture(scope="session")
def provider() -> Iterator[EmbeddedProvider]:
    """The embedded enrichment provider."""
    found = EmbeddedProvider()
    yield found
    found.close()


@pytest.fixture(scope="session")
def enrich_id(provider: EmbeddedProvider) -> str:
    """A Norwegian EnrichId that exists."""
    return provider.ids(1, country="NO")[0]


@pytest.fixture
def sample() -> dict[str, Any]:
    """The bundled sample ContactEntity, normalised (a fresh copy per test)."""
    return CONTACT.normalize(orjson.loads(SAMPLE.read_bytes()))


@pytest.fixture(scope="session")
def asgi_server(app: App) -> Iterator[UvicornThread]:
    """The reference application under uvicorn (real HTTP on 127.0.0.1)."""
    with UvicornThread(ASGIAdapter(app)) as server:
        yield server


@pytest.fixture(scope="session")
def fake_enrichment(provider: EmbeddedProvider) -> Iterator[FakeEnrichment]:
    """The fake remote enrichment service, on loopback."""
    with FakeEnrichment(provider) as fake:
        yield fake
