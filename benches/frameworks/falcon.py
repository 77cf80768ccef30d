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
import orjson

from benches.data import SAMPLE
from negotiate import NotFound, get_schema
from negotiate.enrich import EmbeddedProvider, enrich_contact
from negotiate.integrations.falcon import install, negotiate_carrier

__all__ = ["APPS", "REQUEST", "check"]

PATH = "/api/v1/Agents/Contact/EnrichContactEntity"
ENRICH_ID = "NO-800099668"
REQUEST: tuple[str, dict[str, str], bytes] = (
    PATH,
    {"Content-Type": "application/json", "Accept": "application/json"},
    orjson.dumps({"ContactEntity": orjson.loads(SAMPLE.body), "EnrichId": ENRICH_ID}),
)
"""(path, headers, body) of the request both apps answer."""

CONTACT = get_schema("ContactEntity")
_provider = EmbeddedProvider()


class _Negotiated:
    @negotiate_carrier(get_schema("EnrichContactEntityRequest"), CONTACT)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        value = req.get_media()
        company = _provider.lookup(value["EnrichId"] or "")
        if company is None:
            raise NotFound(f"Unknown EnrichId {value['EnrichId']!r}", location="/EnrichId")
        resp.media = enrich_contact(value["ContactEntity"], company)


class _Native:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        value = req.get_media()
        company = _provider.lookup(value["EnrichId"])
        if company is None:
            raise falcon.HTTPNotFound()
        resp.media = enrich_contact(value["ContactEntity"], company)


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
    """Both apps answer 200 with the same enriched contact (normalised alike).

    Raises:
        AssertionError: they do not.
    """
    answers = {name: _post(app) for name, (_, app) in APPS.items()}
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.status_code, answer.text)
    ours = orjson.loads(answers["negotiate"].content)
    theirs = orjson.loads(answers["native"].content)
    # NOTE: the native side does not normalise: the sample's "ChildItems": [{}, {}] comes
    # back as it was sent, where negotiate fills each item's declared defaults.
    assert ours == CONTACT.normalize(theirs), "the two apps answer different contacts"
    assert len(ours["Phones"]) > len(orjson.loads(SAMPLE.body)["Phones"] or [])


if __name__ == "__main__":
    check()
    for name, (_, app) in APPS.items():
        runs, total = timeit.Timer(lambda app=app: _post(app)).autorange()
        print(f"{name:10} {total / runs * 1e6:8.1f} µs per request (falcon.testing, in-process)")
