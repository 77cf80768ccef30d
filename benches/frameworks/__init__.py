"""Framework benches: each module serves one endpoint through negotiate and natively.

What the WSGI modules (``falcon``, ``flask``) share: the request both sides
answer (:data:`REQUEST`), the embedded provider they enrich from, the lookup the
negotiate side raises ``NotFound`` from (:func:`company`), and the check that
both sides answered the same contact (:func:`same_contacts`).

NOTE: only modules of this package that serve an endpoint may live here
(``benches.bench_frameworks`` benches every one it finds), so these helpers are
in the package itself rather than in a module of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from benches.data import SAMPLE
from negotiate import NotFound, get_schema
from negotiate.enrich import Company, EmbeddedProvider

__all__ = ["CONTACT", "ENRICH_ID", "PATH", "PROVIDER", "REQUEST", "company", "same_contacts"]

PATH = "/api/v1/Agents/Contact/EnrichContactEntity"
ENRICH_ID = "NO-800099668"
REQUEST: tuple[str, dict[str, str], bytes] = (
    PATH,
    {"Content-Type": "application/json", "Accept": "application/json"},
    orjson.dumps({"ContactEntity": orjson.loads(SAMPLE.body), "EnrichId": ENRICH_ID}),
)
"""(path, headers, body) of the request both apps answer."""

CONTACT = get_schema("ContactEntity")
PROVIDER = EmbeddedProvider()
"""The companies both sides enrich from."""


def company(enrich_id: Any) -> Company:
    """The company of a decoded request's ``EnrichId`` (the negotiate side's lookup).

    Raises:
        NotFound: no such company (or no ``EnrichId`` at all), at ``/EnrichId``.
    """
    found = PROVIDER.lookup(enrich_id) if isinstance(enrich_id, str) else None
    if found is None:
        raise NotFound(f"Unknown EnrichId {enrich_id!r}", location="/EnrichId")
    return found


def same_contacts(answers: Mapping[str, tuple[int, bytes]]) -> None:
    """Both sides answered 200 with the same enriched contact (normalised alike).

    Args:
        answers: side (``negotiate``, ``native``) -> (status, body) of its answer to
            :data:`REQUEST`.

    Raises:
        AssertionError: a status other than 200, or different contacts.
    """
    for name, (status, body) in answers.items():
        assert status == 200, (name, status, body[:300])
    ours = orjson.loads(answers["negotiate"][1])
    theirs = orjson.loads(answers["native"][1])
    # NOTE: the native side does not normalise: the sample's "ChildItems": [{}, {}] comes
    # back as it was sent, where negotiate fills each item's declared defaults.
    assert ours == CONTACT.normalize(theirs), "the two apps answer different contacts"
    assert len(ours["Phones"]) > len(orjson.loads(SAMPLE.body)["Phones"] or [])
