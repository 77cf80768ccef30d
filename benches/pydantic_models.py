"""pydantic v2 models of the same carriers, generated from ``negotiate.schema.SCHEMAS``.

The peer gets the fairest model we can give it without custom validators:

- the same fields, in the same order, with the .NET defaults (so
  ``model_dump()`` has the same shape as our normalised carrier);
- int32 as ``int`` with ``ge``/``le`` bounds; doubles as ``float``;
- date-times as ``str`` checked by the same ISO 8601 pattern (pydantic's
  ``datetime`` would drop the 7th fractional digit);
- plain enums as a ``Literal`` of their names; flag enums as plain ``str``;
- unknown properties ignored (``extra="ignore"``, pydantic's default).

What it does not do, and we do: bind property names case-insensitively
(pydantic matches the exact name), check that a date is on the calendar
(``2015-02-30``), validate flag combinations (``"Read, Write"``), normalise
enum case. It also coerces more than we accept in lax mode (``"5"`` for an
int32). Those differences are listed in the bench's caveats.
"""

from __future__ import annotations

from typing import Annotated, Any, ForwardRef, Literal

from pydantic import BaseModel, ConfigDict, Field as PydanticField, StringConstraints, create_model

from negotiate.schema import SCHEMAS, FieldType, Kind, Schema

__all__ = ["DATETIME_PATTERN", "build_models"]

DATETIME_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,7})?)?"
    r"(Z|[+-](0\d|1[0-4]):?[0-5]\d)?$"
)
"""The date-time grammar of ``negotiate.schema.values`` (its calendar check aside)."""

Int32 = Annotated[int, PydanticField(ge=-(2**31), le=2**31 - 1)]
DateTimeText = Annotated[str, StringConstraints(pattern=DATETIME_PATTERN)]

_CONFIG = ConfigDict(extra="ignore")


class _Builder:
    def __init__(self) -> None:
        self.models: dict[str, type[BaseModel]] = {}
        self.building: set[str] = set()
        self.forward: set[str] = set()

    def model(self, schema: Schema) -> type[BaseModel] | ForwardRef:
        found = self.models.get(schema.name)
        if found is not None:
            return found
        if schema.name in self.building:
            # A recursive carrier (SelectableMDOListItem.ChildItems): a forward
            # reference, resolved by model_rebuild once every model exists.
            self.forward.add(schema.name)
            return ForwardRef(schema.name)
        self.building.add(schema.name)
        fields: dict[str, Any] = {
            f.name: (self.annotation(f.type), f.type.default()) for f in schema.fields
        }
        model: type[BaseModel] = create_model(schema.name, __config__=_CONFIG, **fields)
        self.models[schema.name] = model
        self.building.discard(schema.name)
        return model

    def annotation(self, ftype: FieldType) -> Any:
        kind = ftype.kind
        if kind is Kind.INT32:
            return Int32
        if kind is Kind.DOUBLE:
            return float
        if kind is Kind.BOOL:
            return bool
        if kind is Kind.DATETIME:
            return DateTimeText
        if kind is Kind.ENUM:
            assert ftype.enum is not None
            if ftype.enum.flags:
                return str
            return Literal[tuple(ftype.enum.values)]
        if kind is Kind.STRING:
            return str | None
        if kind is Kind.CARRIER:
            return self.model(ftype.schema) | None
        assert ftype.item is not None
        item = self.annotation(ftype.item)
        if kind is Kind.ARRAY:
            return list[item] | None  # type: ignore[valid-type]
        return dict[str, item] | None  # type: ignore[valid-type]


def build_models() -> dict[str, type[BaseModel]]:
    """One pydantic model per carrier, keyed by carrier name."""
    builder = _Builder()
    for schema in SCHEMAS.values():
        builder.model(schema)
    namespace: dict[str, Any] = dict(builder.models)
    # NOTE: the recursive models first, then every model, so that those built
    # around a then-incomplete recursive one are completed too.
    for name in sorted(builder.forward):
        builder.models[name].model_rebuild(_types_namespace=namespace)
    for model in builder.models.values():
        model.model_rebuild(_types_namespace=namespace)
    return builder.models
