"""The reference server: SuperOffice's contact enrichment agent on :mod:`negotiate.http`.

Two operations, ``POST /api/v1/Agents/Contact/EnrichContactEntity`` and
``POST /api/v1/Agents/Contact/GetPreviewEnrichContact`` (the endpoint's facts
are in :mod:`negotiate.superoffice`), over an enrichment provider and an
authenticator. The parts:

- :mod:`negotiate.server.operations`: :func:`enrich_operations` (the
  handlers), :func:`create_app` and its ASGI and WSGI applications;
- :mod:`negotiate.server.config`: :class:`ServerConfig`, read from TOML by
  :func:`load_config` (the file's layout is there);
- :mod:`negotiate.server.launch`: :func:`serve` under uvicorn with its
  connection limits, :func:`uvicorn_config`, and ``negotiate serve``
  (``python -m negotiate.server`` is the same).

Every name is re-exported here: ``negotiate.server.X`` is the public path, and
``uvicorn --factory negotiate.server:app_factory`` the worker's application.
"""

from __future__ import annotations

from negotiate.server.config import (
    CONFIG_ENV as CONFIG_ENV,
    ServerConfig as ServerConfig,
    load_config as load_config,
)
from negotiate.server.launch import (
    add_serve_arguments as add_serve_arguments,
    app_factory as app_factory,
    main as main,
    run as run,
    serve as serve,
    uvicorn_config as uvicorn_config,
)
from negotiate.server.operations import (
    asgi_app as asgi_app,
    create_app as create_app,
    enrich_operations as enrich_operations,
    wsgi_app as wsgi_app,
)
from negotiate.superoffice import ENRICH_PATH as ENRICH_PATH, PREVIEW_PATH as PREVIEW_PATH

__all__ = [
    "CONFIG_ENV",
    "ENRICH_PATH",
    "PREVIEW_PATH",
    "ServerConfig",
    "add_serve_arguments",
    "app_factory",
    "asgi_app",
    "create_app",
    "enrich_operations",
    "load_config",
    "main",
    "run",
    "serve",
    "uvicorn_config",
    "wsgi_app",
]
