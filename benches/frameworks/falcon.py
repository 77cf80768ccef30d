"""EnrichContactEntity in Falcon, two ways: through negotiate's handlers, and Falcon's own.

``APPS["negotiate"]`` is :mod:`negotiate.integrations.falcon`: a responder
decorated with ``negotiate_carrier``, its body decoded into the normalised
``EnrichContactEntityRequest`` (names bound case-insensitively, every field
typed and checked), its ``resp.media`` negotiated (Accept, ``$select``,
shaping, ``Vary``) and written by orjson. ``APPS["native"]`` is the usual
Falcon resource: ``req.get_media()`` and ``resp.media`` through Falcon's
default JSON media handler (stdlib ``json``), no validation at all. Both
enrich from the same embedded provider; neither authenticates.

``python -m benches.frameworks.falcon`` checks both and times one in-process
request of each (no server, no socket).
"""

from __future__ import annotations

import timeit
from typing import Any

import falcon
import falcon.testing

from benches.frameworks import CONTACT, PATH, PROVIDER, REQUEST, company, same_contacts
from negotiate import get_schema
from negotiate.enrich import enrich_contact
from negotiate.integrations.falcon import install, negotiate_carrier

__all__ = ["APPS", "REQUEST", "check"]


class _Negotiated:
    @negotiate_carrier(get_schema("EnrichContactEntityRequest"), CONTACT)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        value = req.get_media()
        resp.media = enrich_contact(value["ContactEntity"], company(value["EnrichId"]))


class _Native:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        value = req.get_media()
        found = PROVIDER.lookup(value["EnrichId"])
        if found is None:
            raise falcon.HTTPNotFound()
        resp.media = enrich_contact(value["ContactEntity"], found)


def _negotiate_app() -> falcon.App[Any, Any]:
    app = falcon.App()
    install(app)
    app.add_route(PATH, _Negotiated())
    return app


def _native_app() -> falcon.App[Any, Any]:
    app = falcon.App()
    app.add_route(PATH, _Native())
    return app


APPS: dict[str, tuple[str, object]] = {
    "negotiate": ("wsgi", _negotiate_app()),
    "native": ("wsgi", _native_app()),
}
"""name -> (interface, application)."""


def _post(app: Any) -> falcon.testing.Result:
    path, headers, body = REQUEST
    return falcon.testing.simulate_post(app, path, body=body, headers=headers)


def check() -> None:
    """Both apps answer alike (:func:`benches.frameworks.same_contacts`)."""
    answers = {name: _post(app) for name, (_, app) in APPS.items()}
    same_contacts({name: (a.status_code, a.content) for name, a in answers.items()})


if __name__ == "__main__":
    check()
    for name, (_, app) in APPS.items():
        runs, total = timeit.Timer(lambda app=app: _post(app)).autorange()
        print(f"{name:10} {total / runs * 1e6:8.1f} µs per request (falcon.testing, in-process)")
