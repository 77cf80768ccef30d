"""``$select``: compile a field selection once, apply it many times.

A selection is the text of the ``$select`` query parameter::

    Name,Department,Category/Id,Emails/Value

- items are comma-separated and whitespace-trimmed; empty items (a trailing
  comma) are ignored; an empty or blank selection selects everything;
- names match case-insensitively (exact first, as :meth:`Schema.field`);
- ``/`` descends into a carrier; through an array (or a dictionary of
  carriers) the rest of the path applies to every element;
- a bare carrier, array or dictionary name keeps it whole; ``*`` keeps
  everything at its level (``*`` alone keeps the whole value,
  ``Category/*`` is ``Category``);
- duplicates and overlaps are harmless (``Category,Category/Id`` keeps the
  whole ``Category``).

Fields not selected are not removed (SuperOffice nulls them): reference
types (string, carrier, array, dictionary) become ``null`` and value types
(int32, double, bool, date-time, enum) their .NET default, because a .NET
client cannot read ``null`` into an ``int``. With ``null_value_types=True``
every unselected field becomes ``null``; such output is smaller and reads
well in JavaScript but a .NET (Json.NET or DataContractSerializer) client
fails on it.

:func:`compile_select` turns (schema, text) into a :class:`Projector`: the
selection is resolved against the schema once and generated as straight-line
Python (one function per selected carrier), so applying it is little more
than building the output dicts. Projectors are cached (bounded LRU) by the
exact text and again by the canonical selection, so ``name`` and ``Name``
share one compiled function.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from negotiate._codegen import Source
from negotiate.errors import EXCERPT_LIMIT, EncodeError, InvalidValue, NegotiateError, excerpt
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Field, FieldType, Kind, Schema

__all__ = ["MAX_SELECT_LENGTH", "Projector", "compile_select", "select"]

MAX_SELECT_LENGTH: Final = 8192
"""Longest ``$select`` text accepted (longer: 400)."""

_LOCATION: Final = "$select"
_CACHE_SIZE: Final = 512


class _All:
    """Marker: the field (or the whole value) is kept as it is."""

    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All()

# A selection tree: declared field name -> the field, ALL or the selection inside it.
_Tree = dict[str, "_Node"]


class _Node(NamedTuple):
    """One selected field of a selection tree."""

    field: Field
    sub: _Tree | _All  # ALL: kept whole; else the selection inside it


@dataclass(frozen=True, slots=True, eq=False)
class Projector:
    """A compiled ``$select`` for one carrier.

    Attributes:
        schema: the carrier it applies to.
        text: the canonical selection (declared names, declaration order,
            ``*`` for everything), e.g. ``Name,Department,Category/Id``.
        null_value_types: unselected value types become ``None`` too.
        selects_all: the selection keeps everything (``apply`` is the identity).
        source: the generated Python source (for debugging; empty when
            ``selects_all``).
    """

    schema: Schema
    text: str
    null_value_types: bool
    selects_all: bool
    source: str
    _project: Callable[[Any], Any]

    def __repr__(self) -> str:
        return f"Projector({self.schema.name}, {self.text!r})"

    def apply(self, value: Any) -> Any:
        """Project a carrier.

        ``value`` is not modified. The result is a new dict (or list) for
        every carrier (or array) the selection descends into; what is kept
        whole (a selected field, a bare carrier or array name, ``*``) is the
        caller's object, shared, not copied: copy it before mutating it in
        place. When the selection keeps everything, ``value`` itself is
        returned.

        Args:
            value: a normalised carrier of :attr:`schema` (``None`` gives
                ``None``). Other dicts are normalised (a copy) first.

        Returns:
            The projected carrier.

        Raises:
            EncodeError: ``value`` is not a valid carrier of this schema.
        """
        if value is None or self.selects_all:
            return value
        try:
            return self._project(value)
        except (KeyError, TypeError, AttributeError):
            pass
        # NOTE: the fast path assumes a normalised carrier (every field present,
        # the declared types); anything else is normalised (copied) and retried,
        # so a partial dict from the application still projects.
        try:
            normal = self.schema.normalize(value)
        except NegotiateError as exc:
            raise EncodeError(
                f"Cannot apply $select: the value is not a valid {self.schema.name}: {exc.message}",
                location=exc.location,
            ) from None
        return self._project(normal)

    __call__ = apply


def compile_select(
    schema: Schema,
    text: str,
    *,
    null_value_types: bool = False,
    options: Options = DEFAULT_OPTIONS,
) -> Projector:
    """Compile ``$select`` text for a carrier (cached).

    Args:
        schema: the carrier the selection applies to.
        text: the ``$select`` value (without the ``$select=`` and already
            percent-decoded).
        null_value_types: unselected value types become ``None`` instead of
            their .NET default (not readable by .NET clients).
        options: the limits; a path may have at most ``options.max_depth``
            segments.

    Returns:
        The :class:`Projector`; the same object for the same arguments while
        it stays in the cache.

    Raises:
        InvalidValue: an unknown name, a path through a scalar, an empty path
            segment, ``*`` before the end of a path, or a selection that is
            too long or too deep; the message names the path and the nearest
            valid names (also in ``to_dict()["Suggestions"]``), the location
            is ``$select``.
    """
    # NOTE: keyed by the one limit the selection uses, not by the Options object:
    # hashing a dataclass on every cache hit would cost more than the lookup. PERF:
    # the default limit is the default argument, so the usual key is three items.
    if options is DEFAULT_OPTIONS:
        return _compile_text(schema, text, null_value_types)
    return _compile_text(schema, text, null_value_types, options.max_depth)


def select(
    schema: Schema,
    text: str,
    value: Any,
    *,
    null_value_types: bool = False,
    options: Options = DEFAULT_OPTIONS,
) -> Any:
    """Compile (cached) and apply a selection in one call.

    See :func:`compile_select` and :meth:`Projector.apply`.

    Raises:
        InvalidValue: the selection is invalid (400).
        EncodeError: ``value`` is not a valid carrier (500).
    """
    return compile_select(schema, text, null_value_types=null_value_types, options=options).apply(
        value
    )


# -- parsing and resolving ----------------------------------------------------


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_text(
    schema: Schema, text: str, null_value_types: bool, max_depth: int = DEFAULT_OPTIONS.max_depth
) -> Projector:
    # PERF: two caches; this one by the exact text, the next by the canonical
    # selection, so spellings of one selection share one compiled projector.
    paths: list[str] = []
    frozen = _freeze(_resolve(schema, text, max_depth), "", paths)
    canonical = "*" if isinstance(frozen, _All) else ",".join(paths)
    return _compile_tree(schema, canonical, null_value_types, frozen)


def _resolve(schema: Schema, text: str, max_depth: int) -> _Tree | _All:
    if len(text) > MAX_SELECT_LENGTH:
        raise InvalidValue(
            f"$select is {len(text)} characters long (limit {MAX_SELECT_LENGTH})",
            location=_LOCATION,
        )
    root: _Tree = {}
    for item in text.split(","):
        path = item.strip()
        if not path:
            continue
        segments = [segment.strip() for segment in path.split("/")]
        if len(segments) > max_depth:
            raise InvalidValue(
                f"$select path {excerpt(path)} is nested deeper than the limit of {max_depth}",
                location=_LOCATION,
                path=_cut(path),
            )
        if _add_path(root, schema, segments, path):
            return ALL
    return root if root else ALL


def _add_path(root: _Tree, schema: Schema, segments: list[str], path: str) -> bool:
    """Merge one path into the tree; True when it selects the whole value."""
    if "" in segments:
        raise InvalidValue(
            f"Empty segment in $select path {excerpt(path)}", location=_LOCATION, path=_cut(path)
        )
    if "*" in segments[:-1]:
        raise InvalidValue(
            f"'*' must end a $select path, got {excerpt(path)}",
            location=_LOCATION,
            path=_cut(path),
        )
    if segments[-1] == "*":
        segments = segments[:-1]  # ``X/*`` keeps X whole, as ``X`` does
        if not segments:
            return True
        descend_last = True
    else:
        descend_last = False
    node = root
    current = schema
    last = len(segments) - 1
    for position, segment in enumerate(segments):
        field = current.field(segment)
        if field is None:
            raise _unknown(current, segment, path)
        inner = _carrier_inside(field.type)
        if position == last:
            if descend_last and inner is None:
                raise _through_scalar(current, field.name, field.type, path)
            node[field.name] = _Node(field, ALL)
            return False
        if inner is None:
            raise _through_scalar(current, field.name, field.type, path)
        entry = node.get(field.name)
        if entry is None:
            child: _Tree = {}
            node[field.name] = _Node(field, child)
        elif isinstance(entry.sub, _All):
            return False  # already kept whole: the deeper path adds nothing
        else:
            child = entry.sub
        node = child
        current = inner.schema
    return False


def _cut(path: str) -> str:
    """A path for an error's ``Path`` detail: as sent, cut to the excerpt limit."""
    return path if len(path) <= EXCERPT_LIMIT else path[:EXCERPT_LIMIT] + "…"


