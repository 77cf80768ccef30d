"""The fast XML writer: the reference writers' document (:mod:`.write`), with less work.

``_FastWriterSource`` generates, per carrier graph, a writer of the whole document that
``XmlCodec.encode`` uses; its class docstring says what it saves against the reference
``_WriterSource``. The property tests (``tests/test_xml_encode_speed_*.py``) hold the two
to the same bytes, or the same error at the same location.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from negotiate._codegen import SlowPath, Source
from negotiate.codecs.xml.names import _ITEMS_DECL, _NIL, _pair_name
from negotiate.codecs.xml.write import (
    _HELPERS,
    _NOT_NAME,
    _escape,
    _w_double,
    _w_enum,
    _WriterSource,
)
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import INT64_MAX, INT64_MIN, EnumSpec

__all__ = []


_INTS: tuple[str, ...] = tuple(str(number) for number in range(1024))
"""PERF: the text of the small ints (ids, ranks, counts, most often 0): a tuple index
costs a third of formatting the int in the f-string."""


def _w_text_fast(value: Any) -> str:
    """:func:`_w_text` but for a carriage return, escaped in the whole document."""
    if type(value) is not str:
        raise SlowPath
    if "&" in value or "<" in value or ">" in value:
        return _escape(value)
    return value


_KNOWN_DOUBLES: dict[float, str] = {}
"""PERF: the text of doubles written (bounded): ``repr`` of a float costs ten dict lookups."""
_KNOWN_LIMIT = 4096


def _w_double_known(value: Any) -> str:
    """:func:`_w_double`, remembering the text of a double that is not zero."""
    text = _w_double(value)
    # NOTE: never a zero: 0.0 == -0.0 as keys, and their texts differ
    if value != 0.0:
        if len(_KNOWN_DOUBLES) >= _KNOWN_LIMIT:
            _KNOWN_DOUBLES.clear()
        _KNOWN_DOUBLES[value] = text
    return text


_DocumentWriter = Callable[[Any, str, str], str]
_FAST_HELPERS: dict[str, Any] = {
    **_HELPERS,
    "ints": _INTS,
    "write_text": _w_text_fast,
    "write_double": _w_double_known,
    "known_doubles": _KNOWN_DOUBLES,
}


def _w_flags_known(spec: EnumSpec, texts: dict[str, str]) -> Callable[[Any], str]:
    """:func:`_w_enum` of a flag enum, remembering each value's text in ``texts``
    (PERF: one lookup instead of the reference's set lookup and ``replace``)."""
    write = _w_enum(spec)

    def write_known(value: Any) -> str:
        text = write(value)
        if len(texts) >= _KNOWN_LIMIT:
            texts.clear()
        texts[value] = text
        return text

    return write_known


def _escape_check(var: str) -> str:
    """The statement escaping the string in ``var`` if it holds ``&``, ``<`` or ``>``."""
    return f"if '&' in {var} or '<' in {var} or '>' in {var}: {var} = escape({var})"


def _fstring_text(text: str) -> str:
    """``text`` as the literal part of a single-quoted f-string."""
    return (
        text.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("{", "{{")
        .replace("}", "}}")
        .replace("\n", "\\n")
    )


def _text_name(text: str) -> str:
    """A readable name for a markup constant: ``nil_X``, ``empty_X``, ``open_X``, ``close_X``."""
    if text.endswith(_NIL):
        kind, text = "nil", text[1 : -len(_NIL)]
    elif text.endswith(" />"):
        kind, text = "empty", text[1:-3]
    elif text.startswith("</"):
        kind, text = "close", text[2:-1]
    else:
        kind, text = "open", text[1:-1]
    return f"{kind}_{_NOT_NAME.sub('_', text.partition(' ')[0])}"


class _FastWriterSource(_WriterSource):
    """The reference writers' document, with less work per element.

    PERF (each measured on the enriched ContactEntity answers):

    * every writer takes its element's start and end tag (``d, o, c``) and writes them
      in its one f-string: a nested carrier, an array or a dictionary is copied once,
      into its parent's f-string, instead of twice more by ``'<X>' + ... + '</X>'``;
    * a string field is three f-string slots (start tag, text, end tag; the nil element
      and two empty strings for null): no concatenation at all;
    * a carriage return is escaped in the whole document at once (``&#13;``, one
      ``replace`` when there is one): no markup holds one, and the reference's escape
      gives the same text, since it never writes a carriage return itself; ``&``, ``<``
      and ``>`` are still looked for in each string (an escape writes ``&``, so the
      document cannot tell it from the text's own);
    * an int below 1024 is a tuple index (:data:`_INTS`), not formatted; a double
      written before is a dict lookup (:data:`_KNOWN_DOUBLES`), not ``repr``, and so is
      a flag enum's value (not a set lookup and a ``replace``).

    The writer returns the whole document (``o`` is the root's start tag with its
    declarations, ``c`` its end tag), carriage returns not yet escaped.
    """

    def __init__(self, root: Schema, per_carrier: bool) -> None:
        super().__init__(root, per_carrier)
        self.source = Source(f"fast XML writers for {root.name}", _FAST_HELPERS)
        self.texts: dict[str, str] = {}
        self.strings: list[str] = []  # the string fields' variables, of the carrier written
        self.grouped = False  # whether they are checked for escapes at once
        self.flags: dict[int, tuple[str, str]] = {}  # by id of the EnumSpec

    def compile_document(self) -> _DocumentWriter:
        """The root carrier's writer: ``(value, start tag, end tag) -> document``."""
        entry = self.carrier(self.root)
        while self.pending:
            self.write_carrier(self.pending.pop())
        writer: _DocumentWriter = self.source.compile()[entry]
        return writer

    def text(self, value: str) -> str:
        """The name of the constant ``value`` in the generated code (once per text)."""
        found = self.texts.get(value)
        if found is None:
            found = self.texts[value] = self.source.constant(value, _text_name(value))
        return found

    def write_carrier(self, schema: Schema) -> None:
        body = [f"def {self.carriers[schema]}(d, o, c):"]
        body.append(f"    if type(d) is not dict or len(d) != {len(schema.fields)}: raise SlowPath")
        parts: list[str] = ["{o}"]
        prefix = self.prefix(schema)
        self.strings = []
        self.grouped = sum(f.type.kind is Kind.STRING for f in schema.fields) > 1
        for index, field in enumerate(schema.fields):
            stmts, part = self.field(index, field.name, field.type, prefix)
            body.extend("    " + s for s in stmts)
            parts.append(part)
        parts.append("{c}")
        if self.grouped:
            joined = "".join(f"{{{var}}}" for var in self.strings)
            body.append(f"    t = f'{joined}'")
            # PERF: markup is rare, an ampersand less so (a company "X & Y" in every
            # Person): then one ``in`` per string finds what to escape
            body.append("    if '<' in t or '>' in t:")
            body.extend(f"        {_escape_check(var)}" for var in self.strings)
            body.append("    elif '&' in t:")
            body.extend(f"        if '&' in {var}: {var} = escape({var})" for var in self.strings)
        body.append(f"    return f'{''.join(parts)}'")
        self.source.extend([*body, ""])

    def field(
        self, index: int, key_name: str, ftype: FieldType, prefix: str
    ) -> tuple[list[str], str]:
        """Statements setting ``s<index>`` (and ``a``, ``c``), and the f-string part."""
        var = f"s{index}"
        key = repr(key_name)
        name = prefix + key_name
        kind = ftype.kind
        nil = repr(f"<{name}{_NIL}")
        open_, close = f"<{name}>", f"</{name}>"
        element = f"{_fstring_text(open_)}{{{var}}}{_fstring_text(close)}"
        if kind is Kind.STRING:
            start, end = f"a{index}", f"c{index}"
            self.strings.append(var)
            check = _escape_check(var)
            return [
                f"{var} = d[{key}]",
                f"if {var} is None: {start} = {nil}; {var} = {end} = ''",
                "else:",
                f"    if type({var}) is not str: raise SlowPath",
                *([] if self.grouped else [f"    {check}"]),
                f"    {start} = {open_!r}; {end} = {close!r}",
            ], f"{{{start}}}{{{var}}}{{{end}}}"
        if kind is Kind.CARRIER:
            return [
                f"v = d[{key}]",
                f"if v is None: {var} = {nil}",
                f"else: {var} = {self.carrier(ftype.schema)}(v, {open_!r}, {close!r})",
            ], f"{{{var}}}"
        if kind in (Kind.ARRAY, Kind.DICT):
            # NOTE: a call, not the items joined here: three slots would cost a null more
            attrs, pytype = self.wrapper(ftype)
            content = self.container(ftype)
            return [
                f"v = d[{key}]",
                f"if v is None: {var} = {nil}",
                f"elif type(v) is not {pytype}: raise SlowPath",
                f"elif v: {var} = {content}(v, {f'<{name}{attrs}>'!r}, {close!r})",
                f"else: {var} = {f'<{name}{attrs} />'!r}",
            ], f"{{{var}}}"
        if ftype.nullable or kind is Kind.BYTES:
            return [
                f"v = d[{key}]",
                f"if v is None: {var} = {nil}",
                f"else: {var} = {self.element('v', ftype, name)}",
            ], f"{{{var}}}"
        if kind in (Kind.INT32, Kind.INT64):
            low, high = (-2147483648, 2147483647) if kind is Kind.INT32 else (INT64_MIN, INT64_MAX)
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not int: raise SlowPath",
                f"if -1 < {var} < {len(_INTS)}: {var} = ints[{var}]",
                f"elif {var} > {high} or {var} < {low}: raise SlowPath",
            ], element
        if kind is Kind.ENUM and ftype.enum is not None and ftype.enum.flags:
            texts, write = self.flags_writer(ftype.enum)
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not str: raise SlowPath",
                f"{var} = {texts}.get({var}) or {write}({var})",
            ], element
        if kind is Kind.DOUBLE:
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not float: raise SlowPath",
                f"{var} = known_doubles.get({var}) or write_double({var})",
            ], element
        stmts, _ = super().field(index, key_name, ftype, prefix)
        return stmts, element  # bool, date-time, enum, decimal, Guid: as the reference

    def flags_writer(self, spec: EnumSpec) -> tuple[str, str]:
        """The names of the texts of ``spec``'s values written, and of their writer."""
        found = self.flags.get(id(spec))
        if found is None:
            texts: dict[str, str] = {}
            found = self.flags[id(spec)] = (
                self.source.constant(texts, f"xml_{spec.name}"),
                self.source.constant(_w_flags_known(spec, texts), f"write_flags_{spec.name}"),
            )
        return found

    def wrapper(self, ftype: FieldType) -> tuple[str, str]:
        """An array's or dictionary's start tag attributes, and its Python type."""
        assert ftype.item is not None
        array = ftype.kind is Kind.ARRAY
        attrs = _ITEMS_DECL if array and self.item_name(ftype.item).startswith("d2p1:") else ""
        return attrs, "list" if array else "dict"

    def element(self, var: str, ftype: FieldType, name: str) -> str:
        """An expression writing element ``name`` holding the non-null value in ``var``;
        no quotes in it (it may stand in an f-string), its texts are named constants."""
        kind = ftype.kind
        open_, close = self.text(f"<{name}>"), self.text(f"</{name}>")
        if kind is Kind.CARRIER:
            return f"{self.carrier(ftype.schema)}({var}, {open_}, {close})"
        if kind in (Kind.ARRAY, Kind.DICT):
            attrs, pytype = self.wrapper(ftype)
            full = f"{self.container(ftype)}({var}, {self.text(f'<{name}{attrs}>')}, {close})"
            empty = self.text(f"<{name}{attrs} />")
            return (
                f"(({full}) if {var} else {empty}) if type({var}) is {pytype} else not_normalised()"
            )
        write = "write_text" if kind is Kind.STRING else self.scalar(ftype)
        return f"{open_} + {write}({var}) + {close}"

    def container(self, ftype: FieldType) -> str:
        """A helper ``(value, o, c) -> str`` writing the items of an array or dictionary
        between its start tag ``o`` and end tag ``c`` (for an array's items)."""
        key = ftype.shape
        found = self.helpers.get(key)
        if found is None:
            found = self.helpers[key] = self.unique("items_" + _NOT_NAME.sub("_", ftype.spec))
            items = self.items(ftype)
            self.source.extend(
                [
                    f"def {found}(v, o, c):",
                    f"    j = ''.join({items})",
                    "    return f'{o}{j}{c}'",
                    "",
                ]
            )
        return found

    def items(self, ftype: FieldType) -> str:
        """A list comprehension writing each item of the array or dictionary in ``v``."""
        item = ftype.item
        assert item is not None
        if ftype.kind is Kind.ARRAY:
            elem = self.item_name(item)
            nil = self.text(f"<{elem}{_NIL}")
            return f"[{nil} if x is None else {self.element('x', item, elem)} for x in v]"
        pair = _pair_name(item)
        start, value = self.text(f"<{pair}><Key>"), self.element("x", item, "Value")
        middle, nil = self.text("</Key>"), self.text(f"<Value{_NIL}")
        end = self.text(f"</{pair}>")
        # PERF: a key is checked inline, without a call, and escaped by the call if need be
        key = 'k if type(k) is str and "&" not in k and "<" not in k and ">" not in k else '
        return (
            f"[f'{{{start}}}{{{key}write_text(k)}}{{{middle}}}"
            f"{{{nil} if x is None else {value}}}{{{end}}}' for k, x in v.items()]"
        )


# The fast writers by per carrier namespace, then by root schema (no tuple to hash).
_FAST: dict[bool, dict[Schema, tuple[_DocumentWriter, str]]] = {True: {}, False: {}}
_FAST_SOURCES: dict[Schema, Source] = {}  # their code, for inspection


def _fast_written(schema: Schema, per_carrier: bool = True) -> tuple[_DocumentWriter, str]:
    """The fast writer of a ``schema`` document (:class:`_FastWriterSource`), and the
    namespace declarations it needs on the root element (as :func:`_written`)."""
    found = _FAST[per_carrier].get(schema)
    if found is None:
        generated = _FastWriterSource(schema, per_carrier)
        writer = generated.compile_document()
        found = _FAST[per_carrier][schema] = (writer, generated.declarations())
        if per_carrier:
            _FAST_SOURCES[schema] = generated.source
    return found
