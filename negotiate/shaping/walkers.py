"""The walkers that shape carriers, generated per carrier and mode on :mod:`negotiate._codegen`.

Part of :mod:`negotiate.shaping` (see its docstring).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from negotiate._codegen import Source
from negotiate.schema import SCHEMAS, FieldType, Kind, Schema
from negotiate.schema.values import DATETIME_DEFAULT

__all__ = []


# -- walking carriers by schema ------------------------------------------------
#
# One walker per (carrier, what is converted), generated as Python source per
# mode (time zone, language, both; CreatedDate/UpdatedDate visited only when they
# are tagged, with includeTZOffset) and graph of carriers the first time a carrier
# of the graph is shaped in the mode, as the schema's normalisers are: the
# built-in catalogue is one graph, a user's carrier is the carriers it reaches
# that have no walker yet (those that have are called). Walkers are keyed by the
# Schema object, never by carrier name: two carriers may share a name.
# A walker visits only the fields that can hold something to convert (the
# schema says which), tests each leaf inline and calls the leaf function only
# when there may be work (a date-time that is not the default; a string with
# ``:"`` or ``[SR_``), and copies a container only when a child changed. A
# carrier with nothing relevant is not entered.
# PERF: straight-line code per carrier; no per-field dispatch or calls.

_Ops = tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any]]
_Walk = Callable[[Any, _Ops], Any]
_Mode = tuple[bool, bool, bool]
"""(converts date-times, translates texts, tags CreatedDate/UpdatedDate as UTC)."""
_TIMES, _CREATED, _TEXTS = 0, 1, 2
_OP_NAMES: Final = ("times", "created", "texts")  # the ops as the generated code names them
_UTC_FIELDS = frozenset({"CreatedDate", "UpdatedDate"})
# Per mode: schema -> its walker, or None when it holds nothing the mode converts.
# NOTE: a plain dict (keyed by identity), as it is read once per shaped response;
# it holds a schema for good, as the compiled schema cache does not.
_WALKERS: dict[_Mode, dict[Schema, _Walk | None]] = {}
_SOURCES: dict[_Mode, Source] = {}
"""The built-in catalogue's walkers of each mode, for reading
(``print(_SOURCES[mode].source)``)."""
_COMPILE_LOCK = threading.Lock()


def _walkers_of(mode: _Mode) -> dict[Schema, _Walk | None]:
    """The walkers of one mode compiled so far (the dict grows; read it, never write it)."""
    return _WALKERS.setdefault(mode, {})


def _walker(schema: Schema, mode: _Mode) -> _Walk | None:
    walkers = _WALKERS.get(mode)
    if walkers is not None:
        try:
            return walkers[schema]
        except KeyError:
            pass
    with _COMPILE_LOCK:
        walkers = _walkers_of(mode)
        if schema not in walkers:
            # NOTE: the catalogue first, as one graph (one text), when the schema reaches it.
            graph = _graph([schema])
            if any(s._catalogue and s not in walkers for s in graph):
                catalogue = [SCHEMAS[name] for name in SCHEMAS]
                generator = _Generator(mode, catalogue, walkers)
                walkers.update(generator.compile())
                _SOURCES[mode] = generator.source
            if schema not in walkers:
                generator = _Generator(mode, [schema], walkers)
                walkers.update(generator.compile())
        return walkers[schema]


def _graph(roots: list[Schema]) -> list[Schema]:
    """The roots and every carrier they reach, each once, in the order met."""
    seen = set(roots)
    order = list(roots)
    for schema in order:
        for field in schema.fields:
            ftype: FieldType | None = field.type
            while ftype is not None:
                if ftype.kind is Kind.CARRIER and ftype.schema not in seen:
                    seen.add(ftype.schema)
                    order.append(ftype.schema)
                ftype = ftype.item
    return order


def _label(ftype: FieldType) -> str:
    """A container type as part of a function name: ``list_EntityElement``, ``dict_string``."""
    if ftype.kind is Kind.CARRIER:
        return ftype.carrier
    if ftype.item is None:
        return ftype.spec
    return f"{'list' if ftype.kind is Kind.ARRAY else 'dict'}_{_label(ftype.item)}"


def _type_key(ftype: FieldType) -> tuple[Any, ...]:
    """What makes two container types the same: kinds and carrier schemas."""
    if ftype.kind is Kind.CARRIER:
        return (ftype.kind, id(ftype.schema))
    if ftype.item is not None:
        return (ftype.kind, _type_key(ftype.item))
    return (ftype.kind,)


class _Generator:
    """Writes and compiles the walkers of one mode for one graph of carriers.

    Args:
        roots: the carriers to write walkers for (with those they reach).
        known: the walkers already compiled in this mode (called, not written).
    """

    def __init__(
        self, mode: _Mode, roots: list[Schema], known: Mapping[Schema, _Walk | None]
    ) -> None:
        self.times, self.texts, self.tag = mode
        named = (("times", self.times), ("texts", self.texts), ("tag UTC", self.tag))
        title = f"shaping walkers: {'+'.join(m for m, on in named if on)}"
        if not roots[0]._catalogue:
            title += f" for {roots[0].name}"
        self.source = Source(title)
        self.default = self.source.constant(DATETIME_DEFAULT, "DATETIME_DEFAULT")
        self.functions: list[list[str]] = []
        self.graph = _graph(roots)
        self.known = known
        self.walkers: dict[Schema, str] = {}
        self.helpers: dict[tuple[Any, ...], str] = {}
        self.relevant: set[Schema] = set()

    def compile(self) -> dict[Schema, _Walk | None]:
        self.relevant = self.find_relevant()
        # NOTE: sorted by name (then declaration order) so that the text reads the same
        # on every run; every walker's name is fixed first: walkers call each other
        # (recursive carriers too) before all of them are written.
        order = {schema: index for index, schema in enumerate(self.graph)}
        written = sorted(
            (s for s in self.relevant if s not in self.known), key=lambda s: (s.name, order[s])
        )
        for schema in self.relevant:
            if schema in self.known:
                self.walkers[schema] = self.source.constant(
                    self.known[schema], f"walk_{schema.name}"
                )
        for schema in written:
            self.walkers[schema] = self.source.name(f"walk_{schema.name}")
        for schema in written:
            self.carrier(schema)
        for index, function in enumerate(self.functions):
            if index:
                self.source.add("")
            self.source.extend(function)
        namespace = self.source.compile()
        compiled: dict[Schema, _Walk | None] = {
            schema: None for schema in self.graph if schema not in self.known
        }
        for schema in written:
            compiled[schema] = namespace[self.walkers[schema]]
        return compiled

    def leaf(self, ftype: FieldType, name: str = "") -> int | None:
        if ftype.kind is Kind.DATETIME and self.times:
            if name in _UTC_FIELDS:
                # PERF: never converted; visited only to be tagged (includeTZOffset)
                return _CREATED if self.tag else None
            return _TIMES
        if ftype.kind is Kind.STRING and self.texts:
            return _TEXTS
        return None

    def find_relevant(self) -> set[Schema]:
        """Carriers of the graph that (transitively) hold something to convert."""
        found: set[Schema] = {s for s in self.graph if self.known.get(s) is not None}
        changed = True
        while changed:
            changed = False
            for schema in self.graph:
                if schema in found or schema in self.known:
                    continue
                if any(self.reaches(f.type, found, f.name) for f in schema.fields):
                    found.add(schema)
                    changed = True
        return found

    def reaches(self, ftype: FieldType, found: set[Schema], name: str = "") -> bool:
        if ftype.kind is Kind.CARRIER:
            return ftype.schema in found
        if ftype.item is not None:
            return self.reaches(ftype.item, found)
        return self.leaf(ftype, name) is not None

    def test(self, var: str, slot: int) -> str:
        """The inline test: might the leaf function change this value?"""
        if slot == _TEXTS:
            return f"type({var}) is str and (':\"' in {var} or '[SR_' in {var})"
        return f"type({var}) is str and {var} != {self.default}"

    def carrier(self, schema: Schema) -> None:
        head = [f"def {self.walkers[schema]}(d, ops):", "    if type(d) is not dict: return d"]
        self.functions.append(head)  # before the helpers it brings: reads top-down
        body, uses_ops = self.fields(schema, "d", "out", "    ")
        if uses_ops:
            head.append(f"    {', '.join(_OP_NAMES)} = ops")
        head += ["    out = None", *body, "    return d if out is None else out"]

    def fields(self, schema: Schema, d: str, out: str, pad: str) -> tuple[list[str], bool]:
        """The lines shaping the fields of the dict in ``d`` into its copy ``out``.

        Returns:
            The lines (indented by ``pad``) and whether they call a leaf function.
        """
        body: list[str] = []
        uses_ops = False
        for field in schema.fields:
            slot = self.leaf(field.type, field.name)
            key = repr(field.name)
            if slot is not None:
                call = f"{_OP_NAMES[slot]}(v)"
                body += [f"{pad}v = {d}.get({key})", f"{pad}if {self.test('v', slot)}:"]
                uses_ops = True
            elif self.reaches(field.type, self.relevant, field.name):
                call = f"{self.container(field.type)}(v, ops)"
                body += [f"{pad}v = {d}.get({key})", f"{pad}if v is not None:"]
            else:
                continue
            body += [
                f"{pad}    n = {call}",
                f"{pad}    if n is not v:",
                f"{pad}        if {out} is None: {out} = {d}.copy()",
                f"{pad}        {out}[{key}] = n",
            ]
        return body, uses_ops

    def container(self, ftype: FieldType) -> str:
        """The function walking a non-null value of a relevant carrier, array or dict."""
        if ftype.kind is Kind.CARRIER:
            return self.walkers[ftype.schema]
        key = _type_key(ftype)
        if key in self.helpers:
            return self.helpers[key]
        name = self.helpers[key] = self.source.name(f"walk_{_label(ftype)}")
        lines: list[str] = []
        self.functions.append(lines)
        item = ftype.item
        assert item is not None
        array = ftype.kind is Kind.ARRAY
        kind = "list" if array else "dict"
        if item.kind is Kind.CARRIER and item.schema not in self.known:
            # PERF: the items' walker written inline (no call per item); its fields
            # go to the item's copy ``o``.
            body, uses_ops = self.fields(item.schema, "d", "o", "        ")
            lines += [
                f"def {name}(items, ops):",
                f"    if type(items) is not {kind}: return items",
                *([f"    {', '.join(_OP_NAMES)} = ops"] if uses_ops else []),
                "    out = None",
                f"    for k, d in {'enumerate(items)' if array else 'items.items()'}:",
                "        if type(d) is not dict: continue",
                "        o = None",
                *body,
                "        if o is not None:",
                "            if out is None: out = items.copy()",
                "            out[k] = o",
                "    return items if out is None else out",
            ]
            return name
        slot = self.leaf(item)
        if slot is not None:
            test, call = self.test("x", slot), f"{_OP_NAMES[slot]}(x)"
        else:
            test, call = "x is not None", f"{self.container(item)}(x, ops)"
        lines += [
            f"def {name}(v, ops):",
            f"    if type(v) is not {kind}: return v",
            *([f"    {', '.join(_OP_NAMES)} = ops"] if slot is not None else []),
            "    out = None",
            f"    for k, x in {'enumerate(v)' if array else 'v.items()'}:",
            f"        if {test}:",
            f"            n = {call}",
            "            if n is not x:",
            "                if out is None: out = v.copy()",
            "                out[k] = n",
            "    return v if out is None else out",
        ]
        return name


# -- the reference walk ----------------------------------------------------------


def _reference_walk(schema: Schema, value: Any, ops: _Ops, times: bool, texts: bool) -> Any:
    """The walk the generated walkers must equal, interpreted from the schema.

    Every field, array item and dictionary value is visited (nothing skipped by
    an inline test): date-times go to ``times`` (``CreatedDate`` and
    ``UpdatedDate`` to ``created``) when ``times``, strings to ``texts`` when
    ``texts``; containers are copied only when a child changed. The reference
    path of the property tests (``tests/test_shaping_fast.py``); slow.
    """
    if type(value) is not dict:
        return value
    out = None
    for field in schema.fields:
        old = value.get(field.name)
        if old is None:
            continue
        new = _reference_value(field.type, old, ops, times, texts, field.name in _UTC_FIELDS)
        if new is not old:
            if out is None:
                out = value.copy()
            out[field.name] = new
    return value if out is None else out


def _reference_value(
    ftype: FieldType, value: Any, ops: _Ops, times: bool, texts: bool, utc: bool = False
) -> Any:
    kind = ftype.kind
    if kind is Kind.DATETIME:
        return ops[_CREATED if utc else _TIMES](value) if times else value
    if kind is Kind.STRING:
        return ops[_TEXTS](value) if texts else value
    if kind is Kind.CARRIER:
        return _reference_walk(ftype.schema, value, ops, times, texts)
    if kind not in (Kind.ARRAY, Kind.DICT) or ftype.item is None:
        return value  # numbers, bools, enums and any other kind: never shaped
    item = ftype.item
    if kind is Kind.ARRAY:
        if type(value) is not list:
            return value
        items: list[Any] | None = None
        for index, old in enumerate(value):
            new = None if old is None else _reference_value(item, old, ops, times, texts)
            if new is not old:
                if items is None:
                    items = value.copy()
                items[index] = new
        return value if items is None else items
    if type(value) is not dict:
        return value
    entries: dict[Any, Any] | None = None
    for key, old in value.items():
        new = None if old is None else _reference_value(item, old, ops, times, texts)
        if new is not old:
            if entries is None:
                entries = value.copy()
            entries[key] = new
    return value if entries is None else entries
