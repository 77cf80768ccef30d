"""Reading a form body: percent-decoding, the field budget, the tree of values.

A body is checked against the node budget before any field is read
(:func:`_check_fields`); then each field's key is bound to the schema (memoised, see
:mod:`~negotiate.codecs.form.keys`) and its value stored in a tree of carriers,
arrays and dictionaries (:class:`_Builder`), which becomes the carrier at the end.
"""

from __future__ import annotations

import re
from typing import Any, Final

from negotiate.codecs.base import clip, too_many_nodes
from negotiate.codecs.form.keys import (
    _APPEND,
    _CONTAINERS,
    _FIELD,
    _INDEX,
    _KEY,
    _NAME_KEY,
    _PAIR_KEY,
    _PAIR_VALUE,
    _SKIPPED,
    _compile,
    _Path,
    form_key,
)
from negotiate.codecs.form.values import _scalar, _type_name
from negotiate.errors import InvalidValue, MalformedBody, NegotiateError, excerpt
from negotiate.options import Options
from negotiate.schema import FieldType, Kind, Schema

__all__ = []

_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_MEMO_LIMIT = 4096


def _read(
    body: bytes, schema: Schema, options: Options, charset: str, memo: dict[bytes, _Path]
) -> Any:
    """The carrier a form body holds, normalised by ``schema``.

    Args:
        body: the form body (its field count already checked).
        schema: the carrier's schema.
        options: the limits and the unknown-property policy.
        charset: the Python codec the body is in.
        memo: compiled paths by raw key, for this schema and charset (filled here).

    Raises:
        NegotiateError: a bad key or value, located by its form key.
    """
    builder = _Builder(schema, options)
    ignore = options.unknown == "ignore"
    for part in body.split(b"&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition(b"=")
        path = memo.get(raw_key)
        if path is None:
            if (
                ignore
                and _NAME_KEY.fullmatch(raw_key) is not None
                and schema.field(raw_key.decode("ascii")) is None
            ):
                # PERF: a plain unknown name needs no parsing (a body of many
                # distinct ones would otherwise cost a compiled key each).
                path = _SKIPPED
            else:
                try:
                    key = _unquote(raw_key, charset, None)
                except MalformedBody as exc:
                    path = _Path(raw_key.decode("latin-1"), error=exc)
                else:
                    path = _compile(schema, options, key)
            if path.error is not None:
                # NOTE: never memoised: one exception object raised by every request
                # that sends the key would grow its traceback (pinning each request's
                # frames and body) and be raised from several threads at once.
                raise path.error
            if len(raw_key) <= 256:
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                memo[raw_key] = path
        if path.skip:
            continue
        if b"%" in raw_value or b"+" in raw_value:
            text = _unquote(raw_value, charset, path.key)
        else:
            try:
                text = raw_value.decode(charset)
            except UnicodeDecodeError:
                text = _unquote(raw_value, charset, path.key)  # raises, naming the key
        builder.apply(path, text)
    value = builder.finish()
    try:
        return schema.normalizer(value, 0, options)
    except NegotiateError as exc:
        exc.location = form_key(schema, exc.location)
        raise


def _pairs(body: bytes, charset: str) -> list[tuple[str, str]]:
    """The body's ``(key, value)`` pairs, percent-decoded, in order (:meth:`FormCodec.pairs`)."""
    out: list[tuple[str, str]] = []
    for part in body.split(b"&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition(b"=")
        key = _unquote(raw_key, charset, None)
        out.append((key, _unquote(raw_value, charset, key)))
    return out


def _plain(pairs: list[tuple[str, str]], limit: int) -> dict[str, Any]:
    """Without a schema: ``{key: value}``, a repeated key's values as a list."""
    out: dict[str, Any] = {}
    for key, text in pairs:
        existing = out.get(key)
        if existing is None:
            if len(out) >= limit:
                raise InvalidValue(f"Too many keys (limit {limit})", location=key, limit=limit)
            out[key] = text
        elif isinstance(existing, list):
            if len(existing) >= limit:
                raise InvalidValue(f"Too many values (limit {limit})", location=key, limit=limit)
            existing.append(text)
        else:
            out[key] = [existing, text]
    return out


def _percent_decoded(raw: bytes) -> bytes:
    """``raw`` with its percent escapes undone; each ``%`` must start a valid one.

    What :func:`urllib.parse.unquote_to_bytes` gives, in C: backslashes doubled,
    each ``%`` made ``\\x``, then the ``unicode_escape`` codec (which reads every
    other byte as Latin-1, so ``encode("latin-1")`` gives the bytes back).

    PERF: the stdlib splits on ``%`` and joins the pieces in Python: a 16 MiB value
    of escapes took 2.9 s and 1.3 GB (held under the GIL in its joins); this takes
    0.09 s and 4x the value's size. NOTE: the caller has checked the escapes
    (``_BAD_PERCENT``): the codec would misread a ``%`` without two hex digits.
    """
    return (
        raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x").decode("unicode_escape").encode("latin-1")
    )


def _unquote(raw: bytes, charset: str, key: str | None) -> str:
    """Percent-decode one key or value; errors name the key (or the raw key itself)."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        bad = _BAD_PERCENT.search(raw)
        if bad is not None:
            snippet = raw[bad.start() : bad.start() + 3].decode("latin-1")
            name = key if key is not None else raw.decode("latin-1")
            part = "key" if key is None else "value"
            raise MalformedBody(
                f"Malformed percent escape {snippet!r} in the {part}", location=name
            )
        raw = _percent_decoded(raw)
    try:
        return raw.decode(charset)
    except UnicodeDecodeError as exc:
        name = key if key is not None else raw.decode("latin-1")
        part = "key" if key is None else "value"
        raise MalformedBody(
            f"The {part} is not valid {charset}: {exc.reason} at byte {exc.start}", location=name
        ) from None


# -- the tree a body is read into -----------------------------------------------------------

_NULL: Final = object()  # "Persons[1]=": a null item, unless the item's keys follow


class _Array:
    """An array being read; one of its three styles is in use."""

    __slots__ = ("bare", "indexed", "appended", "marked", "where")

    def __init__(self, where: str) -> None:
        self.bare: list[Any] | None = None
        self.indexed: dict[int, Any] | None = None
        self.appended: list[Any] | None = None
        self.marked = False
        self.where = where


class _Dict:
    """A dictionary being read: ``[key]`` entries and ``[i].Key``/``[i].Value`` pairs."""

    __slots__ = ("entries", "pairs", "where")

    def __init__(self, where: str) -> None:
        self.entries: dict[str, Any] = {}
        self.pairs: dict[str, dict[str, Any]] = {}
        self.where = where


class _Builder:
    """Applies compiled paths to a tree of dicts (carriers), ``_Array`` and ``_Dict``."""

    def __init__(self, schema: Schema, options: Options) -> None:
        self.limit = options.max_items
        self.root: dict[str, Any] = {}
        # NOTE: the schema of every carrier node, by id (nodes live as long as the builder)
        self.schemas: dict[int, Schema] = {id(self.root): schema}
        # The last parent node walked to, and its path's prefix (see apply)
        self.prefix: tuple[tuple[int, Any], ...] = ()
        self.node: Any = self.root

    def apply(self, path: _Path, text: str) -> None:
        """Store one value.

        Raises:
            InvalidValue: the value does not fit, or clashes with another key.
        """
        key = path.key
        parents = path.parents
        if not parents:
            node: Any = self.root
        elif path.prefix == self.prefix:
            # PERF: keys come grouped by the carrier they fill (``Persons[3].Firstname``,
            # ``Persons[3].Lastname``, ...): the previous key's parent node is this one's.
            # Walking again would find the same node and pass the same checks: a
            # container, once made, is never replaced, and once an array is indexed
            # nothing can give it another style (tests/test_form_fast.py).
            node = self.node
        else:
            node = self.walk(path, key)
            self.prefix = path.prefix
            self.node = node
        op, slot, ftype, where = path.last
        if op == _FIELD:
            # PERF: the common cases inline: a property given once.
            if slot not in node:
                parse = path.parse
                if parse is not None:
                    if text != "":
                        try:
                            node[slot] = parse(text)
                        except ValueError as exc:
                            raise InvalidValue(str(exc), location=key) from None
                    return
                if ftype.kind is Kind.STRING:
                    node[slot] = text
                    return
            self.leaf(node, slot, ftype, text, key, False)
        elif op == _APPEND:
            self.append(node, ftype, text, key)
        elif op == _PAIR_KEY:
            holder = self.holder(node, op, slot, key)
            if "key" in holder:
                raise InvalidValue("Key is given more than once", location=key)
            holder["key"] = (text, key)
        else:
            holder = self.holder(node, op, slot, key)
            self.leaf(holder, "value" if op == _PAIR_VALUE else slot, ftype, text, key, True)

    def walk(self, path: _Path, key: str) -> Any:
        """The node the parent steps of ``path`` lead to, made where missing.

        Raises:
            InvalidValue: a step passes through a value, or mixes array styles.
        """
        node: Any = self.root
        for op, slot, ftype, where, schema in path.parents:
            holder = node if op == _FIELD else self.holder(node, op, slot, key)
            if op == _PAIR_VALUE:
                slot = "value"
            node = holder.get(slot)
            if node is None or node is _NULL:
                if schema is not None:
                    node = {}
                    self.schemas[id(node)] = schema
                elif ftype.kind is Kind.ARRAY:
                    node = _Array(where)
                else:
                    node = _Dict(where)
                holder[slot] = node
            elif type(node) is not dict and type(node) is not _Array and type(node) is not _Dict:
                raise InvalidValue(
                    f"{clip(where)} is given both as a value and with parts", location=key
                )
        return node

    def holder(self, node: Any, op: int, slot: Any, key: str) -> dict[Any, Any]:
        """The dict an index, key or pair step stores into."""
        if op == _INDEX:
            holder: dict[Any, Any] | None = node.indexed
            if holder is None:
                if node.bare is not None or node.appended is not None:
                    raise InvalidValue(
                        f"{clip(node.where)} mixes indexed keys with repeated or '[]' keys",
                        location=key,
                    )
                holder = node.indexed = {}
            return holder
        if op == _KEY:
            holder = node.entries
            if slot not in holder:
                self.room(node, key)
            return holder
        holder = node.pairs.get(slot)
        if holder is None:
            self.room(node, key)
            holder = node.pairs[slot] = {}
        return holder

    def room(self, mapping: _Dict, key: str) -> None:
        if len(mapping.entries) + len(mapping.pairs) >= self.limit:
            raise InvalidValue(
                f"Too many entries in {clip(mapping.where)} (limit {self.limit})", location=key
            )

    def append(self, array: _Array, item: FieldType, text: str, key: str) -> None:
        if array.bare is not None or array.indexed is not None:
            raise InvalidValue(
                f"{clip(array.where)} mixes '[]' keys with indexed or repeated keys", location=key
            )
        if array.appended is None:
            array.appended = []
        if len(array.appended) >= self.limit:
            raise InvalidValue(f"Too many items (limit {self.limit})", location=key)
        array.appended.append(_scalar(item, text, key, item=True))

    def leaf(
        self, holder: dict[Any, Any], slot: Any, ftype: FieldType, text: str, key: str, item: bool
    ) -> None:
        """Store the value of a key that ends at ``holder[slot]`` (the general case)."""
        kind = ftype.kind
        existing = holder.get(slot)
        if kind is Kind.STRING or kind is Kind.BYTES:
            if existing is not None:
                raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            # NOTE: bytes are a reference type like a string: an empty value is b""
            holder[slot] = text if kind is Kind.STRING else _scalar(ftype, text, key)
        elif kind is Kind.ARRAY:
            assert ftype.item is not None
            if existing is None or existing is _NULL:
                existing = holder[slot] = _Array(key)
            elif type(existing) is not _Array:
                raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            if text == "":
                existing.marked = True  # present; a repeated key left empty adds nothing
                return
            if ftype.item.kind in _CONTAINERS:
                raise InvalidValue(
                    f"Expected {_type_name(ftype.item)} items as indexed keys, got a value",
                    location=key,
                )
            if existing.indexed is not None or existing.appended is not None:
                raise InvalidValue(
                    f"{clip(existing.where)} mixes repeated keys with indexed or '[]' keys",
                    location=key,
                )
            if existing.bare is None:
                existing.bare = []
            if len(existing.bare) >= self.limit:
                raise InvalidValue(f"Too many items (limit {self.limit})", location=key)
            existing.bare.append(_scalar(ftype.item, text, key, item=True))
        elif kind is Kind.CARRIER or kind is Kind.DICT:
            if text != "":
                what = "properties" if kind is Kind.CARRIER else "[key] entries"
                raise InvalidValue(
                    f"Expected {_type_name(ftype)} as {what}, got the value {excerpt(text, 40)}",
                    location=key,
                )
            if kind is Kind.DICT:
                if existing is None or existing is _NULL:
                    holder[slot] = _Dict(key)
                elif type(existing) is not _Dict:
                    raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            elif item and existing is None:
                holder[slot] = _NULL
        elif text == "":
            if item:
                raise InvalidValue(
                    f"Expected {_type_name(ftype).lower()}, got an empty value", location=key
                )
        elif existing is not None:
            if kind is not Kind.BOOL or item:
                raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            # NOTE: a repeated bool keeps its first value (MVC's CheckBox posts "true&false")
        else:
            holder[slot] = _scalar(ftype, text, key)

    # -- the tree to plain data

    def finish(self) -> dict[str, Any]:
        return self.carrier(self.root)

    def carrier(self, node: dict[str, Any]) -> dict[str, Any]:
        """The carrier with every field, in declaration order.

        PERF: the normaliser's fast path then has nothing to rebind.
        """
        for name, child in node.items():
            kind = type(child)
            if kind is dict:
                node[name] = self.carrier(child)
            elif kind is _Array:
                node[name] = self.array(child)
            elif kind is _Dict:
                node[name] = self.mapping(child)
        out = self.schemas[id(node)].default()
        out.update(node)
        return out

    def value(self, node: Any) -> Any:
        kind = type(node)
        if kind is dict:
            return self.carrier(node)
        if kind is _Array:
            return self.array(node)
        if kind is _Dict:
            return self.mapping(node)
        if node is _NULL:
            return None
        return node

    def array(self, node: _Array) -> list[Any]:
        if node.bare is not None:
            return node.bare
        if node.appended is not None:
            return node.appended
        items = node.indexed
        if not items:
            return []
        size = len(items)
        if max(items) != size - 1:
            missing = next(i for i in range(size) if i not in items)
            raise InvalidValue(
                f"Array indices must run from 0 without gaps; [{missing}] is missing",
                location=f"{node.where}[{missing}]",
            )
        value = self.value
        return [value(items[i]) for i in range(size)]

    def mapping(self, node: _Dict) -> dict[str, Any]:
        value = self.value
        out = {k: value(v) for k, v in node.entries.items()}
        for label, pair in node.pairs.items():
            given = pair.get("key")
            if given is None:
                where = f"{node.where}[{label}].Key"
                raise InvalidValue("A dictionary pair needs its .Key", location=where)
            text, key = given
            if text in out:
                raise InvalidValue(f"Key {excerpt(text)} is given more than once", location=key)
            out[text] = value(pair.get("value"))
        return out


# -- the node budget ------------------------------------------------------------------------

# A form's nodes are its fields (key=value pairs; the empty parts of "a=1&&b=2" are none).
_NODES = "form fields"
_CHUNK = 1 << 16


def _check_fields(body: bytes, limit: int, charset: str) -> None:
    """Refuse a body of more than ``limit`` fields before reading any of them.

    PERF: a body under twice ``limit`` bytes cannot hold that many (each field takes
    a byte and a separator); else the ``&`` count is an upper bound, in C; only a body
    over it is counted exactly, chunk by chunk, runs of ``&`` collapsed in C.

    Raises:
        MalformedBody: over the limit, located by the key of the first field past it.
    """
    if len(body) < 2 * limit or body.count(b"&") < limit:
        return
    count, start, size = 0, 0, len(body)
    while start < size:
        found = body.find(b"&", min(start + _CHUNK, size))
        end = size if found < 0 else found + 1
        chunk = body[start:end]
        fields = _fields_in(chunk)
        if count + fields > limit:
            for part in chunk.split(b"&"):
                if part:
                    count += 1
                    if count > limit:
                        raise too_many_nodes(limit, _NODES, _key_of(part, charset))
        count += fields
        start = end


def _fields_in(chunk: bytes) -> int:
    """How many non-empty ``&``-separated parts ``chunk`` has."""
    while b"&&" in chunk:
        chunk = chunk.replace(b"&&&&", b"&").replace(b"&&", b"&")
    return chunk.count(b"&") + 1 - chunk.startswith(b"&") - chunk.endswith(b"&")


def _key_of(part: bytes, charset: str) -> str:
    raw = part.partition(b"=")[0]
    try:
        return _unquote(raw, charset, None)
    except MalformedBody:
        return raw.decode("latin-1")
