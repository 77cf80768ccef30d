"""Writing XML with a schema, in DataContractSerializer's shape: generated per carrier.

Writing (``encode``), exactly what WIRE.md records of a real server:

* one line, UTF-8, no XML declaration (DataContractSerializer writes none; UTF-8 is
  XML's default and the Content-Type says ``charset=utf-8``);
* the root element is the carrier's DataContract name (``Schema.xml_name``) and declares
  ``xmlns:i`` (XML Schema instance) and the default namespace: the carrier's own
  (``Schema.xml_namespace``; the catalogue's is ``http://www.superoffice.net/ws/crm/
  NetServer/Services88``), the codec's one namespace, or none (``namespace=None``, the
  docs' trimmed sample; ``xmlns:i`` is still declared because nulls need it). Nested
  carriers of other namespaces are prefixed ``a1:``, ``a2:``... (see ``XmlCodec``);
* every property in declaration order; null ``<X i:nil="true" />``; empty string
  ``<X></X>``; empty array or dictionary ``<X />``;
* an array item is named by its type: ``<Emails><EntityElement>…``, the jagged
  ``LocalizedField[][]`` as ``<ArrayOfLocalizedField>`` items, strings as
  ``<d2p1:string>`` in the Microsoft Arrays namespace declared on the property element
  (``xmlns:d2p1``, also on an empty one, as .NET does);
* a string dictionary as ``<StringKeyValuePair><Key/><Value/></StringKeyValuePair>``
  items, FieldProperties as ``<FieldPropertyDictionaryKeyValuePair>`` items;
* bool ``true``/``false``; doubles as the shortest text that parses back to the same
  value (``0`` for zero, ``-0`` for negative zero); decimals in fixed point with every
  digit (``0.10``); Guids lowercase ``8-4-4-4-12``; bytes as base64; enums by name,
  flag enums space-separated (JSON ``"Read, Write"`` is ``Read Write``); a null
  nullable value type (``int?``) as ``<X i:nil="true" />``;
* text escapes ``&``, ``<``, ``>`` and a carriage return (``&#13;``, which a parser would
  otherwise turn into a line feed). A character XML 1.0 cannot carry (C0 controls other
  than tab, line feed and carriage return, lone surrogates, U+FFFE, U+FFFF) and a double
  that is NaN or infinite (JSON cannot carry them either) raise :class:`EncodeError`,
  located by the JSON pointer of the value.

A value that is not normalised (names in another case, fields missing, ints given as
floats) is normalised first, on a copy, so ``encode`` accepts what ``Schema.normalize``
accepts; what it rejects is an :class:`EncodeError` at the same JSON pointer.

Two generators write the same document: ``_WriterSource`` here, the reference (the
content of the root element, one f-string per carrier), and ``_FastWriterSource`` in
:mod:`~negotiate.codecs.xml.fast_write`, which ``XmlCodec.encode`` uses (the whole
document, with less work per element; its class docstring says what it saves). The
property tests hold them to the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from negotiate._codegen import SlowPath, Source
from negotiate.codecs._text import KNOWN_DATETIMES, known_datetime
from negotiate.codecs.xml.names import _ITEMS_DECL, _NIL, _item_name, _pair_name
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import (
    INT64_MAX,
    INT64_MIN,
    EnumSpec,
    fit_decimal,
    format_bytes,
    format_decimal,
    parse_guid,
)

__all__ = []

# Characters XML 1.0 cannot carry in any form (§2.2): C0 controls but tab, LF and CR,
# surrogates (only lone ones can occur in a Python str), U+FFFE and U+FFFF.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_C0 = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_MEMCHR_FROM = 600  # bytes: below, the one pass of translate beats 29 memchr calls


def _has_c0(data: bytes) -> bool:
    """Whether ``data`` holds a C0 control XML 1.0 cannot carry (all but TAB, LF, CR).

    PERF: one ``in`` per byte value, each a memchr over the whole buffer: 29 of them
    take half the time of one ``bytes.translate`` pass (a table lookup per byte) on a
    3 kB document, a quarter on 11 kB, and a tenth of a regex search; below
    :data:`_MEMCHR_FROM` bytes the calls cost more than the pass.
    """
    if len(data) < _MEMCHR_FROM:
        return len(data.translate(None, _C0)) != len(data)
    return (
        0 in data or 1 in data or 2 in data or 3 in data or 4 in data or 5 in data
        or 6 in data or 7 in data or 8 in data or 11 in data or 12 in data or 14 in data
        or 15 in data or 16 in data or 17 in data or 18 in data or 19 in data
        or 20 in data or 21 in data or 22 in data or 23 in data or 24 in data
        or 25 in data or 26 in data or 27 in data or 28 in data or 29 in data
        or 30 in data or 31 in data
    )  # fmt: skip


def _utf8_xml(text: str) -> bytes | None:
    """``text`` as UTF-8, or ``None`` if it holds a character XML 1.0 cannot carry.

    PERF: an ASCII document (the usual one) can hold no surrogate, U+FFFE or U+FFFF;
    the others are searched for as characters of the str (a search for three bytes in
    the UTF-8 was 4x slower), a lone surrogate fails the encoding, and the C0 controls
    are searched for in the bytes (:func:`_has_c0`).
    """
    if text.isascii():
        data = text.encode("ascii")
    elif "\ufffe" in text or "\uffff" in text:  # PERF: one char, searched in the str
        return None
    else:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return None
    return None if _has_c0(data) else data


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


# -- the generated writers --------------------------------------------------------------------
#
# The helpers below, and the generated code, raise SlowPath for a value that is not
# normalised: XmlCodec.encode then normalises a copy and writes that.


def _w_text(value: Any) -> str:
    if type(value) is not str:
        raise SlowPath
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        return _escape(value)
    return value


def _w_int(value: Any) -> str:
    if type(value) is not int or value > 2147483647 or value < -2147483648:
        raise SlowPath
    return str(value)


def _w_bool(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise SlowPath


def _w_double(value: Any) -> str:
    if type(value) is not float:
        raise SlowPath
    if value - value != 0.0:
        raise SlowPath  # NaN or infinite: the normaliser refuses it, located
    if value == 0.0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _w_int64(value: Any) -> str:
    if type(value) is not int or value > INT64_MAX or value < INT64_MIN:
        raise SlowPath
    return str(value)


def _w_decimal(value: Any) -> str:
    if type(value) is not Decimal:
        raise SlowPath
    try:
        if fit_decimal(value) is not value:
            raise SlowPath  # not normalised (an exponent): the normaliser writes it out
    except ValueError:
        raise SlowPath from None
    return format_decimal(value)


def _w_guid(value: Any) -> str:
    if type(value) is not str:
        raise SlowPath
    try:
        if parse_guid(value) != value:
            raise SlowPath
    except ValueError:
        raise SlowPath from None
    return value


def _w_bytes(value: Any) -> str:
    if type(value) is not bytes:
        raise SlowPath
    return format_bytes(value)


def _w_datetime(value: Any) -> str:
    if type(value) is not str:
        raise SlowPath
    if value not in KNOWN_DATETIMES:
        try:
            known_datetime(value)
        except ValueError:
            raise SlowPath from None
    return value


def _w_enum(spec: EnumSpec) -> Callable[[Any], str]:
    valid = spec.valid

    def write(value: Any) -> str:
        if type(value) is not str:
            raise SlowPath
        if value not in valid:
            try:
                if spec.normalize(value) != value:
                    raise SlowPath
            except ValueError:
                raise SlowPath from None
        return spec.to_xml(value)

    return write


def _not_normalised(_: Any = None) -> str:
    raise SlowPath


_HELPERS: dict[str, Any] = {
    "write_text": _w_text,
    "escape": _escape,
    "write_int32": _w_int,
    "write_bool": _w_bool,
    "write_double": _w_double,
    "write_datetime": _w_datetime,
    "write_int64": _w_int64,
    "write_decimal": _w_decimal,
    "write_guid": _w_guid,
    "write_bytes": _w_bytes,
    "not_normalised": _not_normalised,
    "known_datetimes": KNOWN_DATETIMES,
}
_SCALAR_WRITERS: dict[Kind, str] = {
    Kind.INT32: "write_int32",
    Kind.BOOL: "write_bool",
    Kind.DOUBLE: "write_double",
    Kind.DATETIME: "write_datetime",
    Kind.INT64: "write_int64",
    Kind.DECIMAL: "write_decimal",
    Kind.GUID: "write_guid",
    Kind.BYTES: "write_bytes",
}
_NOT_NAME = re.compile(r"\W")
# The value kinds written by their helper alone (the older ones have inline code).
_PLAIN_SCALARS = frozenset({Kind.INT64, Kind.DECIMAL, Kind.GUID})


class _WriterSource:
    """Generates one writing function per carrier reachable from a root schema.

    PERF: each carrier's children are one f-string over per-field locals; nested
    carriers, arrays and dictionaries are calls. No tree is built: this is several
    times faster than building an lxml tree and serialising it.
    """

    def __init__(self, root: Schema, per_carrier: bool) -> None:
        self.source = Source(f"XML writers for {root.name}", _HELPERS)
        self.root = root
        self.per_carrier = per_carrier
        # NOTE: keyed by the Schema object, never its name: two carriers of one name
        # (a user's Address and the catalogue's) are two writers.
        self.carriers: dict[Schema, str] = {}
        self.helpers: dict[Any, str] = {}
        self.enums: dict[int, str] = {}
        self.pending: list[Schema] = []
        self.taken: set[str] = set()
        # The prefix of every namespace but the root's, in the order first met.
        self.prefixes: dict[str, str] = {}

    def compile(self) -> Callable[[Any], str]:
        entry = self.carrier(self.root)
        while self.pending:
            self.write_carrier(self.pending.pop())
        writer: Callable[[Any], str] = self.source.compile()[entry]
        return writer

    def unique(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``... if the generated code has it already."""
        found, serial = name, 1
        while found in self.taken:
            serial += 1
            found = f"{name}_{serial}"
        self.taken.add(found)
        return found

    def prefix(self, schema: Schema) -> str:
        """The prefix (with its colon) of the elements ``schema`` declares; ``""`` if
        they are in the root's (default) namespace or the codec writes one namespace."""
        if not self.per_carrier or schema.xml_namespace == self.root.xml_namespace:
            return ""
        found = self.prefixes.get(schema.xml_namespace)
        if found is None:
            # NOTE: "a<n>", never .NET's "d<n>p<m>": those are declared on property
            # elements (the Arrays namespace's d2p1) and must not be shadowed.
            found = self.prefixes[schema.xml_namespace] = f"a{len(self.prefixes) + 1}:"
        return found

    def declarations(self) -> str:
        """The ``xmlns:a<n>`` declarations the root element carries."""
        return "".join(
            f' xmlns:{prefix[:-1]}="{_escape_attr(namespace)}"'
            for namespace, prefix in self.prefixes.items()
        )

    def item_name(self, item: FieldType) -> str:
        """An array item's element name: a carrier's DataContract name, in its namespace."""
        if item.kind is Kind.CARRIER:
            return self.prefix(item.schema) + item.schema.xml_name
        return _item_name(item)

    def enum_writer(self, spec: EnumSpec) -> str:
        """The name of the (one) writer of ``spec``'s values in the generated code."""
        found = self.enums.get(id(spec))
        if found is None:
            found = self.enums[id(spec)] = self.source.constant(
                _w_enum(spec), f"write_enum_{spec.name}"
            )
        return found

    def carrier(self, schema: Schema) -> str:
        name = self.carriers.get(schema)
        if name is None:
            name = self.carriers[schema] = self.unique(f"carrier_{schema.name}")
            self.pending.append(schema)
        return name

    def write_carrier(self, schema: Schema) -> None:
        body = [f"def {self.carriers[schema]}(d):"]
        body.append(f"    if type(d) is not dict or len(d) != {len(schema.fields)}: raise SlowPath")
        parts: list[str] = []
        prefix = self.prefix(schema)
        for index, field in enumerate(schema.fields):
            stmts, part = self.field(index, field.name, field.type, prefix)
            body.extend("    " + s for s in stmts)
            parts.append(part)
        fstring = "".join(parts).replace("\\", "\\\\").replace("'", "\\'")
        body.append(f"    return f'{fstring}'")
        self.source.extend([*body, ""])

    def field(
        self, index: int, key_name: str, ftype: FieldType, prefix: str
    ) -> tuple[list[str], str]:
        """Statements setting ``s<index>``, and the f-string part that writes it."""
        var = f"s{index}"
        key = repr(key_name)
        name = prefix + key_name
        kind = ftype.kind
        if ftype.nullable or kind is Kind.BYTES:
            # null is a value: written as a reference type's, <X i:nil="true" />
            return [
                f"v = d[{key}]",
                f"if v is None: {var} = {repr(f'<{name}{_NIL}')}",
                f"else: {var} = {self.element('v', ftype, name)}",
            ], f"{{{var}}}"
        if kind in _PLAIN_SCALARS:
            return [f"{var} = {_SCALAR_WRITERS[kind]}(d[{key}])"], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.INT32:
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not int or {var} > 2147483647 or {var} < -2147483648: "
                "raise SlowPath",
            ], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.BOOL:
            return [
                f"v = d[{key}]",
                f"if v is True: {var} = 'true'",
                f"elif v is False: {var} = 'false'",
                "else: raise SlowPath",
            ], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.DOUBLE:
            return [f"{var} = write_double(d[{key}])"], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.DATETIME:
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not str or {var} not in known_datetimes: "
                f"{var} = write_datetime({var})",
            ], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.ENUM:
            assert ftype.enum is not None
            write = self.enum_writer(ftype.enum)
            valid = self.source.constant(ftype.enum.valid, f"valid_{ftype.enum.name}")
            stmts = [
                f"{var} = d[{key}]",
                f"if type({var}) is not str or {var} not in {valid}: {var} = {write}({var})",
            ]
            if ftype.enum.flags:
                stmts.append(f"else: {var} = {var}.replace(', ', ' ')")
            return stmts, f"<{name}>{{{var}}}</{name}>"
        nil = repr(f"<{name}{_NIL}")
        if kind is Kind.STRING:
            return [
                f"v = d[{key}]",
                f"if v is None: {var} = {nil}",
                "else:",
                "    if type(v) is not str: raise SlowPath",
                "    if '&' in v or '<' in v or '>' in v or '\\r' in v: v = escape(v)",
                f"    {var} = {repr(f'<{name}>')} + v + {repr(f'</{name}>')}",
            ], f"{{{var}}}"
        return [
            f"v = d[{key}]",
            f"if v is None: {var} = {nil}",
            f"else: {var} = {self.element('v', ftype, name)}",
        ], f"{{{var}}}"

    def element(self, var: str, ftype: FieldType, name: str) -> str:
        """An expression writing element ``name`` holding the non-null value in ``var``."""
        kind = ftype.kind
        open_, close = repr(f"<{name}>"), repr(f"</{name}>")
        if kind is Kind.CARRIER:
            return f"{open_} + {self.carrier(ftype.schema)}({var}) + {close}"
        if kind is Kind.STRING:
            return f"{open_} + write_text({var}) + {close}"
        if kind in (Kind.ARRAY, Kind.DICT):
            assert ftype.item is not None
            attrs = (
                _ITEMS_DECL
                if kind is Kind.ARRAY and self.item_name(ftype.item).startswith("d2p1:")
                else ""
            )
            pytype = "list" if kind is Kind.ARRAY else "dict"
            content = self.container(ftype)
            full = f"{repr(f'<{name}{attrs}>')} + {content}({var}) + {close}"
            empty = repr(f"<{name}{attrs} />")
            return (
                f"(({full}) if {var} else {empty}) if type({var}) is {pytype} else not_normalised()"
            )
        return f"{open_} + {self.scalar(ftype)}({var}) + {close}"

    def scalar(self, ftype: FieldType) -> str:
        if ftype.kind is Kind.ENUM:
            assert ftype.enum is not None
            return self.enum_writer(ftype.enum)
        return _SCALAR_WRITERS[ftype.kind]

    def container(self, ftype: FieldType) -> str:
        """A helper ``(value) -> str`` writing the items of an array or dictionary."""
        key = ftype.shape
        found = self.helpers.get(key)
        if found is not None:
            return found
        fname = self.helpers[key] = self.unique("items_" + _NOT_NAME.sub("_", ftype.spec))
        item = ftype.item
        assert item is not None
        if ftype.kind is Kind.ARRAY:
            elem = self.item_name(item)
            nil = repr(f"<{elem}{_NIL}")
            body = [
                f"def {fname}(v):",
                f"    return ''.join([{nil} if x is None else {self.element('x', item, elem)} "
                "for x in v])",
            ]
        else:
            pair = _pair_name(item)
            nil = repr(f"<Value{_NIL}")
            open_, close = repr(f"<{pair}><Key>"), repr(f"</{pair}>")
            value = self.element("x", item, "Value")
            body = [
                f"def {fname}(v):",
                f"    return ''.join([{open_} + write_text(k) + '</Key>' + ({nil} if x is None "
                f"else {value}) + {close} for k, x in v.items()])",
            ]
        self.source.extend([*body, ""])
        return fname


