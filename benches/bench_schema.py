"""Open schema: a carrier of your own against the built-in one, decimals against floats.

Row 1 (issue 11): a user-declared carrier graph with ContactEntity's exact shape,
built at run time from the catalogue's own declarations (every carrier of
:mod:`negotiate.schema.carriers` re-declared as a ``TypedDict`` of a module of its
own, the same annotations), decodes and encodes the sample JSON against the
built-in ``ContactEntity``: the same codec, the same body; only the schema differs.
The goal is within 5% (ratio >= 0.95).

Row 2: a carrier with ``Decimal`` fields (an order of 20 lines, four decimals a line),
its JSON decode (orjson, then the stdlib parser that keeps every number's digits,
then the normaliser) next to the same carrier declared with ``float`` (orjson and
the normaliser); and the same in XML, where both parse text anyway.

Checks: both sides decode to the same value (the user's equal to the built-in's; the
decimal order's numbers equal to the float order's, converted), and encodings read
back to it.
"""

from __future__ import annotations

import sys
import types
from decimal import Decimal
from functools import partial
from typing import Any, TypedDict

from benches.data import SAMPLE, SCHEMA
from benches.harness import OURS, Row
from negotiate import JsonCodec, XmlCodec, schema_of
from negotiate.schema import Schema, carriers as catalogue

__all__ = ["CAVEATS", "rows", "user_contact"]

CAVEATS = [
    "Schema: the user-declared ContactEntity is the catalogue's graph re-declared at run "
    "time as TypedDicts of another module (same annotations, its own DataContract "
    "namespace), compiled by schema_of into its own generated normaliser; the peer is the "
    "built-in catalogue's. Same codec, same body.",
    "Schema: a schema with decimals is parsed twice (orjson validates, the stdlib parser "
    "keeps every number's digits as Decimal; see README 'Decimals and JSON'); the peer is "
    "the same carrier with float fields, parsed once by orjson.",
]

_CLONES = "benches._user_carriers"


def user_contact() -> Schema:
    """The catalogue's carriers re-declared in a module of their own: ``ContactEntity``'s."""
    module = sys.modules.get(_CLONES)
    if module is None:
        module = types.ModuleType(_CLONES)
        # NOTE: the annotations are strings (the catalogue's own, under `from __future__
        # import annotations`), resolved in this module: the clones, and the catalogue's
        # enums, DateTime and typing names.
        module.__dict__.update({k: v for k, v in vars(catalogue).items() if not k.startswith("__")})
        for cls in catalogue.CARRIERS:
            clone: Any = TypedDict(cls.__name__, dict(cls.__annotations__))  # type: ignore[operator]
            clone.__module__ = _CLONES
            module.__dict__[cls.__name__] = clone
        sys.modules[_CLONES] = module
    return schema_of(module.__dict__["ContactEntity"])


class DecimalLine(TypedDict):
    Sku: str | None
    Quantity: Decimal
    Price: Decimal
    Discount: Decimal
    Total: Decimal


class DecimalOrder(TypedDict):
    OrderId: int
    Currency: str | None
    Lines: list[DecimalLine] | None
    Sum: Decimal


class FloatLine(TypedDict):
    Sku: str | None
    Quantity: float
    Price: float
    Discount: float
    Total: float


class FloatOrder(TypedDict):
    OrderId: int
    Currency: str | None
    Lines: list[FloatLine] | None
    Sum: float


def _order_body() -> bytes:
    lines = ",".join(
        f'{{"Sku": "SKU-{n:04d}", "Quantity": {n % 7 + 1}.000, "Price": {n * 13 % 997}.95, '
        f'"Discount": 0.{n % 10}5, "Total": {(n % 7 + 1) * (n * 13 % 997)}.65}}'
        for n in range(20)
    )
    return f'{{"OrderId": 42, "Currency": "NOK", "Lines": [{lines}], "Sum": 123456.78}}'.encode()


def _as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    return float(value) if type(value) is Decimal else value


def _equal_to(expected: Any, convert: Any = None) -> Any:
    def check(name: str, result: Any) -> str | None:
        got = convert(result) if convert is not None and name == OURS else result
        if got != expected:
            return f"{name} decoded to a different value"
        return None

    return check


def _reads_back(codec: Any, pairs: dict[str, tuple[Schema, Any]]) -> Any:
    def check(name: str, result: Any) -> str | None:
        schema, value = pairs[name]
        if codec.decode(result, schema) != value:
            return f"{name}'s output does not read back to the value"
        return None

    return check


def rows() -> list[Row]:
    """The schema rows: user vs built-in ContactEntity; decimals vs floats."""
    json, xml = JsonCodec(), XmlCodec()
    user = user_contact()
    body, value = SAMPLE.body, SAMPLE.value
    user_value = json.decode(body, user)
    peer = "built-in ContactEntity"
    out = [
        Row(
            group="schema",
            case="decode sample, user-declared ContactEntity",
            ours=partial(json.decode, body, user),
            peers={peer: partial(json.decode, body, SCHEMA)},
            check=_equal_to(value),
            targets={peer: 0.95},
            source="issue 11",
        ),
        Row(
            group="schema",
            case="encode sample, user-declared ContactEntity",
            ours=partial(json.encode, user_value, user),
            peers={peer: partial(json.encode, value, SCHEMA)},
            check=_reads_back(json, {OURS: (user, user_value), peer: (SCHEMA, value)}),
            targets={peer: 0.95},
            source="issue 11",
        ),
    ]
    decimals, floats = schema_of(DecimalOrder), schema_of(FloatOrder)
    order = _order_body()
    float_value = json.decode(order, floats)
    floats_peer = "same carrier with float"
    out.append(
        Row(
            group="schema",
            case=f"JSON decode, 20 lines of decimals ({len(order):,} B)",
            ours=partial(json.decode, order, decimals),
            peers={floats_peer: partial(json.decode, order, floats)},
            check=_equal_to(float_value, _as_floats),
            note="decimals: orjson + stdlib json (exact digits) + normaliser",
        )
    )
    decimal_value = json.decode(order, decimals)
    xml_order = xml.encode(decimal_value, decimals)
    xml_floats = xml.encode(float_value, floats)
    out.append(
        Row(
            group="schema",
            case=f"XML decode, 20 lines of decimals ({len(xml_order):,} B)",
            ours=partial(xml.decode, xml_order, decimals),
            peers={floats_peer: partial(xml.decode, xml_floats, floats)},
            check=_equal_to(float_value, _as_floats),
        )
    )
    return out
