"""Fixtures shared by every bench: the carriers, the headers, the JSON peers.

``SAMPLE`` is the seed's sample ContactEntity (the EnrichContactEntity
reference page's response); ``LARGE`` is a ContactEntity with 20 persons,
many elements and non-ASCII text. Each comes as the bytes on the wire and as
the normalised value our JSON codec decodes them to. Benches must not modify
the values; :func:`mutated_fixtures` lets the runner verify that after every
row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from negotiate.codecs.json import JsonCodec
from negotiate.schema import Schema, get_schema

__all__ = [
    "CHROME_ACCEPT",
    "CONTENT_TYPE",
    "FIXTURES",
    "LARGE",
    "OFFERS",
    "PEERS",
    "ROOT",
    "SAMPLE",
    "SCHEMA",
    "Fixture",
    "mutated_fixtures",
    "restore_fixtures",
]

ROOT: Final = Path(__file__).resolve().parent.parent
_DATA: Final = ROOT / "tests" / "data" / "superoffice"

SCHEMA: Final[Schema] = get_schema("ContactEntity")

CHROME_ACCEPT: Final = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
"""The Accept header Chrome sends for a navigation."""

OFFERS: Final = (
    "application/json",
    "text/json",
    "application/xml",
    "text/xml",
    "application/json-patch+json",
    "application/merge-patch+json",
)
"""The seed's response types, in server order (form-urlencoded is request-only)."""

CONTENT_TYPE: Final = "application/json; charset=utf-8"
"""A typical request Content-Type."""


@dataclass(frozen=True)
class Fixture:
    """A carrier as wire bytes and as its normalised value."""

    name: str
    body: bytes
    value: dict[str, Any]
    snapshot: bytes  # orjson of ``value`` when loaded, to detect a bench that mutates it


def _load(name: str, filename: str) -> Fixture:
    body = (_DATA / filename).read_bytes()
    value = JsonCodec().decode(body, SCHEMA)
    return Fixture(name, body, value, orjson.dumps(value))


SAMPLE: Final = _load("sample", "contact-sample.json")
LARGE: Final = _load("large", "contact-large.json")
FIXTURES: Final = (SAMPLE, LARGE)


def mutated_fixtures() -> list[str]:
    """Names of fixtures whose value no longer matches what was loaded."""
    return [f.name for f in FIXTURES if orjson.dumps(f.value) != f.snapshot]


def restore_fixtures() -> None:
    """Put every fixture's value back as it was loaded (after a bench mutated one)."""
    for fixture in FIXTURES:
        fixture.value.clear()
        fixture.value.update(orjson.loads(fixture.snapshot))


def _json_dumps(value: Any) -> bytes:
    # NOTE: json.dumps returns str; the wire needs bytes, so the peer pays for .encode().
    return json.dumps(value).encode()


PEERS: Final[dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]]] = {
    "orjson": (orjson.dumps, orjson.loads),
    "json": (_json_dumps, json.loads),
}
"""Schema-less JSON peers: name -> (encode, decode). pydantic is in bench_json."""
