"""Applying a merge patch (RFC 7396): :func:`apply_merge_patch`.

RFC 7396's algorithm, written here (it is short), with the same typed
insertion as JSON Patch when there is a schema
(:func:`~negotiate.codecs.patch._values._typed`), the same work budget (its
document) and limits (an object a merge grows past ``max_items`` is a 422).

With a schema, merge keys bind to property names case-insensitively (exact
match first; two keys that bind to one property are a 400), a ``null``
resets a property to its default, and an object given for an array property
appends one element (SuperOffice); an array replaces the whole array.

The merge copies only the objects on the patched paths (copy-on-write), so a
:class:`~negotiate.codecs.patch.trusted.NormalizedBase` is used as it is:
shared by the result, never changed, and a merge that fails half-way leaves
nothing behind. Values are typed where they land (``_typed``), a string, bool
or int32 where one goes without a call (``_scalars``); a new nested carrier is
merged into its default, which is what normalising it would give.
"""

from __future__ import annotations

from typing import Any, Final

from negotiate.codecs.patch._budget import _UNLIMITED, _Limit, _limit_error, _measure
from negotiate.codecs.patch._scalars import ARRAY, CARRIER, DICT, STRING, _as_is
from negotiate.codecs.patch._values import _dropped, _nests, _typed
from negotiate.codecs.patch.pointer import _join
from negotiate.codecs.patch.trusted import NormalizedBase, _begin
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
    return _merge(base, patch, schema, options)


def _merge(base: Any, patch: Any, schema: Schema | None, options: Options) -> Any:
    """:func:`apply_merge_patch` once the patch is within the budget and the limits."""
    if schema is None:
        if type(patch) is not dict:
            return patch
        return _merge_plain(_begin(base, None, options, shared=False)[0], patch, options.max_items)
    if type(patch) is not dict:
        raise Unprocessable(
            f"Expected a {schema.name} object as the merge patch, got {describe(patch)}"
        )
    if type(base) is NormalizedBase and type(base.value) is dict:
        doc = base.value  # PERF: the common case of _begin, inline
    else:
        doc = _begin(base, schema, options, shared=True)[0]
    return _merge_carrier(doc, patch, schema, 0, options, ())


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
) -> dict[str, Any]:
    """``target`` merged with ``patch``: a new dict (``target`` is not changed)."""
    # NOTE: copy-on-write: only the containers on the patched paths are copied,
    # so a trusted base (NormalizedBase) is shared, never changed, and a patch
    # that fails half-way leaves nothing behind.
    result = dict(target)
    # Keys that bound to a property by another spelling (two keys binding to one
    # property are a 400); PERF: exact names alone cannot collide, so they are
    # not recorded.
    folded: dict[str, str] = {}
    unknown = 0
    # PERF: the exact name first, without a method call; the defaults as the
    # schema keeps them (immutable scalars or None), without FieldType.default's
    # walk through the kinds.
    exact, defaults = schema._exact, schema._default
    for key, value in patch.items():
        field = exact.get(key)
        if field is not None:
            name = field.name
            if folded and name in folded:
                raise _both(schema, name, folded[name], key, where)
        else:
            field = schema.field(key)
            if field is None:
                unknown += 1
                _unknown(value, key, unknown, schema, options, where)
                continue
            name = field.name
            if name in folded:
                raise _both(schema, name, folded[name], key, where)
            for earlier in patch:
                if earlier == key:
                    break
                if earlier == name:
                    raise _both(schema, name, earlier, key, where)
            folded[name] = key
        ftype = field.type
        kind = ftype.kind
        if value is None:
            result[name] = defaults[name]
        elif kind is STRING and type(value) is str:
            result[name] = value  # PERF: the common case, inline
        elif kind is CARRIER or kind is ARRAY or kind is DICT:
            if type(value) is dict:
                result[name] = _merge_object(
                    result.get(name), value, ftype, kind, depth + 1, options, (*where, name)
                )
            else:
                result[name] = _typed(value, ftype, depth + 1, options, (*where, name), "")
        elif _as_is(kind, value):
            result[name] = value
        else:
            result[name] = _typed(value, ftype, depth, options, (*where, name), "")
    return result


def _both(
    schema: Schema, name: str, first: str, second: str, where: tuple[str | int, ...]
) -> MalformedBody:
    return MalformedBody(
        f"Properties {excerpt(first)} and {excerpt(second)} both bind to {schema.name}.{name}",
        location=_join((*where, second)),
    )


