"""Reading XML with a schema: a general reader per carrier, and a generated fast one.

Reading (``decode``) is lenient where real peers differ and strict where data would be
lost:

* Elements match by local name, in any namespace or none, properties by name exact
  first and then case-insensitively (as JSON binds them), in any order. An element the
  carrier does not declare follows :attr:`Options.unknown`. A property given twice is a
  400.
* The root is accepted when its local name is the carrier's name (so
  ``EnrichContactEntityRequest`` for the request wrapper) or when its ``xsi:type`` names
  the carrier (the SOAP style ``<AI:Contact xsi:type="AI:ContactEntity">``); a nil
  root is a 400, as JSON ``null`` is.
* ``nil`` is honoured only in the XML Schema instance namespace (any prefix), on an
  empty element (an element with content is read as its content: nothing is lost). A nil
  value-type property (the SOAP reference's ``<ValueLength xsi:nil="true">``) means "not
  given": it gets its default. ``nil`` with a value other than ``true``/``false``/
  ``1``/``0`` is a 400.
* Array items and dictionary pairs are every child element, whatever their name
  (.NET names them by type; a client naming them otherwise still binds); inside a
  pair, ``Key`` and ``Value`` match by local name. A pair without a ``Key``, a nil key
  and a key given twice are 400s; a pair without ``Value`` has a null value.
* ``xsi:type`` and every other attribute are ignored; comments and processing
  instructions are dropped; whitespace between elements is ignored, other text where
  only elements belong is a 400. String values keep their whitespace exactly; other
  scalars are trimmed, then parsed strictly (int32 range, ``true``/``false``/``1``/
  ``0``, finite doubles, ISO 8601 date-times kept as text, enum names in any case,
  flags separated by spaces or commas).
* Errors are located by an XML path with 1-based positions, as XPath counts them:
  ``/ContactEntity/Persons/Person[2]/Rank``. The result then passes through the schema's
  normaliser, as JSON's does, so defaults, order and limits are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from negotiate._codegen import Source
from negotiate.codecs._text import XML_SCALARS, parse_int32_text, scalar_parser
from negotiate.codecs.base import clip
from negotiate.codecs.xml.names import _XSI_NIL, _XSI_TYPE, _item_name, _local, _pair_name
from negotiate.codecs.xml.parse import _check_ignored, _position
from negotiate.errors import InvalidValue, NegotiateError, excerpt
from negotiate.options import Options
from negotiate.schema import FieldType, Kind, Schema

__all__ = []

_Reader = Callable[[Any], Any]
_MEMO_LIMIT = 512

# How a child element is read (the second item of a binding).
_SKIP, _STRING, _INT, _SCALAR, _NODE = range(5)


def _nil(el: Any) -> bool:
    """Whether an empty element is ``i:nil="true"`` (only the XSI namespace counts).

    NOTE: only empty elements are asked (an element with content is read as its
    content), and through ``items()``: ``get`` of a namespaced attribute is the
    costliest accessor lxml has.
    """
    for name, flag in el.items():
        if name == _XSI_NIL:
            text = flag.strip()
            if text in ("true", "1"):
                return True
            if text in ("false", "0"):
                return False
            raise InvalidValue(f"Expected i:nil to be true or false, got {excerpt(flag)}")
    return False


def _empty(el: Any) -> bool:
    if len(el):
        return False
    text = el.text
    return text is None or text.isspace()


def _snippet(text: str) -> str:
    return excerpt(text.strip(), 40)


def _no_text(el: Any) -> None:
    text = el.text
    if text is not None and not text.isspace():
        raise InvalidValue(f"Unexpected text {_snippet(text)} where elements belong")


def _no_tail(child: Any) -> None:
    tail = child.tail
    if tail is not None and not tail.isspace():
        raise InvalidValue(f"Unexpected text {_snippet(tail)} after this element")


def _not_text(el: Any) -> InvalidValue:
    return InvalidValue(f"Expected text, got element <{clip(_local(el[0].tag))}>")


def _leaf(el: Any) -> str | None:
    """The text of an element that holds a scalar, or ``None`` when it is nil."""
    if len(el):
        raise _not_text(el)
    text: str | None = el.text
    if text is None:
        return None if _nil(el) else ""
    return text


def _value(code: int, read: Any, el: Any) -> Any:
    """An array item or dictionary value (``None`` for nil)."""
    if code == _NODE:
        return None if _empty(el) and _nil(el) else read(el)
    text = _leaf(el)
    if code == _STRING or text is None:
        if text is None and code != _STRING:
            raise InvalidValue("A value type cannot be nil here")
        return text
    return read(text)


def _text_of(parse: Any) -> _Reader:
    """A reader of a non-nil scalar element, by the text parser ``parse``."""

    def read(el: Any) -> Any:
        return parse(_leaf(el) or "")

    return read


_ROLES: dict[str, str] = {}


def _role(tag: str) -> str:
    role = _ROLES.get(tag)
    if role is None:
        role = _local(tag).lower()
        # NOTE: only short tags: a client's tag (its namespace is any string) is
        # otherwise kept for the life of the process.
        if len(tag) <= 256 and len(_ROLES) < _MEMO_LIMIT:
            _ROLES[tag] = role
    return role


def _pair_parts(pair: Any) -> tuple[Any, Any]:
    """The ``Key`` and ``Value`` elements of a dictionary entry (``Value`` may be missing)."""
    if len(pair) == 2:
        key_el, value_el = pair[0], pair[1]
        if _role(key_el.tag) == "key" and _role(value_el.tag) == "value":
            return key_el, value_el
    key_el = value_el = None
    for part in pair:
        role = _role(part.tag)
        if role == "key" and key_el is None:
            key_el = part
        elif role == "value" and value_el is None:
            value_el = part
        else:
            what = "given more than once" if role in ("key", "value") else "not Key or Value"
            raise InvalidValue(f"Element <{clip(_local(part.tag))}> is {what}").at(
                _position(part), style="xml"
            )
    if key_el is None:
        raise InvalidValue("A dictionary entry needs a Key element")
    return key_el, value_el


class _Readers:
    """The reading functions of one codec (its options), built lazily and memoised.

    PERF: lxml's accessors dominate (``tag``, ``text``, and above all ``get`` of a
    namespaced attribute), so each child is touched as few times as possible: one
    ``tag`` looked up in a per-carrier table, ``text`` and ``len`` for a scalar, ``nil``
    only for empty elements, and the common scalars parsed inline.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.carriers: dict[Schema, _Reader] = {}
        # NOTE: by type shape with carriers by Schema object (FieldType.shape), not spec.
        self.entries: dict[Any, tuple[int, Any]] = {}
        self.sources: dict[Schema, Source] = {}  # the fast readers' code, for inspection

    def entry(self, ftype: FieldType) -> tuple[int, Any]:
        """``(code, reader)``: reader takes the element (``_NODE``) or the text."""
        key = ftype.shape
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = self._entry(ftype)
        return found

    def _entry(self, ftype: FieldType) -> tuple[int, Any]:
        kind = ftype.kind
        if kind is Kind.STRING:
            return _STRING, None
        if ftype.nullable or kind is Kind.BYTES:
            # NOTE: null is a value of these (int?, byte[]): read as an element, which
            # the general code takes as None when it is nil, in fields and items alike.
            return _NODE, _text_of(scalar_parser(ftype, XML_SCALARS))
        if kind is Kind.INT32:
            return _INT, parse_int32_text
        if kind is Kind.CARRIER:
            return _NODE, self.late(ftype.schema)
        if kind in (Kind.ARRAY, Kind.DICT):
            assert ftype.item is not None
            if kind is Kind.ARRAY:
                return _NODE, self._array(ftype.item)
            return _NODE, self._dict(ftype.item)
        return _SCALAR, scalar_parser(ftype, XML_SCALARS)

    def carrier(self, schema: Schema) -> _Reader:
        """The reader of a carrier element: the fast positional one, else the general one."""
        found = self.carriers.get(schema)
        if found is None:
            general = self.carriers[schema] = self._carrier(schema)
            found = self.carriers[schema] = _fast_reader(schema, general, self)
        return found

    def late(self, schema: Schema) -> _Reader:
        """A reader that looks the carrier's reader up when called (carriers can recurse)."""
        carriers = self.carriers

        def read(el: Any) -> Any:
            return carriers[schema](el)

        self.carrier(schema)
        return read

    def _carrier(self, schema: Schema) -> _Reader:
        table: dict[str, tuple[str, int, Any]] = {}
        names = list(schema.names)
        size = len(names)
        options = self.options
        strict = options.unknown == "error"
        limit = options.max_items
        skip = ("", _SKIP, None)

        def bind(tag: str) -> tuple[str, int, Any]:
            local = _local(tag)
            field = schema.field(local)
            if field is None:
                if strict:
                    raise InvalidValue(f"Unknown property {excerpt(local)} for {schema.name}")
                entry = skip
            else:
                entry = (field.name, *self.entry(field.type))
            if len(table) < _MEMO_LIMIT:
                table[tag] = entry
            return entry

        def read(el: Any) -> dict[str, Any]:
            text = el.text
            if text is not None and not text.isspace():
                _no_text(el)
            out: dict[str, Any] = {}
            # PERF: a slice builds the child list in C, faster than iterating.
            children = el[:]
            expected = len(children)  # NOTE: a duplicate shows as len(out) < expected
            skipped = 0
            for child in children:
                try:
                    tail = child.tail
                    if tail is not None and not tail.isspace():
                        _no_tail(child)
                    tag = child.tag
                    name, code, reader = table.get(tag) or bind(tag)
                    if code == _STRING:
                        value = child.text
                        if value is None or len(child):
                            value = _leaf(child)
                    elif code == _INT:
                        value = child.text
                        if (
                            value is not None
                            and len(value) < 10
                            and value.isdigit()
                            and value.isascii()
                            and not len(child)
                        ):
                            value = int(value)
                        else:
                            value = _leaf(child)
                            if value is None:
                                expected -= 1
                                continue
                            value = parse_int32_text(value)
                    elif code == _NODE:
                        if (
                            not len(child)
                            and ((t := child.text) is None or t.isspace())
                            and _nil(child)
                        ):
                            value = None
                        else:
                            value = reader(child)
                    elif code == _SCALAR:
                        value = _leaf(child)
                        if value is None:
                            expected -= 1
                            continue
                        value = reader(value)
                    else:
                        skipped += 1
                        if skipped > limit:
                            raise InvalidValue(
                                f"Too many unknown properties for {schema.name} (limit {limit})",
                                limit=limit,
                            )
                        if len(child):
                            _check_ignored(child, options)
                        expected -= 1
                        continue
                    out[name] = value
                except ValueError as exc:
                    raise InvalidValue(str(exc)).at(_local(child.tag), style="xml") from None
                except NegotiateError as exc:
                    raise exc.at(_local(child.tag), style="xml") from None
            if len(out) != expected:
                _duplicate(children, table, schema)
            if len(out) != size or list(out) != names:
                # every field, in declaration order: the normaliser then rebinds nothing
                full = schema.default()
                full.update(out)
                return full
            return out

        return read

    def _array(self, item: FieldType) -> _Reader:
        limit = self.options.max_items
        code, reader = self.entry(item)

        def read(el: Any) -> list[Any]:
            if len(el) > limit:
                raise InvalidValue(f"Too many items: {len(el)} (limit {limit})")
            text = el.text
            if text is not None and not text.isspace():
                _no_text(el)
            out: list[Any] = []
            append = out.append
            for child in el[:]:
                try:
                    if code == _NODE:
                        if _empty(child) and _nil(child):
                            append(None)
                        else:
                            append(reader(child))
                    else:
                        append(_value(code, reader, child))
                    tail = child.tail
                    if tail is not None and not tail.isspace():
                        _no_tail(child)
                except ValueError as exc:
                    raise InvalidValue(str(exc)).at(_position(child), style="xml") from None
                except NegotiateError as exc:
                    raise exc.at(_position(child), style="xml") from None
            return out

        return read

    def _dict(self, item: FieldType) -> _Reader:
        limit = self.options.max_items
        code, reader = self.entry(item)

        def read(el: Any) -> dict[str, Any]:
            if len(el) > limit:
                raise InvalidValue(f"Too many items: {len(el)} (limit {limit})")
            _no_text(el)
            out: dict[str, Any] = {}
            for pair in el[:]:
                part = None
                try:
                    parts = pair[:]
                    # PERF: .NET's exact shape, <Key>k</Key><Value>...</Value>, inline
                    if len(parts) == 2 and pair.text is None and pair.tail is None:
                        key_el, value_el = parts
                        key = key_el.text
                        if (
                            key is not None
                            and key_el.tag == "Key"
                            and value_el.tag == "Value"
                            and key_el.tail is None
                            and value_el.tail is None
                            and not len(key_el)
                            and key not in out
                        ):
                            part = value_el
                            if code == _STRING:
                                value = value_el.text
                                if value is None or len(value_el):
                                    value = _leaf(value_el)
                                out[key] = value
                                continue
                            if code == _NODE and len(value_el):
                                out[key] = reader(value_el)
                                continue
                            part = None
                    text = pair.text
                    if text is not None and not text.isspace():
                        _no_text(pair)
                    key_el, value_el = _pair_parts(pair)
                    part = key_el
                    key = _leaf(key_el)
                    if key is None:
                        raise InvalidValue("A dictionary key cannot be nil")
                    if key in out:
                        raise InvalidValue(f"Key {excerpt(key)} is given more than once")
                    if value_el is None:
                        out[key] = None
                    else:
                        part = value_el
                        if code == _STRING:
                            out[key] = _leaf(value_el)
                        else:
                            out[key] = _value(code, reader, value_el)
                        tail = value_el.tail
                        if tail is not None and not tail.isspace():
                            _no_tail(value_el)
                    part = key_el
                    _no_tail(key_el)
                    part = None
                    _no_tail(pair)
                except ValueError as exc:
                    error = InvalidValue(str(exc))
                    if part is not None:
                        error.at(_local(part.tag), style="xml")
                    raise error.at(_position(pair), style="xml") from None
                except NegotiateError as exc:
                    if part is not None:
                        exc.at(_local(part.tag), style="xml")
                    raise exc.at(_position(pair), style="xml") from None
            return out

        return read


