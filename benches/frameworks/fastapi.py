"""FastAPI: negotiate.integrations.fastapi against FastAPI with pydantic v2 models.

Both apps serve ``POST /api/v1/Agents/Contact/EnrichContactEntity`` with the same
work: decode the full sample request (the bundled ContactEntity wrapped with an
``EnrichId``), enrich it from the embedded provider, encode the contact as JSON.

- ``negotiate``: :class:`~negotiate.integrations.fastapi.Negotiation` ``.body`` as
  the body dependency, :class:`~negotiate.integrations.fastapi.NegotiatedResponse`
  as the answer (negotiated Accept, ``$select`` and shaping would apply).
- ``native``: FastAPI's usual way, a pydantic model as the body parameter and
  another as ``response_model`` (FastAPI then validates the returned dict and
  writes it with pydantic's ``dump_json``), models of the same carriers from
  ``benches/pydantic_models.py``; ``model_dump()`` gives the enrichment the same
  plain dict ours decodes to.

Neither has authentication. ``python -m benches.frameworks.fastapi`` runs
:func:`check`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
from fastapi import Depends, FastAPI, HTTPException

from benches.pydantic_models import build_models
from negotiate.enrich import EmbeddedProvider, enrich_contact
from negotiate.errors import NotFound, excerpt
from negotiate.integrations.fastapi import NegotiatedResponse, Negotiation, install
from negotiate.schema import get_schema

__all__ = ["APPS", "REQUEST", "check"]

PATH = "/api/v1/Agents/Contact/EnrichContactEntity"
ENRICH_ID = "NO-800099668"
_SAMPLE = Path(__file__).resolve().parents[2] / "negotiate" / "data" / "contact-sample.json"
BODY = orjson.dumps({"ContactEntity": orjson.loads(_SAMPLE.read_bytes()), "EnrichId": ENRICH_ID})
REQUEST: tuple[str, dict[str, str], bytes] = (
    PATH,
    {"Content-Type": "application/json", "Accept": "application/json"},
    BODY,
)

_PROVIDER = EmbeddedProvider()


def _enriched(value: dict[str, Any]) -> dict[str, Any]:
    company = _PROVIDER.lookup(value["EnrichId"] or "")
    if company is None:
        raise NotFound(f"No company {excerpt(value['EnrichId'])}", location="/EnrichId")
    return enrich_contact(value["ContactEntity"], company)


# -- negotiate ------------------------------------------------------------------------

_ENRICH = Negotiation(get_schema("EnrichContactEntityRequest"), get_schema("ContactEntity"))
negotiate_app = FastAPI()
install(negotiate_app)


@negotiate_app.post(PATH, openapi_extra=_ENRICH.openapi())
async def negotiate_enrich(
    value: Annotated[dict[str, Any], Depends(_ENRICH.body)],
) -> NegotiatedResponse:
    return NegotiatedResponse(_enriched(value))


# -- native: pydantic v2 models -----------------------------------------------------------

_MODELS = build_models()
RequestModel = _MODELS["EnrichContactEntityRequest"]
ContactModel = _MODELS["ContactEntity"]
native_app = FastAPI()


@native_app.post(PATH, response_model=ContactModel)
async def native_enrich(body: RequestModel) -> Any:
    value = body.model_dump()
    company = _PROVIDER.lookup(value["EnrichId"] or "")
    if company is None:
        raise HTTPException(404, "No such company")
    return enrich_contact(value["ContactEntity"], company)


APPS: dict[str, tuple[str, object]] = {
    "negotiate": ("asgi", negotiate_app),
    "native": ("asgi", native_app),
}


def check() -> None:
    """Both apps answer :data:`REQUEST` with 200 and the same contact.

    Raises:
        AssertionError: a status other than 200, or different contacts.
    """
    path, headers, body = REQUEST

    async def ask(app: Any) -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            answer = await client.post(path, content=body, headers=headers)
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        return answer.json()

    ours = asyncio.run(ask(negotiate_app))
    theirs = asyncio.run(ask(native_app))
    assert ours == theirs, "the two apps answer different contacts"
    assert ours["Phones"] and ours["Address"]["Formatted"], "the contact was not enriched"


if __name__ == "__main__":
    check()
    print("fastapi: both apps answer the same contact")
