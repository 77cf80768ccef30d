"""JSON: decode + validate + normalise, and encode, against orjson, stdlib json, pydantic v2.

Decode: our ``JsonCodec.decode(body, ContactEntity)`` (orjson parse, then the
compiled normaliser) against bare ``orjson.loads`` (the floor: no validation),
``json.loads`` and pydantic's ``model_validate_json`` on generated models of
the same carriers. Encode: ``JsonCodec.encode`` against ``orjson.dumps``,
``json.dumps(...).encode()`` and pydantic's ``model_dump_json`` on a model
instance validated beforehand.

Checks: our decode equals the fixture's normalised value, the schema-less
peers' results equal it once normalised, pydantic's ``model_dump()`` equals it
exactly; every encoder's output parses back (and normalises) to the value.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson

from benches.data import FIXTURES, PEERS, SAMPLE, SCHEMA, Fixture
from benches.harness import OURS, Row, import_optional
from negotiate.codecs.json import JsonCodec

__all__ = ["CAVEATS", "rows"]

CAVEATS = [
    "JSON decode: ours parses with orjson and validates every field (int32 range, "
    "date-time grammar and calendar, enum and flag names, nesting and size limits), binds "
    "names case-insensitively and fills .NET defaults. `orjson.loads` and `json.loads` "
    "validate nothing (the floor). pydantic v2 validates models generated from the same "
    "schema (int32 bounds, date-time pattern, enum literals, defaults) but binds names "
    "case-sensitively, leaves flag-enum combinations and calendar dates unchecked, and in "
    "lax mode accepts numeric strings for int32.",
    "JSON encode: a normalised carrier is already in declaration order with exact date-time "
    "text, so ours is one `orjson.dumps` plus the codec's call overhead. `json.dumps` pays "
    "for `.encode()` to bytes (ensure_ascii on). pydantic's `model_dump_json` runs on a "
    "model instance validated before timing.",
]


def _normalised(value: Any) -> Any:
    return SCHEMA.normalize(value)


def _decode_check(fixture: Fixture) -> Any:
    def check(name: str, result: Any) -> str | None:
        if name == "pydantic":
            result = result.model_dump()
        elif name != OURS:
            result = _normalised(result)
        if result != fixture.value:
            return f"{name} decoded {fixture.name} to a different value"
        return None

    return check


def _encode_check(fixture: Fixture) -> Any:
    def check(name: str, result: Any) -> str | None:
        if not isinstance(result, bytes):
            return f"{name} returned {type(result).__name__}, not bytes"
        if _normalised(orjson.loads(result)) != fixture.value:
            return f"{name}'s JSON of {fixture.name} does not read back to the value"
        return None

    return check


def _pydantic_json(instance: Any) -> bytes:
    # NOTE: model_dump_json returns str; the wire needs bytes.
    return instance.model_dump_json().encode()  # type: ignore[no-any-return]


def rows() -> list[Row]:
    """The JSON rows: decode and encode, sample and large."""
    models = import_optional("benches.pydantic_models").build_models()
    model = models[SCHEMA.name]
    codec = JsonCodec()
    decode, encode = codec.decode, codec.encode
    out: list[Row] = []
    for fixture in FIXTURES:
        body, value = fixture.body, fixture.value
        on_sample = fixture is SAMPLE
        out.append(
            Row(
                group="json",
                case=f"decode {fixture.name} ({len(body):,} B)",
                ours=partial(decode, body, SCHEMA),
                peers={
                    "orjson.loads": partial(PEERS["orjson"][1], body),
                    "json.loads": partial(PEERS["json"][1], body),
                    "pydantic": partial(model.model_validate_json, body),
                },
                check=_decode_check(fixture),
                targets={"orjson.loads": 0.5} if on_sample else {},
                source="issue 2",
            )
        )
    for fixture in FIXTURES:
        value = fixture.value
        instance = model.model_validate(value)
        on_sample = fixture is SAMPLE
        out.append(
            Row(
                group="json",
                case=f"encode {fixture.name}",
                ours=partial(encode, value, SCHEMA),
                peers={
                    "orjson.dumps": partial(PEERS["orjson"][0], value),
                    "json.dumps": partial(PEERS["json"][0], value),
                    "pydantic": partial(_pydantic_json, instance),
                },
                check=_encode_check(fixture),
                targets={"orjson.dumps": 0.9} if on_sample else {},
                source="issue 2",
            )
        )
    return out
