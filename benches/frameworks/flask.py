"""EnrichContactEntity in Flask, two ways: through negotiate's extension, and Flask's own.

``APPS["negotiate"]`` is :mod:`negotiate.integrations.flask`: the body decoded
into the normalised ``EnrichContactEntityRequest`` (names bound
case-insensitively, every field typed and checked), the answer negotiated
(Accept, ``$select``, shaping, ``Vary``) and written by orjson.
``APPS["native"]`` is the usual Flask view: ``request.get_json()`` and
``jsonify`` (Flask's default JSON provider, stdlib ``json``, sorted keys), no
validation at all. Both enrich from the same embedded provider; neither
authenticates. The difference is what the integration costs (and checks).

``python -m benches.frameworks.flask`` checks both and times one in-process
request of each (no server, no socket).
"""

from __future__ import annotations

import io
import sys
import timeit
from typing import Any

import flask

from benches.frameworks import CONTACT, PATH, PROVIDER, REQUEST, company, same_contacts
from negotiate import get_schema
from negotiate.enrich import enrich_contact
from negotiate.integrations.flask import Negotiate

__all__ = ["APPS", "REQUEST", "check"]


def _negotiate_app() -> flask.Flask:
    app = flask.Flask("bench_negotiate")
    negotiate = Negotiate(app)

    @app.post(PATH)
    @negotiate.route(request=get_schema("EnrichContactEntityRequest"), response=CONTACT)
    def enrich(value: dict[str, Any]) -> dict[str, Any]:
        return enrich_contact(value["ContactEntity"], company(value["EnrichId"]))

    return app


def _native_app() -> flask.Flask:
    app = flask.Flask("bench_native")

    @app.post(PATH)
    def enrich() -> flask.Response:
        value = flask.request.get_json()
        found = PROVIDER.lookup(value["EnrichId"])
        if found is None:
            flask.abort(404)
        return flask.jsonify(enrich_contact(value["ContactEntity"], found))

    return app


APPS: dict[str, tuple[str, object]] = {
    "negotiate": ("wsgi", _negotiate_app()),
    "native": ("wsgi", _native_app()),
}
"""name -> (interface, application)."""


def _answer(app: flask.Flask) -> tuple[int, bytes]:
    path, headers, body = REQUEST
    answer = app.test_client().post(path, data=body, headers=headers)
    return answer.status_code, answer.data


def check() -> None:
    """Both apps answer alike (:func:`benches.frameworks.same_contacts`)."""
    same_contacts({name: _answer(app) for name, (_, app) in APPS.items()})  # type: ignore[arg-type]


def _environ() -> dict[str, Any]:
    path, headers, body = REQUEST
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": headers["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_ACCEPT": headers["Accept"],
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _call(app: Any) -> bytes:
    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        assert status.startswith("200"), status

    return b"".join(app(_environ(), start_response))


if __name__ == "__main__":
    check()
    for name, (_, app) in APPS.items():
        runs, total = timeit.Timer(lambda app=app: _call(app)).autorange()
        print(f"{name:10} {total / runs * 1e6:8.1f} µs per request (in-process WSGI call)")
