"""Making a patch: the diff from ``base`` to ``value``, in either format.

Applying the diff to ``base`` gives exactly ``value`` (what the encoders
write for a response: the diff from what the client sent, normalised, to the
result).

* JSON Patch (:func:`make_json_patch`): ``add``, ``remove`` and ``replace``
  only; objects member by member; arrays trimmed of their common head and
  tail, then element by element, with the surplus added or removed at the end
  of the changed run.
* Merge patch (:func:`make_merge_patch`): members that differ; a member gone
  from the value is ``null``. RFC 7396 takes arrays literally and can neither
  reach into an array nor write a ``null`` (``null`` deletes), so a change
  inside an array replaces the whole array, the smallest enclosing value that
  can express it. With a schema a ``null`` property is written as ``null`` (it
  resets the property, whose default is ``null``). A ``null`` that no
  enclosing value can carry (an object member set to ``null`` outside any
  array without a schema, or a dictionary entry set to ``null``) cannot be
  written at all: that raises :class:`~negotiate.errors.EncodeError` naming
  the location, rather than send a diff that does not reproduce the value.
  Diffs use only RFC 7396 constructs (never the append-an-object leniency),
  so generic merge-patch clients can apply them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from negotiate.codecs.patch.pointer import _join
from negotiate.errors import EncodeError, NotRepresentable, escape_pointer
from negotiate.media import MEDIA_JSON, MEDIA_JSON_PATCH
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import describe

__all__ = ["make_json_patch", "make_merge_patch"]


def _same(a: Any, b: Any) -> bool:
    """Equality of JSON texts: ``true`` is not ``1``, ``1`` not ``1.0``, ``0.0`` not ``-0.0``."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return len(a) == len(b) and all(k in b and _same(v, b[k]) for k, v in a.items())
    if kind is list:
        return len(a) == len(b) and all(map(_same, a, b))
    if kind is float and a == 0.0:
        return b == 0.0 and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def _typed_equal(a: Any, b: Any) -> bool:
    # NOTE: in normalised carriers every field has one Python type (an int32 is
    # always int, a double always float), so == cannot confuse true with 1.
    return bool(a == b)


def make_json_patch(base: Any, value: Any, *, typed: bool = False) -> list[dict[str, Any]]:
    """The JSON Patch that turns ``base`` into ``value``.

    Args:
        base: the document the patch applies to.
        value: the document it must produce.
        typed: both are normalised carriers of one schema (equal subtrees are
            then skipped with one ``==``).

    Returns:
        ``add``, ``remove`` and ``replace`` operations; applying them to
        ``base`` gives a document equal to ``value``. Values are shared
        with ``value``, not copied.

    Raises:
        EncodeError: an object key is not a string.
    """
    ops: list[dict[str, Any]] = []
    _diff(base, value, "", ops, _typed_equal if typed else _same, typed)
    return ops


def _diff(
    a: Any,
    b: Any,
    path: str,
    ops: list[dict[str, Any]],
    same: Callable[[Any, Any], bool],
    typed: bool,
) -> None:
    if a is b:
        return
    kind = type(a)
    if kind is dict and type(b) is dict:
        if typed and a == b:
            return
        for key, old in a.items():
            if type(key) is not str:
                raise EncodeError(
                    f"Object keys must be strings, got {describe(key)}", location=path
                )
            # PERF: most keys need no escaping; testing costs less than the call.
            where = path + "/" + (escape_pointer(key) if "~" in key or "/" in key else key)
            if key in b:
                _diff(old, b[key], where, ops, same, typed)
            else:
                ops.append({"op": "remove", "path": where})
        for key, new in b.items():
            if key not in a:
                if type(key) is not str:
                    raise EncodeError(
                        f"Object keys must be strings, got {describe(key)}", location=path
                    )
                ops.append({"op": "add", "path": path + "/" + escape_pointer(key), "value": new})
        return
    if kind is list and type(b) is list:
        if typed and a == b:
            return
        _diff_list(a, b, path, ops, same, typed)
        return
    if kind is type(b) and kind is not dict and kind is not list and same(a, b):
        return
    ops.append({"op": "replace", "path": path, "value": b})


def _diff_list(
    a: list[Any],
    b: list[Any],
    path: str,
    ops: list[dict[str, Any]],
    same: Callable[[Any, Any], bool],
    typed: bool,
) -> None:
    start, end_a, end_b = 0, len(a), len(b)
    while start < end_a and start < end_b and same(a[start], b[start]):
        start += 1
    while end_a > start and end_b > start and same(a[end_a - 1], b[end_b - 1]):
        end_a -= 1
        end_b -= 1
    paired = min(end_a, end_b) - start
    for index in range(start, start + paired):
        _diff(a[index], b[index], f"{path}/{index}", ops, same, typed)
    for index in range(start + paired, end_b):
        ops.append({"op": "add", "path": f"{path}/{index}", "value": b[index]})
    if end_a > start + paired:
        where = f"{path}/{start + paired}"
        ops.extend({"op": "remove", "path": where} for _ in range(end_a - start - paired))


class _Unchanged:
    """Marks a merge-patch member that needs no entry."""


_UNCHANGED: Final = _Unchanged()


