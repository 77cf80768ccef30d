"""Reading XML in .NET's exact shape: generated readers whose result is already normalised.

DataContractSerializer writes every property, in declaration order, without namespace
prefixes, nulls as ``i:nil="true"``, array items and dictionary pairs wrapped as
:mod:`~negotiate.codecs.xml.names` says. For such a document the readers generated
here build the carrier straight from the tree, typed, complete and in declaration
order, so that it needs no normalising: what they return is what the reference path
(:class:`~negotiate.codecs.xml.read._Readers` then the schema's normaliser) returns.

They never raise a located error: at the first surprise (another order, a missing or
unknown element, a prefix, text where elements belong, a bad scalar, a duplicate key,
a container over ``max_items``, a carrier deeper than ``max_depth``, an attribute
other than a plain ``i:nil="true"`` on an empty element) they raise
:class:`~negotiate._codegen.SlowPath` (or let a parser's ``ValueError`` or a helper's
``NegotiateError`` out), and the codec reads the whole document again by the
reference path, which decides the value or the error (tests/test_xml_fast.py).

Two sets of functions: the strict ones take an empty element for nil only when its
``items()`` are exactly ``i:nil="true"``; the others, run when
:func:`~negotiate.codecs.xml.parse.parse_document` has seen in the bytes that every
attribute below the root is that one, take any attribute for it (``c.attrib``, a
third of the cost: ``items()`` builds each attribute's ``{uri}name``).

PERF: one function per carrier and per container type, all of a root's graph in one
namespace, so a carrier calls the next one by name (no lookup, no wrapper); each child
is touched through as few lxml accessors as possible (``tag``, ``tail``, then ``len``
and ``text`` for a leaf, ``items()`` or ``attrib`` only for an empty one); scalars go
through the shared text parsers of :mod:`negotiate.codecs._text`, one table entry per
kind (:data:`_INLINE` for the few written out in the code; an enum's text through a
bounded memo of the texts already parsed). A carrier's children are unpacked into
locals from one slice; arrays and dictionaries iterate a slice too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from negotiate._codegen import Source
from negotiate.codecs._text import (
    KNOWN_DATETIMES,
    XML_SCALARS,
    parse_bool_text,
    parse_int32_text,
    scalar_parser,
)
from negotiate.codecs.xml.names import _XSI_NIL
from negotiate.codecs.xml.read import _leaf
from negotiate.options import Options
from negotiate.schema import FieldType, Kind, Schema

__all__ = ["fast_reader"]

_Reader = Callable[[Any, bool], Any]

# What ``items()`` gives for the nil element .NET writes: ``<X i:nil="true" />``.
_NIL_ITEMS = [(_XSI_NIL, "true")]

# The int32 of each text "0" to "999", as written (no sign, no leading zero).
# PERF: one dict lookup instead of three checks and int(): .NET writes every int32
# property, and an unset one is 0; ranks, types, counts and flags are small.
_SMALL_INTS: Final = {str(number): number for number in range(1000)}

# Value kinds whose text is read by code written out inline (the common ones on the
# wire): the lines that turn ``t`` (the text, not None) into ``{var}``. Any other
# value kind is read by its shared parser (scalar_parser), so a new kind needs no
# code here. ``t.isdigit() and t.isascii()`` with at most 9 digits is what
# parse_int32_text takes inline; anything else goes to the parser itself.
_INLINE: dict[Kind, tuple[str, ...]] = {
    Kind.INT32: (
        "{var} = small_ints.get(t)",
        "if {var} is None:",
        "    if len(t) < 10 and t.isdigit() and t.isascii(): {var} = int(t)",
        "    else: {var} = parse_int32_text(t)",
    ),
    Kind.BOOL: (
        "if t == 'true': {var} = True",
        "elif t == 'false': {var} = False",
        "else: {var} = parse_bool_text(t)",
    ),
    Kind.DATETIME: ("{var} = t if t in known_datetimes else {parse}(t)",),
}


_MEMO_LIMIT: Final = 1024
_MEMO_TEXT: Final = 128


def _remembered(memo: dict[str, str], parse: Callable[[str], str], text: str) -> str:
    """``parse(text)``, remembered in ``memo`` (bounded: cleared when full; long texts
    are not kept). A text that does not parse raises and is never remembered."""
    value = parse(text)
    if len(text) <= _MEMO_TEXT:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[text] = value
    return value


class _Generator:
    """Writes the readers of the carriers one root reaches, into one :class:`Source`."""

    def __init__(self, root: Schema, options: Options) -> None:
        self.options = options
        self.source = Source(
            f"XML fast reader for {root.name}",
            {
                "_leaf": _leaf,
                "NIL": _NIL_ITEMS,
                "parse_int32_text": parse_int32_text,
                "parse_bool_text": parse_bool_text,
                "known_datetimes": KNOWN_DATETIMES,
                "small_ints": _SMALL_INTS,
                "_remembered": _remembered,
            },
        )
        self.names: dict[Any, str] = {}  # (type shape, nils) -> its function's name
        self.memos: dict[int, str] = {}  # id(EnumSpec) -> the name of its texts' memo
        self.pending: list[tuple[str, FieldType, bool]] = []
        self.nils = False  # whether the functions written now may trust i:nil (fast_reader)
        top = FieldType(Kind.CARRIER, carrier=root.name, target=root)
        strict = self.function(top)
        self.nils = True
        trusting = self.function(top)
        self.root = self.source.name(f"read_{root.name}")
        self.source.add(
            f"def {self.root}(el, nils):",
            f"    return {trusting}(el, 0) if nils else {strict}(el, 0)",
            "",
        )

    def function(self, ftype: FieldType) -> str:
        """The name of the function reading an element of ``ftype`` (carrier or container)."""
        key = (ftype.shape, self.nils)
        name = self.names.get(key)
        if name is None:
            prefix = "r" if ftype.kind is Kind.CARRIER else "a" if ftype.kind is Kind.ARRAY else "m"
            if self.nils:
                prefix += "n"
            label = ftype.schema.name if ftype.kind is Kind.CARRIER else ftype.spec
            name = self.names[key] = self.source.name(f"{prefix}_{label}")
            self.pending.append((name, ftype, self.nils))
        return name

    def compile(self) -> _Reader:
        while self.pending:
            name, ftype, self.nils = self.pending.pop()
            if ftype.kind is Kind.CARRIER:
                self.carrier(name, ftype.schema)
            elif ftype.kind is Kind.ARRAY:
                self.array(name, ftype)
            else:
                self.mapping(name, ftype)
        reader: _Reader = self.source.compile()[self.root]
        return reader

    # -- one value, the element ``c``, into ``var``; ``depth``: the expression of its depth

    def value(
        self, ftype: FieldType, var: str, depth: str, default: Any, indent: str, c: str = "c"
    ) -> None:
        """Lines reading the element named ``c`` (its tag and tail already checked) into ``var``.

        ``default`` is what a nil scalar gives (the field's default, as the reference
        fills a nil value type in); ``_ERROR`` where a nil scalar is an error (an
        item): then the reference decides.
        """
        add = self.source.add
        kind = ftype.kind
        nils = self.nils
        if kind in (Kind.CARRIER, Kind.ARRAY, Kind.DICT):
            read = self.function(ftype)
            if nils:  # an attribute is i:nil="true" (see fast_reader)
                add(
                    f"{indent}if len({c}) or not {c}.attrib: {var} = {read}({c}, {depth})",
                    f"{indent}elif {c}.text is None: {var} = None",
                    f"{indent}else: raise SlowPath",
                )
                return
            add(
                f"{indent}if len({c}): {var} = {read}({c}, {depth})",
                f"{indent}elif (a := {c}.items()) == NIL and {c}.text is None: {var} = None",
                f"{indent}elif not a: {var} = {read}({c}, {depth})",
                f"{indent}else: raise SlowPath",
            )
            return
        add(f"{indent}if len({c}): raise SlowPath")
        if kind is Kind.STRING and nils:  # PERF: the text straight into its variable
            add(
                f"{indent}{var} = {c}.text",
                f"{indent}if {var} is None and not {c}.attrib: {var} = ''",
            )
            return
        add(f"{indent}t = {c}.text")
        if kind is Kind.STRING:
            add(
                f"{indent}if t is None:",
                f"{indent}    a = {c}.items()",
                f"{indent}    if not a: t = ''",
                f"{indent}    elif a != NIL: t = _leaf({c})",
                f"{indent}{var} = t",
            )
            return
        try:
            parser = scalar_parser(ftype, XML_SCALARS)
        except TypeError:
            raise _NotFast from None
        parse = self.source.constant(parser, f"parse_{ftype.spec}")
        if default is _ERROR:
            add(f"{indent}if t is None: raise SlowPath")
        else:
            nil = self.source.constant(default, f"default_{ftype.spec}")
            nil_test = f"not {c}.attrib" if nils else f"{c}.items() != NIL"
            add(
                f"{indent}if t is None:",
                f"{indent}    if {nil_test}: raise SlowPath",
                f"{indent}    {var} = {nil}",
                f"{indent}else:",
            )
            indent += "    "
        if kind is Kind.ENUM:
            # PERF: an enum's text is parsed once (three calls, a split and a join for
            # flags), then found in the memo: the same few texts recur in a document.
            texts = self.enum_texts(ftype)
            lines: tuple[str, ...] = (
                f"{{var}} = {texts}.get(t)",
                f"if {{var}} is None: {{var}} = _remembered({texts}, {{parse}}, t)",
            )
        else:
            lines = _INLINE.get(kind, ("{var} = {parse}(t)",))
        add(*(indent + line.format(var=var, parse=parse) for line in lines))

    def enum_texts(self, ftype: FieldType) -> str:
        """The name of the memo of ``ftype``'s enum: text -> its normalised name(s)."""
        assert ftype.enum is not None
        key = id(ftype.enum)
        name = self.memos.get(key)
        if name is None:
            memo: dict[str, str] = {}
            name = self.memos[key] = self.source.constant(memo, f"texts_{ftype.enum.name}")
        return name

    # -- the functions

    def header(self, name: str) -> None:
        self.source.add(
            f"def {name}(el, depth):",
            "    t = el.text",
            "    if t is not None and not t.isspace(): raise SlowPath",
        )

    def carrier(self, name: str, schema: Schema) -> None:
        add = self.source.add
        fields = schema.fields
        defaults = schema.default()
        self.header(name)
        add(
            f"    if depth > {self.options.max_depth}: raise SlowPath",
            "    ch = el[:]",
            f"    if len(ch) != {len(fields)}: raise SlowPath",
        )
        if fields:
            # PERF: one unpacking instead of an index per child
            add(f"    {''.join(f'c{i}, ' for i in range(len(fields)))}= ch")
        nested = "depth + 1"
        for index, field in enumerate(fields):
            qualified = "}" + field.name
            c = f"c{index}"
            add(
                # NOTE: a prefixed element ({uri}Name) binds by its local name too
                f"    if (g := {c}.tag) != {field.name!r} and not g.endswith({qualified!r}):",
                "        raise SlowPath",
                f"    if {c}.tail is not None and not {c}.tail.isspace(): raise SlowPath",
            )
            self.value(field.type, f"v{index}", nested, defaults[field.name], "    ", c)
        items = ", ".join(f"{field.name!r}: v{i}" for i, field in enumerate(fields))
        add(f"    return {{{items}}}", "")

    def array(self, name: str, ftype: FieldType) -> None:
        assert ftype.item is not None
        add = self.source.add
        self.header(name)
        add(
            f"    if len(el) > {self.options.max_items}: raise SlowPath",
            "    out = []",
            "    append = out.append",
            # PERF: a slice builds the proxies in C; lxml's child iterator costs more
            "    for c in el[:]:",
            "        if c.tail is not None and not c.tail.isspace(): raise SlowPath",
        )
        self.value(ftype.item, "v", "depth", _ERROR, "        ")
        add("        append(v)", "    return out", "")

    def mapping(self, name: str, ftype: FieldType) -> None:
        assert ftype.item is not None
        add = self.source.add
        self.header(name)
        add(
            f"    if len(el) > {self.options.max_items}: raise SlowPath",
            "    out = {}",
            "    for pair in el[:]:",
            "        if pair.tail is not None and not pair.tail.isspace(): raise SlowPath",
            "        if pair.text is not None and not pair.text.isspace(): raise SlowPath",
            "        parts = pair[:]",
            "        if len(parts) != 2: raise SlowPath",
            "        k, c = parts",
            "        key = k.text",
            "        if (",
            "            key is None or k.tag != 'Key' or c.tag != 'Value' or len(k)",
            "            or key in out",
            "            or (k.tail is not None and not k.tail.isspace())",
            "            or (c.tail is not None and not c.tail.isspace())",
            "        ): raise SlowPath",
        )
        self.value(ftype.item, "v", "depth", _ERROR, "        ")
        add("        out[key] = v", "    return out", "")


class _NotFast(Exception):
    """A type the generated code does not read (its carrier then always takes the reference)."""


_ERROR: Any = object()  # value(): a nil value type is an error here


def fast_reader(schema: Schema, options: Options) -> tuple[_Reader | None, Source | None]:
    """The generated reader of ``schema``'s elements in .NET's shape, and its source.

    Returns:
        ``(read, source)``: ``read(root, nils)`` returns the normalised carrier or
        raises (see the module docstring); ``nils`` true says every attribute below
        the root is ``i:nil="true"`` (as ``parse_document`` tells). ``(None, None)``
        when some type the carrier reaches has no fast reading (then only the
        reference path reads it).
    """
    try:
        generator = _Generator(schema, options)
        reader = generator.compile()
    except _NotFast:
        return None, None
    return reader, generator.source