def _fast_reader(schema: Schema, general: _Reader, readers: _Readers) -> _Reader:
    """Generate a reader for elements in exactly .NET's shape, falling back to ``general``.

    PERF: DataContractSerializer writes every property, in declaration order, without
    namespace prefixes. For such an element the generated code compares each child's
    tag with the expected name by position, reads the common scalars inline into
    locals and builds the carrier with one dict display: no table lookups and no
    per-field stores. Anything else (another order, a missing or unknown element, a
    prefix, a nil value type, bad text) returns the general reader's result, which
    also locates any error.
    """
    source = Source(
        f"XML reader for {schema.name}",
        {"general": general, "_nil": _nil, "_leaf": _leaf, "NegotiateError": NegotiateError},
    )
    source.add(
        "def read(el):",
        "    try:",
        "        ch = el[:]",
        f"        if len(ch) != {len(schema.fields)}: return general(el)",
        "        t = el.text",
        "        if t is not None and not t.isspace(): return general(el)",
    )
    for index, field in enumerate(schema.fields):
        var = f"v{index}"
        source.add(
            f"        c = ch[{index}]",
            f"        if c.tag != {field.name!r}: return general(el)",
            "        t = c.tail",
            "        if t is not None and not t.isspace(): return general(el)",
        )
        code, reader = readers.entry(field.type)
        if code == _STRING:
            source.add(
                "        if len(c): return general(el)",
                f"        {var} = c.text",
                f"        if {var} is None: {var} = None if _nil(c) else ''",
            )
        elif code == _INT:
            source.add(
                "        if len(c): return general(el)",
                "        t = c.text",
                "        if t is None or len(t) > 9 or not t.isdigit() or not t.isascii(): "
                "return general(el)",
                f"        {var} = int(t)",
            )
        elif field.type.kind is Kind.BOOL:
            source.add(
                "        if len(c): return general(el)",
                "        t = c.text",
                f"        if t == 'true': {var} = True",
                f"        elif t == 'false': {var} = False",
                "        else: return general(el)",
            )
        elif code == _SCALAR:
            parse = source.constant(reader, f"parse_{field.type.spec}")
            source.add(
                "        t = _leaf(c)",
                "        if t is None: return general(el)",
                f"        {var} = {parse}(t)",
            )
        else:
            read = source.constant(reader, f"read_{field.type.spec}")
            source.add(
                "        if not len(c) and ((t := c.text) is None or t.isspace()) and _nil(c):",
                f"            {var} = None",
                "        else:",
                f"            {var} = {read}(c)",
            )
    items = ", ".join(f"{field.name!r}: v{i}" for i, field in enumerate(schema.fields))
    source.add(
        f"        return {{{items}}}",
        "    except (NegotiateError, ValueError):",
        "        return general(el)",
    )
    fast: _Reader = source.compile()["read"]
    readers.sources[schema] = source
    return fast


