"""Applying a merge patch (RFC 7396): :func:`apply_merge_patch`.

RFC 7396's algorithm, written here (it is short), with the same typed
insertion as JSON Patch when there is a schema
(:func:`~negotiate.codecs.patch._values._typed`), the same work budget (its
document) and limits (an object a merge grows past ``max_items`` is a 422).

With a schema, merge keys bind to property names case-insensitively (exact
match first; two keys that bind to one property are a 400), a ``null``
resets a property to its default, and an object given for an array property
appends one element (SuperOffice); an array replaces the whole array.
"""

from __future__ import annotations

from typing import Any

from negotiate.codecs.patch._budget import _UNLIMITED, _Limit, _limit_error, _measure
from negotiate.codecs.patch._values import _CONTAINERS, _start, _typed
from negotiate.codecs.patch.pointer import _join
from negotiate.errors import MalformedBody, Unprocessable, escape_pointer, excerpt
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import describe

__all__ = ["apply_merge_patch"]


def apply_merge_patch(
    base: Any, patch: Any, schema: Schema | None = None, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Merge a decoded merge patch into a copy of ``base`` (RFC 7396).

    Args:
        base: the document to patch (not changed); ``None`` means
            ``schema.default()``, or JSON ``null`` without a schema.
        patch: the merge patch as decoded JSON (a tree that shares no
            containers); its values may end up in the result (not copied)
            and be normalised in place.
        schema: the carrier (with SuperOffice's leniencies), or ``None``
            for strict RFC 7396.
        options: unknown-property policy and limits.

    Returns:
        The merged document (normalised, with a schema).

    Raises:
        MalformedBody: two keys bind to the same property, or the patch is
            over the work budget or the limits (400), located in the patch.
        Unprocessable: the result violates the schema or the limits (422),
            located in it.
        EncodeError: ``base`` does not fit the schema (500).
    """
    _measure_merge(patch, options, options.max_items if schema is None else _UNLIMITED)
    if schema is None:
        if type(patch) is not dict:
            return patch
        return _merge_plain(_start(base, None, options), patch, options.max_items)
    if type(patch) is not dict:
        raise Unprocessable(
            f"Expected a {schema.name} object as the merge patch, got {describe(patch)}"
        )
    doc = _start(base, schema, options)
    _merge_carrier(doc, patch, schema, 0, options, ())
    return doc


def _measure_merge(patch: Any, options: Options, max_items: int) -> None:
    """Count a merge patch against the budget and hold it to the limits.

    Raises:
        MalformedBody: over the budget, too many items or too deep (400),
            located in the patch (at the top-level member where it happened).
    """
    try:
        # The patch is level 1: max_depth levels are allowed.
        _measure(patch, options.max_nodes, max_items, options.max_depth)
        return
    except _Limit as exc:
        if type(patch) is not dict:
            raise _limit_error(exc, patch, "", "", options, options.max_depth) from None
    if len(patch) > max_items:
        raise _limit_error(_Limit("items", len(patch)), patch, "", "", options, 0)
    left = options.max_nodes - 1
    for key, member in patch.items():
        left -= 1
        where = "/" + escape_pointer(key)
        try:
            left -= _measure(member, left, max_items, options.max_depth - 1)[0]
        except _Limit as exc:
            raise _limit_error(exc, member, where, "", options, options.max_depth - 1) from None
    raise AssertionError("a limit was met but not found again")  # pragma: no cover


def _merge_plain(target: Any, patch: dict[str, Any], max_items: int) -> Any:
    if type(target) is not dict:
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif type(value) is dict:
            try:
                target[key] = _merge_plain(target.get(key), value, max_items)
            except Unprocessable as exc:
                raise exc.at(key) from None
        else:
            target[key] = value
    if len(target) > max_items:
        # The patch is within the limit, but the object it merged into grew.
        raise Unprocessable(f"Too many items: {len(target)} (limit {max_items})")
    return target


def _merge_carrier(
    target: dict[str, Any],
    patch: dict[str, Any],
    schema: Schema,
    depth: int,
    options: Options,
    where: tuple[str | int, ...],
) -> None:
    bound: dict[str, str] = {}
    for key, value in patch.items():
        field = schema.field(key)
        if field is None:
            if options.unknown == "error":
                raise Unprocessable(
                    f"Unknown property {excerpt(key)} for {schema.name}",
                    location=_join((*where, key)),
                )
            continue
        name = field.name
        if name in bound:
            raise MalformedBody(
                f"Properties {excerpt(bound[name])} and {excerpt(key)} both bind to "
                f"{schema.name}.{name}",
                location=_join((*where, key)),
            )
        bound[name] = key
        ftype = field.type
        if value is None:
            target[name] = ftype.default()
            continue
        inner = depth + 1 if ftype.kind in _CONTAINERS else depth
        target[name] = _merge_value(target.get(name), value, ftype, inner, options, (*where, name))


def _merge_value(
    current: Any,
    value: Any,
    ftype: FieldType,
    depth: int,
    options: Options,
    where: tuple[str | int, ...],
) -> Any:
    kind = ftype.kind
    if type(value) is not dict or kind not in _CONTAINERS:
        return _typed(value, ftype, depth, options, where, "")
    if kind is Kind.CARRIER:
        if type(current) is dict:
            _merge_carrier(current, value, ftype.schema, depth, options, where)
            return current
        fresh: dict[str, Any] = {}
        _merge_carrier(fresh, value, ftype.schema, depth, options, where)
        return _typed(fresh, ftype, depth, options, where, "")
    item = ftype.item
    assert item is not None
    items: list[Any] | dict[str, Any]
    if kind is Kind.ARRAY:
        # SuperOffice: an object given for an array appends one element.
        elements: list[Any] = current if type(current) is list else []
        elements.append(_typed(value, item, depth, options, (*where, len(elements)), ""))
        items = elements
    else:
        members: dict[str, Any] = current if type(current) is dict else {}
        for key, element in value.items():
            if element is None:
                members.pop(key, None)
            else:
                members[key] = _merge_value(
                    members.get(key), element, item, depth, options, (*where, key)
                )
        items = members
    if len(items) > options.max_items:
        raise Unprocessable(
            f"Too many items: {len(items)} (limit {options.max_items})", location=_join(where)
        )
    return items