def make_merge_patch(base: Any, value: Any, schema: Schema | None = None) -> Any:
    """The merge patch (RFC 7396) that turns ``base`` into ``value``.

    Args:
        base: the document the patch applies to (with a schema, a normalised
            carrier; ``None`` means ``schema.default()``).
        value: the document it must produce (normalised, with a schema).
        schema: the carrier, or ``None`` for plain JSON.

    Returns:
        The merge patch (see the module docstring for what replaces what).

    Raises:
        EncodeError: the change needs a ``null`` that no merge patch can
            carry (located in ``value``), or ``value`` is not a carrier.
    """
    if schema is None:
        patch = _mdiff_plain(base, value, ())
        if patch is _UNCHANGED:
            return {} if type(value) is dict else value
        return patch
    if base is None:
        base = schema.default()
    if type(value) is not dict or type(base) is not dict:
        raise EncodeError(f"Expected {schema.name} objects to diff, got {describe(value)}")
    return _mdiff_carrier(base, value, schema, ())


def _no_null(where: tuple[str | int, ...]) -> NotRepresentable:
    pointer = _join(where)
    return NotRepresentable(
        f"A merge patch cannot set {pointer} to null (null deletes a member in RFC 7396); "
        "use application/json-patch+json",
        location=pointer,
        supported=[MEDIA_JSON_PATCH, MEDIA_JSON],
    )


def _mdiff_plain(a: Any, b: Any, where: tuple[str | int, ...]) -> Any:
    if type(b) is not dict:
        return _UNCHANGED if _same(a, b) else b
    if type(a) is not dict:
        return _plain_literal(b, where)
    patch: dict[str, Any] = {}
    for key in a:
        if key not in b:
            patch[key] = None
    for key, new in b.items():
        if key in a:
            old = a[key]
            if new is None:
                if old is None:
                    continue
                raise _no_null((*where, key))
            sub = _mdiff_plain(old, new, (*where, key))
            if sub is not _UNCHANGED:
                patch[key] = sub
        elif new is None:
            raise _no_null((*where, key))
        else:
            patch[key] = _plain_literal(new, (*where, key))
    return patch if patch else _UNCHANGED


def _plain_literal(value: Any, where: tuple[str | int, ...]) -> Any:
    """``value`` as a merge-patch member that recreates it (objects have no nulls)."""
    if type(value) is dict:
        for key, member in value.items():
            if member is None:
                raise _no_null((*where, key))
            _plain_literal(member, (*where, key))
    return value


def _mdiff_carrier(
    a: dict[str, Any], b: dict[str, Any], schema: Schema, where: tuple[str | int, ...]
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for field in schema.fields:
        name = field.name
        old, new = a.get(name), b.get(name)
        if old == new:  # typed values: see _typed_equal
            continue
        if new is None:
            patch[name] = None  # resets the property: null for reference types
            continue
        sub = _mdiff_typed(old, new, field.type, (*where, name))
        if sub is not _UNCHANGED:
            patch[name] = sub
    return patch


def _mdiff_typed(old: Any, new: Any, ftype: FieldType, where: tuple[str | int, ...]) -> Any:
    kind = ftype.kind
    if kind is Kind.CARRIER and type(new) is dict:
        if type(old) is dict:
            return _mdiff_carrier(old, new, ftype.schema, where) or _UNCHANGED
        return _carrier_literal(new, ftype.schema, where)
    if kind is Kind.DICT and type(new) is dict:
        item = ftype.item
        assert item is not None
        if type(old) is not dict:
            return _dict_literal(new, item, where)
        patch: dict[str, Any] = {}
        for key in old:
            if key not in new:
                patch[key] = None
        for key, element in new.items():
            previous = old.get(key, _UNCHANGED)
            if previous == element:
                continue
            if element is None:
                raise _no_null((*where, key))
            if previous is _UNCHANGED or previous is None:
                patch[key] = _item_literal(element, item, (*where, key))
            else:
                sub = _mdiff_typed(previous, element, item, (*where, key))
                if sub is not _UNCHANGED:
                    patch[key] = sub
        return patch or _UNCHANGED
    # Arrays and scalars are taken literally; a change inside an array
    # replaces the whole array.
    return new


def _carrier_literal(
    value: dict[str, Any], schema: Schema, where: tuple[str | int, ...]
) -> dict[str, Any]:
    """A carrier as merged into nothing: its null properties left out (they default)."""
    out: dict[str, Any] = {}
    for field in schema.fields:
        member = value.get(field.name)
        if member is not None:
            out[field.name] = _item_literal(member, field.type, (*where, field.name))
    return out


def _dict_literal(
    value: dict[str, Any], item: FieldType, where: tuple[str | int, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, element in value.items():
        if element is None:
            raise _no_null((*where, key))
        out[key] = _item_literal(element, item, (*where, key))
    return out


def _item_literal(value: Any, ftype: FieldType, where: tuple[str | int, ...]) -> Any:
    if ftype.kind is Kind.CARRIER and type(value) is dict:
        return _carrier_literal(value, ftype.schema, where)
    if ftype.kind is Kind.DICT and type(value) is dict:
        assert ftype.item is not None
        return _dict_literal(value, ftype.item, where)
    return value