def _carrier_inside(ftype: FieldType) -> FieldType | None:
    """The carrier type a path descends into: through arrays and dictionaries."""
    while ftype.kind in (Kind.ARRAY, Kind.DICT):
        assert ftype.item is not None
        ftype = ftype.item
    return ftype if ftype.kind is Kind.CARRIER else None


def _unknown(schema: Schema, segment: str, path: str) -> InvalidValue:
    folded = {name.casefold(): name for name in schema.names}
    close = [
        folded[match]
        for match in difflib.get_close_matches(segment.casefold(), list(folded), n=3, cutoff=0.6)
    ]
    if close:
        hint = "did you mean " + " or ".join(close) + "?"
    else:
        hint = "valid names: " + ", ".join(schema.names)
    return InvalidValue(
        f"Unknown field {excerpt(segment)} of {schema.name} in $select path {excerpt(path)}; "
        f"{hint}",
        location=_LOCATION,
        path=_cut(path),
        suggestions=close or list(schema.names),
    )


def _through_scalar(schema: Schema, name: str, ftype: FieldType, path: str) -> InvalidValue:
    return InvalidValue(
        f"$select path {excerpt(path)} goes through {schema.name}.{name}, a {ftype.spec} "
        f"with no fields to select; select {name!r} itself",
        location=_LOCATION,
        path=_cut(path),
        suggestions=[name],
    )