# -- the fast writers ---------------------------------------------------------------------------
#
# Writers by (root schema, per carrier namespace); the Schema object is the key.
_WRITERS: dict[tuple[Schema, bool], tuple[Callable[[Any], str], str]] = {}
_SOURCES: dict[Schema, Source] = {}  # the per-carrier writers' code, for inspection


def _written(schema: Schema, per_carrier: bool = True) -> tuple[Callable[[Any], str], str]:
    """The writer of ``schema``'s content, and the namespace declarations it needs on
    the root element (``xmlns:a1=...``, only for a graph of several namespaces)."""
    found = _WRITERS.get((schema, per_carrier))
    if found is None:
        generated = _WriterSource(schema, per_carrier)
        writer = generated.compile()
        found = _WRITERS[(schema, per_carrier)] = (writer, generated.declarations())
        if per_carrier:
            _SOURCES[schema] = generated.source
    return found


def _writer(schema: Schema, per_carrier: bool = True) -> Callable[[Any], str]:
    """The writer of ``schema``'s content (see :func:`_written`)."""
    return _written(schema, per_carrier)[0]


def _find_invalid(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first string (or key) XML cannot carry, if any."""
    stack: list[tuple[Any, str]] = [(value, pointer)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if _INVALID_XML.search(node):
                return where
        elif isinstance(node, dict):
            for key, child in reversed(node.items()):
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                if isinstance(key, str) and _INVALID_XML.search(key):
                    return f"{where}/{escaped}"
                stack.append((child, f"{where}/{escaped}"))
        elif isinstance(node, list):
            stack.extend((child, f"{where}/{i}") for i, child in reversed(list(enumerate(node))))
    return None