def _unknown(
    value: Any,
    key: str,
    count: int,
    schema: Schema,
    options: Options,
    where: tuple[str | int, ...],
) -> None:
    """A member the carrier does not declare (the ``count``-th): a 422, or dropped."""
    if options.unknown == "error":
        raise Unprocessable(
            f"Unknown property {excerpt(key)} for {schema.name}", location=_join((*where, key))
        )
    # NOTE: dropped, but held to the limits first, as the normaliser holds
    # what it drops: at most max_items of them, each within the limits.
    if count > options.max_items:
        raise Unprocessable(
            f"Too many unknown properties for {schema.name} (limit {options.max_items})",
            location=_join((*where, key)),
            limit=options.max_items,
        )
    _dropped(value, options, (*where, key), "")


# Whether a carrier type can hold a carrier that holds itself, by FieldType object.
_NESTING: dict[FieldType, bool] = {}
_NESTING_LIMIT: Final = 4096


def _nesting(ftype: FieldType) -> bool:
    """``_values._nests``, memoised by the type object (identity: a dict lookup)."""
    found = _NESTING.get(ftype)
    if found is None:
        if len(_NESTING) >= _NESTING_LIMIT:
            _NESTING.clear()
        found = _NESTING[ftype] = _nests(ftype)
    return found


def _merge_value(
    current: Any,
    value: Any,
    ftype: FieldType,
    depth: int,
    options: Options,
    where: tuple[str | int, ...],
) -> Any:
    """``value`` merged into ``current`` (which is not changed) as a value of ``ftype``."""
    kind = ftype.kind
    if type(value) is not dict or not (kind is CARRIER or kind is ARRAY or kind is DICT):
        if _as_is(kind, value):
            return value
        return _typed(value, ftype, depth, options, where, "")
    return _merge_object(current, value, ftype, kind, depth, options, where)


def _merge_object(
    current: Any,
    value: dict[str, Any],
    ftype: FieldType,
    kind: Kind,
    depth: int,
    options: Options,
    where: tuple[str | int, ...],
) -> Any:
    """An object ``value`` merged into ``current`` (not changed) of container type ``ftype``."""
    if kind is CARRIER:
        schema = ftype.target or ftype.schema  # PERF: the attribute, when it is set
        if type(current) is dict:
            return _merge_carrier(current, value, schema, depth, options, where)
        nesting = _NESTING.get(ftype)  # PERF: _nesting's lookup, inline
        if nesting is None:
            nesting = _nesting(ftype)
        if not nesting:
            # PERF: merged into the carrier's default, every value typed on the way
            # in, it is what normalising the object would give (names bound, every
            # property, declaration order) without a second pass over it.
            return _merge_carrier(schema._default, value, schema, depth, options, where)
        # NOTE: only the normaliser counts a carrier that can hold itself against
        # max_depth: a new one is normalised whole.
        fresh = _merge_carrier({}, value, schema, depth, options, where)
        return _typed(fresh, ftype, depth, options, where, "")
    item = ftype.item
    assert item is not None
    # NOTE: the size is checked before the items, as the normaliser checks it, so
    # that a patch with both faults gets the answer full validation would give.
    if kind is ARRAY:
        # SuperOffice: an object given for an array appends one element.
        elements: list[Any] = list(current) if type(current) is list else []
        _check_size(len(elements) + 1, options, where)
        elements.append(_typed(value, item, depth, options, (*where, len(elements)), ""))
        return elements
    members: dict[str, Any] = dict(current) if type(current) is dict else {}
    if len(members) + len(value) > options.max_items:
        kept = {key for key, element in value.items() if element is not None}
        gone = value.keys() - kept
        _check_size(len((members.keys() - gone) | kept), options, where)
    scalar = item.kind
    strings = scalar is STRING
    for key, element in value.items():
        if element is None:
            members.pop(key, None)
        elif (strings and type(element) is str) or _as_is(scalar, element):
            members[key] = element
        else:
            members[key] = _merge_value(
                members.get(key), element, item, depth, options, (*where, key)
            )
    return members


def _check_size(size: int, options: Options, where: tuple[str | int, ...]) -> None:
    if size > options.max_items:
        raise Unprocessable(
            f"Too many items: {size} (limit {options.max_items})", location=_join(where)
        )