def _duplicate(children: list[Any], table: dict[str, tuple[str, int, Any]], schema: Schema) -> None:
    """Raise for the second element that binds to an already given property."""
    seen: set[str] = set()
    for child in children:
        name, code, _ = table.get(child.tag) or ("", _SKIP, None)
        if code == _SKIP or (code != _STRING and code != _NODE and _empty(child) and _nil(child)):
            continue
        if name in seen:
            raise InvalidValue(f"{schema.name}.{name} is given more than once").at(
                _position(child), style="xml"
            )
        seen.add(name)


def _root_matches(root: Any, schema: Schema) -> bool:
    local = _local(root.tag)
    # NOTE: the DataContract name, or the class name (what the codec wrote before
    # carriers had their own names); any case.
    names = (schema.xml_name.casefold(), schema.name.casefold())
    if local == schema.xml_name or local.casefold() in names:
        return True
    declared: str | None = root.get(_XSI_TYPE)
    if declared is None:
        return False
    return declared.rpartition(":")[2].strip().casefold() in names


def _xpath(schema: Schema, root: str, pointer: str, value: Any) -> str:
    """Translate a JSON pointer from the normaliser into an XML path (best effort)."""
    out = "/" + root
    if not pointer:
        return out
    segments = [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]
    ftype: FieldType | None = schema.root_type
    current: Any = value
    for segment in segments:
        if ftype is None:
            out += "/" + segment
            continue
        if ftype.kind is Kind.CARRIER:
            field = ftype.schema.field(segment)
            out += "/" + segment
            ftype = field.type if field is not None else None
        elif ftype.kind is Kind.ARRAY and segment.isdigit():
            assert ftype.item is not None
            out += f"/{_item_name(ftype.item)}[{int(segment) + 1}]"
            ftype = ftype.item
        elif ftype.kind is Kind.DICT:
            assert ftype.item is not None
            keys = list(current) if isinstance(current, dict) else []
            position = keys.index(segment) + 1 if segment in keys else 1
            out += f"/{_pair_name(ftype.item)}[{position}]/Value"
            ftype = ftype.item
        else:
            out += "/" + segment
            ftype = None
        if isinstance(current, dict):
            current = current.get(segment)
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            current = None
    return out