# The tree must be hashable to key the second cache; this is that form: the
# selected fields in declaration order, each with ALL or its own selection.
_Frozen = tuple[tuple[str, "_Frozen | _All"], ...]


def _freeze(tree: _Tree | _All, prefix: str, paths: list[str]) -> _Frozen | _All:
    """The tree as nested tuples, fields in declaration order (one form per selection).

    Appends the canonical paths (declared names, declaration order) to ``paths``.
    """
    if isinstance(tree, _All):
        return tree
    # PERF: sorts the few selected fields, rather than scanning every declared
    # field (ContactEntity has 47) on each level; the tree holds the fields it
    # resolved, so nothing is looked up again.
    frozen: list[tuple[str, _Frozen | _All]] = []
    for node in sorted(tree.values(), key=_declared):
        name = node.field.name
        if isinstance(node.sub, _All):
            frozen.append((name, node.sub))
            paths.append(prefix + name)
        else:
            frozen.append((name, _freeze(node.sub, f"{prefix}{name}/", paths)))
    return tuple(frozen)


def _declared(node: _Node) -> int:
    return node.field.index


# -- generating the projector -------------------------------------------------


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_tree(
    schema: Schema, text: str, null_value_types: bool, frozen: _Frozen | _All
) -> Projector:
    if isinstance(frozen, _All):
        return Projector(schema, text, null_value_types, True, "", _identity)
    generator = _Generator(schema, text, null_value_types)
    project = generator.compile(frozen)
    return Projector(schema, text, null_value_types, False, generator.source.source, project)


def _identity(value: Any) -> Any:
    return value


_TITLE_LIMIT: Final = 120
_INLINE_DEPTH: Final = 8
"""Carriers nested in carriers written inline in one function, at most this deep."""


