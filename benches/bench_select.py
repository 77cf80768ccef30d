"""``$select`` and response shaping.

``$select=name,department,category/id`` on the sample and the large
ContactEntity: compiling cold (every projector cache emptied, then compile
and apply once), applying warm (a projector compiled before timing), and the
per-request path (``compile_select`` hitting its cache, then apply), each
against hand-written Python doing the same projection, the floor: a dict
comprehension over the fields, and a dict display (``{**blank, "Name": ...}``,
faster still).

Shaping: a response with ``SO-TimeZone: US-NY`` (``Shaping.from_headers``,
``apply``, then the JSON encode) against the same response without shaping
(the JSON encode alone); the ratio is the share of throughput left once
date-times are converted. Repeated, the same response finds its headers and
date-times in the caches (as a server answering for the same records does);
the "caches emptied" row pays the header parse and every conversion each time.

Checks: the projection equals the hand-written one, which spells out the
rule (selected fields kept, unselected reference types null, value types
their .NET default); shaped date-times equal an independent conversion with
``zoneinfo`` (fraction digits carried as text), ``CreatedDate`` and
``UpdatedDate`` unchanged, everything else unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from benches.data import FIXTURES, SAMPLE, SCHEMA, Fixture
from benches.harness import OURS, Row, import_optional
from negotiate.codecs.json import JsonCodec
from negotiate.schema import Kind, Schema

__all__ = ["CAVEATS", "SELECT", "rows"]

SELECT = "name,department,category/id"

CAVEATS = [
    "$select: the floors are hand-written for this one selection and know the value is a "
    "normalised ContactEntity; ours is compiled from the text at run time, resolves names "
    "case-insensitively and falls back to normalising a value that is not normalised. "
    "'Cold' includes emptying the projector caches. Shaping: ours converts every date-time "
    "of the carrier (a walker generated from the schema visits only its date-time fields; "
    "copy on write); the peer is the same response without shaping, so the ratio is the "
    "throughput left, not a comparison with another library. The parsed headers and the "
    "conversions are cached (bounded), so a repeated response hits them; the 'caches "
    "emptied' row empties them before every call.",
]

_CATEGORY = SCHEMA.field("Category")
assert _CATEGORY is not None
_BLANK = SCHEMA.default()  # unselected: value types at their default, the rest null
_CATEGORY_BLANK = _CATEGORY.type.schema.default()
_KEEP = frozenset({"Name", "Department"})


def by_comprehension(value: dict[str, Any]) -> dict[str, Any]:
    """The projection as a dict comprehension over the declared fields."""
    category = value["Category"]
    return {
        name: value[name]
        if name in _KEEP
        else (
            (
                None
                if category is None
                else {k: category[k] if k == "Id" else d for k, d in _CATEGORY_BLANK.items()}
            )
            if name == "Category"
            else blank
        )
        for name, blank in _BLANK.items()
    }


def by_display(value: dict[str, Any]) -> dict[str, Any]:
    """The projection as a dict display over the blank carrier."""
    category = value["Category"]
    return {
        **_BLANK,
        "Name": value["Name"],
        "Department": value["Department"],
        "Category": None if category is None else {**_CATEGORY_BLANK, "Id": category["Id"]},
    }


def _clear_select_caches(select: Any) -> Callable[[], None]:
    """Empty every projector cache of ``negotiate.select``."""
    public = getattr(select, "clear_caches", None)
    if callable(public):
        return public  # type: ignore[no-any-return]
    # NOTE: no public hook yet; the module's two lru_caches are emptied directly.
    caches = [f for f in vars(select).values() if callable(getattr(f, "cache_clear", None))]
    if not caches:
        raise AttributeError("negotiate.select has no cache to clear for a cold compile")

    def clear() -> None:
        for cache in caches:
            cache.cache_clear()

    return clear


def _projection_check(fixture: Fixture) -> Callable[[str, Any], str | None]:
    expected = by_display(fixture.value)

    def check(name: str, result: Any) -> str | None:
        if result != expected:
            return f"{name} projected {fixture.name} differently from the rule"
        if result is fixture.value:
            return f"{name} returned its input"
        return None

    return check


# -- shaping ------------------------------------------------------------------

_ZONE = ZoneInfo("America/New_York")  # SO-TimeZone US-NY
_UTC_FIELDS = frozenset({"CreatedDate", "UpdatedDate"})
_DATETIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(\.\d+)?(Z|[+-]\d\d:?\d\d)?")


def expected_in_zone(text: str) -> str:
    """``text`` as a wall time in New York, the fraction kept as text (independent oracle)."""
    match = _DATETIME.fullmatch(text)
    if match is None or text.startswith(("0001-01-01", "9999-12-31")):
        return text
    whole, fraction, offset = match.groups()
    stamp = datetime.fromisoformat(whole + (offset or "").replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)  # the server's base zone, UTC by default
    return stamp.astimezone(_ZONE).replace(tzinfo=None).isoformat() + (fraction or "")


def _shaped_pairs(schema: Schema, before: Any, after: Any, where: str) -> list[str]:
    """Where ``after`` is not ``before`` with its date-times in New York."""
    wrong: list[str] = []
    for field in schema.fields:
        old, new = before[field.name], after[field.name]
        path = f"{where}/{field.name}"
        kind = field.type.kind
        if kind is Kind.DATETIME:
            want = old if field.name in _UTC_FIELDS else expected_in_zone(old)
            if new != want:
                wrong.append(f"{path}: {new!r}, expected {want!r}")
        elif kind is Kind.CARRIER and old is not None and new is not None:
            wrong += _shaped_pairs(field.type.schema, old, new, path)
        elif kind is Kind.ARRAY and old and new and field.type.item is not None:
            item = field.type.item
            if item.kind is Kind.CARRIER and len(old) == len(new):
                for index, (a, b) in enumerate(zip(old, new, strict=True)):
                    if a is not None and b is not None:
                        wrong += _shaped_pairs(item.schema, a, b, f"{path}/{index}")
            elif old != new:
                wrong.append(f"{path} changed")
        elif old != new:
            wrong.append(f"{path} changed")
    return wrong


def _shaping_check(fixture: Fixture) -> Callable[[str, Any], str | None]:
    def check(name: str, result: Any) -> str | None:
        value = orjson.loads(result)
        if name != OURS:
            return None if value == fixture.value else f"{name} changed the value"
        wrong = _shaped_pairs(SCHEMA, fixture.value, value, "")
        if wrong:
            return f"{name}: {len(wrong)} wrong field(s), first {wrong[0]}"
        return None

    return check


_HEADERS = {"SO-TimeZone": "US-NY"}


def _cold(clear: Callable[[], None], compile_select: Any, value: Any) -> Any:
    clear()
    return compile_select(SCHEMA, SELECT).apply(value)


def _per_request(compile_select: Any, value: Any) -> Any:
    return compile_select(SCHEMA, SELECT).apply(value)


def _shaped(from_headers: Any, encode: Callable[..., bytes], value: Any) -> bytes:
    return encode(from_headers(_HEADERS).apply(SCHEMA, value), SCHEMA)


def _shaping_caches(shaping: Any) -> Callable[[], None]:
    """Empty the caches shaping keeps between requests (headers, conversions)."""
    core = import_optional("negotiate.shaping.core")
    zones = import_optional("negotiate.shaping.zones")
    memo = getattr(core, "_MEMO", None)
    converter = getattr(zones, "_converter", None)

    def clear() -> None:
        if memo is not None:
            memo.clear()
        if converter is not None:
            converter.cache_clear()

    return clear


def _shaped_cold(
    clear: Callable[[], None], from_headers: Any, encode: Callable[..., bytes], value: Any
) -> bytes:
    clear()
    return encode(from_headers(_HEADERS).apply(SCHEMA, value), SCHEMA)


def rows() -> list[Row]:
    """$select cold, warm and per request; shaping with SO-TimeZone; sample and large."""
    select = import_optional("negotiate.select")
    compile_select = select.compile_select
    clear = _clear_select_caches(select)
    out: list[Row] = []
    floors = {"dict comprehension": by_comprehension, "dict display": by_display}
    for fixture in FIXTURES:
        value = fixture.value
        peers = {name: partial(fn, value) for name, fn in floors.items()}
        projector = compile_select(SCHEMA, SELECT)
        check = _projection_check(fixture)
        out += [
            Row(
                "select",
                f"$select cold (compile + apply) {fixture.name}",
                partial(_cold, clear, compile_select, value),
                peers,
                check,
            ),
            Row(
                "select",
                f"$select warm apply {fixture.name}",
                partial(projector.apply, value),
                peers,
                check,
                dict.fromkeys(floors, 0.5) if fixture is SAMPLE else {},
                "issue 5",
            ),
            Row(
                "select",
                f"$select per request (cached compile + apply) {fixture.name}",
                partial(_per_request, compile_select, value),
                peers,
                check,
            ),
        ]
    shaping = import_optional("negotiate.shaping")
    from_headers = shaping.Shaping.from_headers
    encode = JsonCodec().encode
    for fixture in FIXTURES:
        value = fixture.value
        out.append(
            Row(
                "select",
                f"SO-TimeZone US-NY + JSON encode {fixture.name}",
                partial(_shaped, from_headers, encode, value),
                {"encode, no shaping": partial(encode, value, SCHEMA)},
                _shaping_check(fixture),
                {"encode, no shaping": 0.5} if fixture is SAMPLE else {},
                "issue 14",
                note="ratio = throughput left with shaping (no peer library)",
            )
        )
    out.append(
        Row(
            "select",
            f"SO-TimeZone US-NY + JSON encode {SAMPLE.name}, caches emptied",
            partial(_shaped_cold, _shaping_caches(shaping), from_headers, encode, SAMPLE.value),
            {"encode, no shaping": partial(encode, SAMPLE.value, SCHEMA)},
            _shaping_check(SAMPLE),
            note="every header parse and conversion done again (no cache hit)",
        )
    )
    return out