class _Generator:
    """Writes one function per selected carrier that is an array or dictionary
    item (and the entry point, first); a carrier in a carrier is written inline.

    PERF: each carrier copies a prebuilt dict of the unselected values (the
    defaults, in declaration order; a C-level copy) and assigns the selected
    fields over it, which beats building the dict key by key. A carrier held
    by a carrier is written inline in its parent's function (``d1``/``r1`` one
    level down): no call when applying, and one function fewer to compile,
    which is most of a cold compile. Past :data:`_INLINE_DEPTH` levels a new
    function starts (Python limits how deep blocks nest). Only declared names
    from the schema reach the source, never text from the request.
    """

    def __init__(self, schema: Schema, text: str, null_value_types: bool) -> None:
        self.schema = schema
        self.null_value_types = null_value_types
        # NOTE: the canonical text holds declared names only, never request text.
        shown = text if len(text) <= _TITLE_LIMIT else text[:_TITLE_LIMIT] + "…"
        self.source = Source(f"$select {schema.name}: {shown}")
        self.functions: list[list[str]] = []
        self.templates: dict[Schema, str] = {}

    def compile(self, tree: _Frozen) -> Callable[[Any], Any]:
        """Generate and compile the projector; return its entry function."""
        entry = self.carrier(self.schema, tree, [])
        for index, function in enumerate(self.functions):
            if index:
                self.source.add("")
            self.source.extend(function)
        project: Callable[[Any], Any] = self.source.compile()[entry]
        # NOTE: projectors are compiled per selection and cached (bounded); the
        # text leaves linecache with the projector, so it does not pile up.
        self.source.forget_with(project)
        return project

    def template(self, schema: Schema) -> str:
        """The named dict of unselected values of a carrier (one per carrier)."""
        name = self.templates.get(schema)
        if name is None:
            if self.null_value_types:
                name = self.source.constant(dict.fromkeys(schema.names), f"nulls_{schema.name}")
            else:
                name = self.source.constant(schema.default(), f"default_{schema.name}")
            self.templates[schema] = name
        return name

    def carrier(self, schema: Schema, tree: _Frozen, path: list[str]) -> str:
        """The function projecting a non-null carrier; ``path`` is the field path to it."""
        function = self.source.name("project_" + "_".join(path or [schema.name]))
        body = [f"def {function}(d):"]
        self.functions.append(body)  # before the functions it calls: reads top-down
        self.fields(body, schema, tree, path, 0)
        body.append("    return r")
        return function

    def fields(
        self, body: list[str], schema: Schema, tree: _Frozen, path: list[str], level: int
    ) -> None:
        """Lines projecting the non-null carrier in ``d``/``d<level>`` into ``r``/``r<level>``."""
        pad = "    " * (level + 1)
        d, r = ("d", "r") if level == 0 else (f"d{level}", f"r{level}")
        body.append(f"{pad}{r} = {self.template(schema)}.copy()")
        for name, sub in tree:  # in declaration order
            key = repr(name)
            if isinstance(sub, _All):
                body.append(f"{pad}{r}[{key}] = {d}[{key}]")
                continue
            field = schema.field(name)
            assert field is not None  # the tree holds declared names only
            ftype = field.type
            if ftype.kind is Kind.CARRIER and level + 1 < _INLINE_DEPTH:
                inner = f"d{level + 1}"
                body.append(f"{pad}{inner} = {d}[{key}]")
                body.append(f"{pad}if {inner} is not None:")
                self.fields(body, ftype.schema, sub, [*path, name], level + 1)
                body.append(f"{pad}    {r}[{key}] = r{level + 1}")
                continue
            value = self.value("v", ftype, sub, 0, [*path, name])
            body.append(f"{pad}v = {d}[{key}]")
            body.append(f"{pad}if v is not None:")
            body.append(f"{pad}    {r}[{key}] = {value}")

    def value(self, var: str, ftype: FieldType, tree: _Frozen, level: int, path: list[str]) -> str:
        """An expression projecting the non-null value in ``var``."""
        if ftype.kind is Kind.CARRIER:
            return f"{self.carrier(ftype.schema, tree, path)}({var})"
        assert ftype.item is not None
        x = f"x{level}"
        inner = self.value(x, ftype.item, tree, level + 1, path)
        if ftype.kind is Kind.ARRAY:
            return f"[None if {x} is None else {inner} for {x} in {var}]"
        k = f"k{level}"
        return f"{{{k}: None if {x} is None else {inner} for {k}, {x} in {var}.items()}}"
