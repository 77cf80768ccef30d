"""XML (``application/xml``, ``text/xml``) in the shape .NET's DataContractSerializer writes.

Writing (``encode``), exactly what WIRE.md records of a real server:

* one line, UTF-8, no XML declaration (DataContractSerializer writes none; UTF-8 is
  XML's default and the Content-Type says ``charset=utf-8``);
* the root element is the carrier's name and declares ``xmlns:i`` (XML Schema
  instance) and the default namespace, ``http://www.superoffice.net/ws/crm/NetServer/
  Services88`` unless the codec was built with another one or ``namespace=None`` (the
  docs' trimmed sample; ``xmlns:i`` is still declared because nulls need it);
* every property in declaration order; null ``<X i:nil="true" />``; empty string
  ``<X></X>``; empty array or dictionary ``<X />``;
* an array item is named by its type: ``<Emails><EntityElement>…``, the jagged
  ``LocalizedField[][]`` as ``<ArrayOfLocalizedField>`` items, strings as
  ``<d2p1:string>`` in the Microsoft Arrays namespace declared on the property element
  (``xmlns:d2p1``, also on an empty one, as .NET does);
* a string dictionary as ``<StringKeyValuePair><Key/><Value/></StringKeyValuePair>``
  items, FieldProperties as ``<FieldPropertyDictionaryKeyValuePair>`` items;
* bool ``true``/``false``; doubles as the shortest text that parses back to the same
  value (``0`` for zero, ``-0`` for negative zero); enums by name, flag enums
  space-separated (JSON ``"Read, Write"`` is ``Read Write``);
* text escapes ``&``, ``<``, ``>`` and a carriage return (``&#13;``, which a parser would
  otherwise turn into a line feed). A character XML 1.0 cannot carry (C0 controls other
  than tab, line feed and carriage return, lone surrogates, U+FFFE, U+FFFF) and a double
  that is NaN or infinite (JSON cannot carry them either) raise :class:`EncodeError`,
  located by the JSON pointer of the value.

A value that is not normalised (names in another case, fields missing, ints given as
floats) is normalised first, on a copy, so ``encode`` accepts what ``Schema.normalize``
accepts; what it rejects is an :class:`EncodeError` at the same JSON pointer.

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

Hardening: the body is parsed by lxml with entity resolution, DTD loading and network
access off. A DOCTYPE (only the prolog may hold one) is refused with a 400 before the
parser runs, so a billion-laughs or external-entity document is never expanded or
fetched (and, in depth, a parsed document with a DOCTYPE is refused too); nesting deeper
than 256 elements is a 400, and :attr:`Options.max_depth` and :attr:`Options.max_items`
apply as for JSON, to elements the schema ignores too. A bare entity reference (``&x;``)
without a DTD is a syntax error, so a 400. A body over 10 MB is parsed in libxml2's huge
mode, which lifts only its size limits (so that a text node over 10 MB, which the writer
may write, reads back): :attr:`Options.max_body` bounds the sizes instead.

Work budget: a document's elements and attributes count against :attr:`Options.max_nodes`.
Byte counts clear most bodies before parsing; one they cannot clear is fed to a pull
parser chunk by chunk, counted between chunks, and refused at the first chunk that goes
past the budget: a 400 at the XML path of the first node past it.

Character encoding (RFC 7303 §3.2): a byte order mark wins, then the ``charset``
parameter, then the XML declaration's ``encoding``, else UTF-8. The charset parameter
beats the declaration because it is what the HTTP layer knows about the bytes it
carries (a proxy that transcodes updates the header, never the declaration); the BOM
beats both because it is evidence in the bytes themselves. Non-UTF-8 bodies are
transcoded before parsing. An unknown charset or declared encoding is a 415; bytes that
are invalid in the chosen encoding are a 400.

Without a schema the codec follows xmltodict's conventions (``process_namespaces=False``):
an element becomes a dict of its children, ``@name`` for an attribute (names as written,
with their prefix; namespace declarations as ``@xmlns`` / ``@xmlns:p``, listed before other
attributes), ``#text`` for its text when it also has attributes or children; an element
with neither is its text, whitespace-trimmed, or ``None`` when empty; a repeated child
becomes a list; comments are dropped. The document is ``{root name: content}``. Encoding
takes such a dict with exactly one root: lists repeat the element, ``None`` is an empty
element, ``@xmlns`` may be a dict of prefix to URI, bools are ``true``/``false``, numbers
their text, ``#comment`` a comment; an empty list writes nothing. No XML declaration is
written (xmltodict writes one), and element names must be XML names with declared prefixes.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable
from typing import Any, ClassVar, Final, cast

from lxml import etree

from negotiate.codecs.base import BaseCodec, clip, too_many_nodes
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.media import MEDIA_TEXT_XML, MEDIA_XML, MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import (
    EnumSpec,
    check_datetime,
    describe,
    parse_bool,
    parse_double,
    parse_int32,
)

__all__ = [
    "ARRAYS_NAMESPACE",
    "SERVICES88_NAMESPACE",
    "XSI_NAMESPACE",
    "XmlCodec",
    "parse_xml",
    "text_codec",
]

XSI_NAMESPACE: Final = "http://www.w3.org/2001/XMLSchema-instance"
SERVICES88_NAMESPACE: Final = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ARRAYS_NAMESPACE: Final = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

_XSI_NIL: Final = f"{{{XSI_NAMESPACE}}}nil"
_XSI_TYPE: Final = f"{{{XSI_NAMESPACE}}}type"
_ITEMS_DECL: Final = f' xmlns:d2p1="{ARRAYS_NAMESPACE}"'
_NIL: Final = ' i:nil="true" />'

# Characters XML 1.0 cannot carry in any form (§2.2): C0 controls but tab, LF and CR,
# surrogates (only lone ones can occur in a Python str), U+FFFE and U+FFFF.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_C0 = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))


def _utf8_xml(text: str) -> bytes | None:
    """``text`` as UTF-8, or ``None`` if it holds a character XML 1.0 cannot carry.

    PERF: encoding and deleting the C0 controls are C loops over bytes, several times
    faster than a regex search over the whole document.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    if len(data.translate(None, _C0)) != len(data):
        return None
    if b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:  # U+FFFE, U+FFFF
        return None
    return data


# -- character encodings --------------------------------------------------------------------

# NOTE: an allow-list of plain text encodings: codecs.lookup() also knows transforms
# (rot13, zlib) and multi-byte legacy codecs whose decoders we have no reason to expose.
_TEXT_CODECS = frozenset(
    {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "ascii"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {f"cp{n}" for n in range(1250, 1259)}
    | {"latin-1", "koi8-r", "koi8-u"}
)
_UTF8_NAMES = frozenset({"utf-8", "ascii"})
_SUPPORTED = ["utf-8", "utf-16", "utf-32", "us-ascii", "iso-8859-1", "windows-1252"]


def text_codec(charset: str) -> str | None:
    """Python's codec name for a charset label, or ``None`` if it is not supported.

    Args:
        charset: a label as found in a ``charset`` parameter or an XML declaration
            (``UTF-8``, ``latin1``, ``windows-1252``...).

    Returns:
        The canonical codec name (``utf-8``, ``iso8859-1``, ``cp1252``...) or ``None``.
    """
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError):
        return None
    return name if name in _TEXT_CODECS else None


_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# XML 1.0 Appendix F: "<?xm" in UTF-16/32 without a byte order mark.
_SNIFF: Final = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
_DECLARED = re.compile(
    rb"""<\?xml\s[^>]*?\bencoding\s*=\s*(?:"([A-Za-z][\w.\-]*)"|'([A-Za-z][\w.\-]*)')""",
    re.ASCII,
)


def _utf8_body(body: bytes, media_type: MediaType | None) -> bytes:
    """The document as UTF-8 bytes, chosen as the module docstring says."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            if name == "utf-8":
                return body[len(bom) :]
            return _transcode(body, name, "byte order mark")
    charset = media_type.charset if media_type is not None else None
    if charset is not None:
        codec = text_codec(charset)
        if codec is None:
            raise UnsupportedMediaType(
                f"Unsupported charset {excerpt(charset)} for XML", supported=_SUPPORTED
            )
        return body if codec in _UTF8_NAMES else _transcode(body, codec, "charset parameter")
    head = body[:4]
    for magic, name in _SNIFF:
        if head == magic:
            return _transcode(body, name, "byte pattern of its first characters")
    match = _DECLARED.match(body, 0, 512)
    if match is None:
        return body
    label = (match[1] or match[2]).decode("ascii")
    codec = text_codec(label)
    if codec is None:
        raise UnsupportedMediaType(
            f"Unsupported encoding {excerpt(label)} in the XML declaration", supported=_SUPPORTED
        )
    return body if codec in _UTF8_NAMES else _transcode(body, codec, "XML declaration")


def _transcode(body: bytes, name: str, source: str) -> bytes:
    try:
        text = body.decode(name)
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"Body is not valid {name} (from the {source}): {exc.reason} at byte {exc.start}"
        ) from None
    if text[:1] == "\ufeff":
        text = text[1:]
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate decoded from UTF-32
        raise MalformedBody(f"Body is not valid {name}: {exc.reason}") from None


# -- hardened parsing -----------------------------------------------------------------------


def _parser_options(huge: bool) -> dict[str, Any]:
    # NOTE: encoding="utf-8" overrides the document's declaration: _utf8_body has
    # already transcoded the bytes, and the declaration may still name the original.
    return {
        "encoding": "utf-8",
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": huge,
        "remove_comments": True,
        "remove_pis": True,
        "remove_blank_text": False,
        "collect_ids": False,
    }


def _parser(huge: bool = False) -> etree.XMLParser:
    return etree.XMLParser(**_parser_options(huge))


_PARSER = _parser()
# NOTE: libxml2 refuses a text node, attribute value or start tag over 10,000,000
# bytes unless XML_PARSE_HUGE is set, and the writer must be able to send any text
# within max_body. "huge" lifts libxml2's size limits (text, names, buffers, to 1 GB)
# and its depth limit (256 to 2048), nothing else: the DTD, entity and network
# options stay off, and without a DTD there is no entity to amplify. In their place:
# max_body bounds every size, max_nodes the node count, and _DEEPER puts the depth
# limit of 256 back. It is used only for bodies over 10 MB, the only ones that can
# reach those size limits (names are kept under theirs by the writer).
_HUGE_PARSER = _parser(huge=True)
_HUGE_FROM = 10_000_000
_LIBXML_DEPTH = 256
_DEEPER = etree.XPath("boolean(" + "/".join(["*"] * _LIBXML_DEPTH) + ")")
_FEED = 1 << 16
_NODES = "XML elements and attributes"
_ROOT_NAME = re.compile(rb"<([^\s/>!?]+)")
_AFTER = "descendant::* | following::*"
_NEW_NODES = etree.XPath(f"count({_AFTER}) + count(({_AFTER})/@*)")
# PERF: valid date-times seen (bounded), shared by reader and writer.
_DATETIMES: set[str] = set()
_SPACE = b" \t\r\n"


def _check_prolog(body: bytes) -> int:
    """Refuse a DOCTYPE before any parser sees it; returns where the root element starts.

    Only the prolog (before the root element) may hold a DOCTYPE; one anywhere else is
    a syntax error the parser reports without reading it.
    """
    pos, end = 0, len(body)
    while pos < end:
        while pos < end and body[pos] in _SPACE:
            pos += 1
        if body.startswith(b"<?", pos):
            close, length = body.find(b"?>", pos + 2), 2
        elif body.startswith(b"<!--", pos):
            close, length = body.find(b"-->", pos + 4), 3
        else:
            break
        if close < 0:
            return end  # unterminated: the parser reports it
        pos = close + length
    if body.startswith(b"<!", pos) and body[pos + 2 : pos + 9].upper() == b"DOCTYPE":
        raise MalformedBody(
            "XML with a DOCTYPE is not accepted (no DTDs, no entity declarations)",
            location="/",
        )
    return pos


# The root's start tag, attribute by attribute, and a default namespace declaration in it.
_START_TAG = re.compile(rb"""<[^\s/>!?]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')""")


def _blank_default_namespace(body: bytes, root: int) -> bytes:
    """``body`` with the root's ``xmlns="..."`` overwritten by spaces.

    PERF: matching is by local name anyway, and lxml builds every ``tag`` of a
    namespaced element as a new ``{uri}local`` string, which costs a third of the walk.
    Spaces of the same length keep the parser's line and column numbers true.
    """
    match = _START_TAG.match(body, root)
    if match is None or b"xmlns" not in match[0]:
        return body
    tag = match[0]
    for attribute in _ATTRIBUTE.finditer(tag):
        if attribute[1] == b"xmlns":
            start, end = attribute.span()
            tag = tag[:start] + b" " * (end - start) + tag[end:]
    return body[:root] + tag + body[match.end() :]


def parse_xml(
    body: bytes,
    media_type: MediaType | None = None,
    *,
    keep_default_namespace: bool = True,
    max_nodes: int | None = None,
) -> Any:
    """Parse a document with the hardened parser; returns the root element.

    Args:
        body: the raw bytes.
        media_type: the Content-Type (its charset is honoured).
        keep_default_namespace: ``False`` drops the root's default namespace
            declaration, so unprefixed elements have plain tags (faster to read).
        max_nodes: if given, the most elements and attributes the document may
            hold; parsing stops at the first one past it.

    Raises:
        MalformedBody: not well-formed, a DOCTYPE, too deep, bad bytes, or over
            ``max_nodes`` (located by the XML path of the first node past it).
        UnsupportedMediaType: the charset or declared encoding is not supported.
    """
    data = _utf8_body(body, media_type)
    start = _check_prolog(data)
    if not keep_default_namespace:
        data = _blank_default_namespace(data, start)
    huge = len(data) > _HUGE_FROM
    try:
        if max_nodes is not None and _may_exceed(data, max_nodes):
            root = _parse_counting(data, start, max_nodes, huge)
        else:
            root = etree.fromstring(data, _HUGE_PARSER if huge else _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    if huge and _DEEPER(root):
        raise MalformedBody(f"XML nested deeper than {_LIBXML_DEPTH} elements")
    if root.getroottree().docinfo.internalDTD is not None:  # NOTE: defence in depth
        raise MalformedBody("XML with a DOCTYPE is not accepted", location="/")
    return root


def _syntax_error(exc: etree.XMLSyntaxError) -> MalformedBody:
    message = str(exc.msg) if exc.msg else str(exc)
    if "Excessive depth" in message:
        line, column = exc.position or (0, 0)
        return MalformedBody(
            f"XML nested deeper than {_LIBXML_DEPTH} elements (line {line}, column {column})"
        )
    return MalformedBody(f"Malformed XML: {message}")


def _may_exceed(data: bytes, limit: int) -> bool:
    """Whether ``data`` may hold more than ``limit`` elements and attributes.

    PERF: an upper bound from byte counts, in C. Every node takes at least four
    bytes (``<a/>``, `` a=""``), so a short body needs no count. A start tag is a
    ``<`` that opens no end tag, comment, CDATA section or processing instruction;
    an attribute has a ``=``. Both also count lookalikes in text, comments and
    CDATA, so the bound is only ever too high, never too low.
    """
    if len(data) <= 4 * limit:
        return False
    tags = data.count(b"<") - data.count(b"</") - data.count(b"<!") - data.count(b"<?")
    return tags + data.count(b"=") > limit


def _parse_counting(data: bytes, start: int, limit: int, huge: bool) -> Any:
    """Parse chunk by chunk, counting nodes; stop at the first chunk that goes past ``limit``.

    PERF: the tree is counted between chunks by XPath, in C, from the last element
    counted (its descendants and what follows it, with their attributes): no Python
    step per element. Only the root gets an event, to hold the tree by.
    """
    match = _ROOT_NAME.match(data, start)
    local = match[1].rpartition(b":")[2].decode("utf-8", "replace") if match else "*"
    options = _parser_options(huge)
    parser = etree.XMLPullParser(events=("start",), tag="{*}" + local, **options)
    root: Any = None
    last: Any = None
    count = 0
    pos, size = 0, len(data)
    while True:
        done = pos >= size
        if done:
            result = parser.close()
        else:
            parser.feed(data[pos : pos + _FEED])
            pos += _FEED
        events = parser.read_events()
        if root is None:
            for _, el in events:
                root = last = el
                names: list[str] = el.keys()  # type: ignore[union-attr,assignment]
                count = 1 + len(names)
                if count > limit:  # the root fits (limit >= 1), not all its attributes
                    where = f"{_path_of(el)}/@{_local(names[limit - 1])}"
                    raise too_many_nodes(limit, _NODES, where)
                break
        for _ in events:  # NOTE: an element named as the root: drained, not counted here
            pass
        if last is not None:
            new = int(cast(float, _NEW_NODES(last)))
            if count + new > limit:
                found = last.xpath(f"({_AFTER} | ({_AFTER})/@*)[{limit - count + 1}]")
                raise too_many_nodes(limit, _NODES, _node_path(found[0]))
            count += new
            last = _last_element(root)
        if done:
            return result


def _last_element(root: Any) -> Any:
    """The last element in document order (PERF: ``el[-1]`` is O(1), ``len(el)`` is not)."""
    node = root
    while True:
        try:
            node = node[-1]
        except IndexError:
            return node


def _node_path(node: Any) -> str:
    """The XML path of an element, or of an attribute (``/Root/Child[1]/@name``)."""
    if getattr(node, "is_attribute", False):
        return f"{_path_of(node.getparent())}/@{_local(node.attrname)}"
    return _path_of(node)


def _path_of(el: Any) -> str:
    """The XML path of an element: ``/Root/Child[2]/Leaf[1]`` (positions by name)."""
    parts: list[str] = []
    node = el
    while True:
        parent = node.getparent()
        tag = node.tag
        local = _local(tag)
        if parent is None:
            parts.append(local)
            break
        # PERF: XPath counts in C (a name test, not a predicate: ten times faster);
        # walking the preceding siblings would create a proxy for each. A local name
        # is an NCName, safe to put in the expression.
        if tag[:1] == "{":
            found = node.xpath(
                f"count(preceding-sibling::n:{local})", namespaces={"n": tag[1 : tag.index("}")]}
            )
        else:
            found = node.xpath(f"count(preceding-sibling::{local})")
        position = 1 + int(found)
        parts.append(f"{local}[{position}]")
        node = parent
    return "/" + "/".join(reversed(parts))


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


def _position(el: Any) -> str:
    """``Name[n]``: the element's local name and its XPath position among same-named siblings."""
    tag = el.tag
    n = 1 + sum(1 for _ in el.itersiblings(tag, preceding=True))
    return f"{_local(tag)}[{n}]"


# -- reading with a schema ------------------------------------------------------------------

_Reader = Callable[[Any], Any]
_Parse = Callable[[str], Any]
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


_ROLES: dict[str, str] = {}


def _role(tag: str) -> str:
    role = _ROLES.get(tag)
    if role is None:
        role = _local(tag).lower()
        if len(_ROLES) < _MEMO_LIMIT:
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
        self.entries: dict[str, tuple[int, Any]] = {}

    def entry(self, ftype: FieldType) -> tuple[int, Any]:
        """``(code, reader)``: reader takes the element (``_NODE``) or the text."""
        key = ftype.spec
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = self._entry(ftype)
        return found

    def _entry(self, ftype: FieldType) -> tuple[int, Any]:
        kind = ftype.kind
        if kind is Kind.STRING:
            return _STRING, None
        if kind is Kind.INT32:
            return _INT, parse_int32
        if kind is Kind.CARRIER:
            return _NODE, self.late(ftype.schema)
        if kind in (Kind.ARRAY, Kind.DICT):
            assert ftype.item is not None
            if kind is Kind.ARRAY:
                return _NODE, self._array(ftype.item)
            return _NODE, self._dict(ftype.item)
        return _SCALAR, _scalar(ftype)

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
                            value = parse_int32(value)
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
    namespace: dict[str, Any] = {
        "G": general,
        "_nil": _nil,
        "_leaf": _leaf,
        "NegotiateError": NegotiateError,
    }
    body = [
        "def read(el):",
        "    try:",
        "        ch = el[:]",
        f"        if len(ch) != {len(schema.fields)}: return G(el)",
        "        t = el.text",
        "        if t is not None and not t.isspace(): return G(el)",
    ]
    for index, field in enumerate(schema.fields):
        var = f"v{index}"
        body += [
            f"        c = ch[{index}]",
            f"        if c.tag != {field.name!r}: return G(el)",
            "        t = c.tail",
            "        if t is not None and not t.isspace(): return G(el)",
        ]
        code, reader = readers.entry(field.type)
        if code == _STRING:
            body += [
                "        if len(c): return G(el)",
                f"        {var} = c.text",
                f"        if {var} is None: {var} = None if _nil(c) else ''",
            ]
        elif code == _INT:
            body += [
                "        if len(c): return G(el)",
                "        t = c.text",
                "        if t is None or len(t) > 9 or not t.isdigit() or not t.isascii(): "
                "return G(el)",
                f"        {var} = int(t)",
            ]
        elif field.type.kind is Kind.BOOL:
            body += [
                "        if len(c): return G(el)",
                "        t = c.text",
                f"        if t == 'true': {var} = True",
                f"        elif t == 'false': {var} = False",
                "        else: return G(el)",
            ]
        elif code == _SCALAR:
            namespace[f"P{index}"] = reader
            body += [
                "        t = _leaf(c)",
                "        if t is None: return G(el)",
                f"        {var} = P{index}(t)",
            ]
        else:
            namespace[f"R{index}"] = reader
            body += [
                "        if not len(c) and ((t := c.text) is None or t.isspace()) and _nil(c):",
                f"            {var} = None",
                "        else:",
                f"            {var} = R{index}(c)",
            ]
    items = ", ".join(f"{field.name!r}: v{i}" for i, field in enumerate(schema.fields))
    body += [
        f"        return {{{items}}}",
        "    except (NegotiateError, ValueError):",
        "        return G(el)",
    ]
    source = "\n".join(body)
    exec(compile(source, f"<negotiate.codecs.xml reader for {schema.name}>", "exec"), namespace)
    read: _Reader = namespace["read"]
    return read


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


def _scalar(ftype: FieldType) -> _Parse:
    """A parser for the text of a bool, double, date-time or enum."""
    kind = ftype.kind
    if kind is Kind.BOOL:
        return _parse_bool
    if kind is Kind.DOUBLE:
        return parse_double
    if kind is Kind.DATETIME:
        return _parse_datetime
    assert ftype.enum is not None
    return _enum_parser(ftype.enum)


def _parse_bool(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    return parse_bool(text)


def _parse_datetime(text: str) -> str:
    if text in _DATETIMES:
        return text
    text = check_datetime(text.strip())
    if len(_DATETIMES) >= 8192:
        _DATETIMES.clear()
    _DATETIMES.add(text)
    return text


def _enum_parser(spec: EnumSpec) -> _Parse:
    if not spec.flags:
        return spec.from_xml

    def parse(text: str) -> str:
        names = text.replace(",", " ").split()
        if not names:
            raise ValueError(f"Expected {spec.name} names, got {excerpt(text)}")
        return spec.from_xml(" ".join(names))

    return parse


def _root_matches(root: Any, schema: Schema) -> bool:
    local = _local(root.tag)
    if local == schema.name or local.casefold() == schema.name.casefold():
        return True
    declared: str | None = root.get(_XSI_TYPE)
    if declared is None:
        return False
    return declared.rpartition(":")[2].strip().casefold() == schema.name.casefold()


def _xpath(schema: Schema, root: str, pointer: str, value: Any) -> str:
    """Translate a JSON pointer from the normaliser into an XML path (best effort)."""
    out = "/" + root
    if not pointer:
        return out
    segments = [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]
    ftype: FieldType | None = FieldType(Kind.CARRIER, carrier=schema.name)
    current: Any = value
    for segment in segments:
        if ftype is None:
            out += "/" + segment
            continue
        if ftype.kind is Kind.CARRIER:
            field = (schema if ftype.carrier == schema.name else ftype.schema).field(segment)
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


# -- writing with a schema ------------------------------------------------------------------

_PRIMITIVE_ITEMS: Final = {
    Kind.STRING: "string",
    Kind.INT32: "int",
    Kind.BOOL: "boolean",
    Kind.DOUBLE: "double",
    Kind.DATETIME: "dateTime",
}


def _item_name(item: FieldType) -> str:
    """The element name .NET gives an array item of this type."""
    if item.kind in _PRIMITIVE_ITEMS:
        return "d2p1:" + _PRIMITIVE_ITEMS[item.kind]
    if item.kind is Kind.CARRIER:
        return item.carrier
    if item.kind is Kind.ENUM:
        assert item.enum is not None
        return item.enum.name
    assert item.item is not None
    if item.kind is Kind.ARRAY:
        return "ArrayOf" + _item_name(item.item).removeprefix("d2p1:")
    return "ArrayOf" + _pair_name(item.item)


def _pair_name(item: FieldType) -> str:
    """The element name of a dictionary entry: ``StringKeyValuePair`` and kin."""
    if item.kind is Kind.STRING:
        return "StringKeyValuePair"
    if item.kind is Kind.CARRIER:
        return f"{item.carrier}DictionaryKeyValuePair"
    return _item_name(item).removeprefix("d2p1:").capitalize() + "KeyValuePair"


class _Slow(Exception):
    """The compiled writer met a value that is not normalised."""


_SLOW = _Slow()


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _w_text(value: Any) -> str:
    if type(value) is not str:
        raise _SLOW
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        return _escape(value)
    return value


def _w_int(value: Any) -> str:
    if type(value) is not int or value > 2147483647 or value < -2147483648:
        raise _SLOW
    return str(value)


def _w_bool(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise _SLOW


def _w_double(value: Any) -> str:
    if type(value) is not float:
        raise _SLOW
    if value - value != 0.0:
        raise _SLOW  # NaN or infinite: the normaliser refuses it, located
    if value == 0.0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _w_datetime(value: Any) -> str:
    if type(value) is not str:
        raise _SLOW
    if value not in _DATETIMES:
        try:
            check_datetime(value)
        except ValueError:
            raise _SLOW from None
        if len(_DATETIMES) >= 8192:
            _DATETIMES.clear()
        _DATETIMES.add(value)
    return value


def _w_enum(spec: EnumSpec) -> Callable[[Any], str]:
    valid = spec.valid

    def write(value: Any) -> str:
        if type(value) is not str:
            raise _SLOW
        if value not in valid:
            try:
                if spec.normalize(value) != value:
                    raise _SLOW
            except ValueError:
                raise _SLOW from None
        return spec.to_xml(value)

    return write


def _bad(_: Any = None) -> str:
    raise _SLOW


class _WriterSource:
    """Generates one writing function per carrier reachable from a root schema.

    PERF: each carrier's children are one f-string over per-field locals; nested
    carriers, arrays and dictionaries are calls. No tree is built: this is several
    times faster than building an lxml tree and serialising it.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_SLOW": _SLOW,
            "_t": _w_text,
            "_esc": _escape,
            "_int": _w_int,
            "_bool": _w_bool,
            "_dbl": _w_double,
            "_dt": _w_datetime,
            "_bad": _bad,
            "_DTS": _DATETIMES,
        }
        self.carriers: dict[str, str] = {}
        self.helpers: dict[str, str] = {}
        self.pending: list[Schema] = []

    def compile(self, root: Schema) -> Callable[[Any], str]:
        entry = self.carrier(root)
        while self.pending:
            self.write_carrier(self.pending.pop())
        source = "\n".join(self.lines)
        exec(
            compile(source, f"<negotiate.codecs.xml writers for {root.name}>", "exec"),
            self.namespace,
        )
        writer: Callable[[Any], str] = self.namespace[entry]
        return writer

    def constant(self, value: Any) -> str:
        name = f"K{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def carrier(self, schema: Schema) -> str:
        name = self.carriers.get(schema.name)
        if name is None:
            name = self.carriers[schema.name] = f"w_{schema.name}"
            self.pending.append(schema)
        return name

    def write_carrier(self, schema: Schema) -> None:
        body = [f"def {self.carriers[schema.name]}(d):"]
        body.append(f"    if type(d) is not dict or len(d) != {len(schema.fields)}: raise _SLOW")
        parts: list[str] = []
        for index, field in enumerate(schema.fields):
            stmts, part = self.field(index, field.name, field.type)
            body.extend("    " + s for s in stmts)
            parts.append(part)
        fstring = "".join(parts).replace("\\", "\\\\").replace("'", "\\'")
        body.append(f"    return f'{fstring}'")
        self.lines.extend([*body, ""])

    def field(self, index: int, name: str, ftype: FieldType) -> tuple[list[str], str]:
        """Statements setting ``s<index>``, and the f-string part that writes it."""
        var = f"s{index}"
        key = repr(name)
        kind = ftype.kind
        if kind is Kind.INT32:
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not int or {var} > 2147483647 or {var} < -2147483648: "
                "raise _SLOW",
            ], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.BOOL:
            return [
                f"v = d[{key}]",
                f"if v is True: {var} = 'true'",
                f"elif v is False: {var} = 'false'",
                "else: raise _SLOW",
            ], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.DOUBLE:
            return [f"{var} = _dbl(d[{key}])"], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.DATETIME:
            return [
                f"{var} = d[{key}]",
                f"if type({var}) is not str or {var} not in _DTS: {var} = _dt({var})",
            ], f"<{name}>{{{var}}}</{name}>"
        if kind is Kind.ENUM:
            assert ftype.enum is not None
            write = self.constant(_w_enum(ftype.enum))
            valid = self.constant(ftype.enum.valid)
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
                "    if type(v) is not str: raise _SLOW",
                "    if '&' in v or '<' in v or '>' in v or '\\r' in v: v = _esc(v)",
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
            return f"{open_} + _t({var}) + {close}"
        if kind in (Kind.ARRAY, Kind.DICT):
            assert ftype.item is not None
            attrs = (
                _ITEMS_DECL
                if kind is Kind.ARRAY and _item_name(ftype.item).startswith("d2p1:")
                else ""
            )
            pytype = "list" if kind is Kind.ARRAY else "dict"
            content = self.container(ftype)
            full = f"{repr(f'<{name}{attrs}>')} + {content}({var}) + {close}"
            empty = repr(f"<{name}{attrs} />")
            return f"(({full}) if {var} else {empty}) if type({var}) is {pytype} else _bad()"
        return f"{open_} + {self.scalar(ftype)}({var}) + {close}"

    def scalar(self, ftype: FieldType) -> str:
        if ftype.kind is Kind.ENUM:
            assert ftype.enum is not None
            return self.constant(_w_enum(ftype.enum))
        return {Kind.INT32: "_int", Kind.BOOL: "_bool", Kind.DOUBLE: "_dbl"}.get(ftype.kind, "_dt")

    def container(self, ftype: FieldType) -> str:
        """A helper ``(value) -> str`` writing the items of an array or dictionary."""
        spec = ftype.spec
        found = self.helpers.get(spec)
        if found is not None:
            return found
        fname = self.helpers[spec] = f"c{len(self.helpers)}"
        item = ftype.item
        assert item is not None
        if ftype.kind is Kind.ARRAY:
            elem = _item_name(item)
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
                f"    return ''.join([{open_} + _t(k) + '</Key>' + ({nil} if x is None else "
                f"{value}) + {close} for k, x in v.items()])",
            ]
        self.lines.extend([*body, ""])
        return fname


_WRITERS: dict[Schema, Callable[[Any], str]] = {}


def _writer(schema: Schema) -> Callable[[Any], str]:
    found = _WRITERS.get(schema)
    if found is None:
        found = _WRITERS[schema] = _WriterSource().compile(schema)
    return found


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


# -- without a schema: xmltodict's conventions ----------------------------------------------


def _plain(el: Any, parent_ns: dict[str | None, str], depth: int, options: Options) -> Any:
    """One element as xmltodict.parse (process_namespaces=False) would give it."""
    if depth > options.max_depth:
        raise _too_deep(options)
    if len(el) > options.max_items:
        raise _too_many_children(el, options)
    nsmap: dict[str | None, str] = el.nsmap
    item: dict[str, Any] = {}
    for prefix, uri in nsmap.items():
        if parent_ns.get(prefix) != uri:
            item["@xmlns" if prefix is None else f"@xmlns:{prefix}"] = uri
    for name, value in el.attrib.items():
        item["@" + _qname(name, nsmap, attribute=True)] = value
    if len(item) > options.max_items:
        raise InvalidValue(
            f"Too many attributes: {len(item)} (limit {options.max_items})",
            limit=options.max_items,
        )
    texts = [el.text] if el.text else []
    for child in el:
        key = _qname(child.tag, child.nsmap, prefix=child.prefix)
        try:
            value = _plain(child, nsmap, depth + 1, options)
        except NegotiateError as exc:
            raise exc.at(_position(child), style="xml") from None
        if key in item:
            existing = item[key]
            if isinstance(existing, list):
                existing.append(value)
            else:
                item[key] = [existing, value]
        else:
            item[key] = value
        if child.tail:
            texts.append(child.tail)
    text = "".join(texts).strip() or None
    if not item:
        return text
    if text is not None:
        item["#text"] = text
    return item


def _too_deep(options: Options) -> InvalidValue:
    return InvalidValue(
        f"Nested deeper than the limit of {options.max_depth}", limit=options.max_depth
    )


def _too_many_children(el: Any, options: Options) -> InvalidValue:
    return InvalidValue(
        f"Too many children: {len(el)} (limit {options.max_items})", limit=options.max_items
    )


def _check_ignored(el: Any, options: Options) -> None:
    """Hold an element the schema ignores to the limits a schemaless read applies.

    The element counts as a document's root (depth 1): no element below it may be
    deeper than ``max_depth`` or have more than ``max_items`` children.

    Raises:
        InvalidValue: located by the XML path below ``el`` (the caller adds ``el``).
    """
    # PERF: level by level; only elements with children are visited.
    max_depth, max_items = options.max_depth, options.max_items
    level = [el]
    depth = 1
    while level:
        below: list[Any] = []
        for node in level:
            if len(node) > max_items:
                raise _too_many_children(node, options).at(*_below(node, el), style="xml")
            if depth >= max_depth:
                raise _too_deep(options).at(*_below(node[0], el), style="xml")
            below.extend([child for child in node if len(child)])
        level = below
        depth += 1


def _below(node: Any, top: Any) -> list[str]:
    """The path segments (``Name[n]``) from just below ``top`` down to ``node``."""
    segments: list[str] = []
    while node is not top:
        segments.append(_position(node))
        node = node.getparent()
    return segments[::-1]


def _qname(
    clark: str, nsmap: dict[str | None, str], *, prefix: str | None = None, attribute: bool = False
) -> str:
    if clark[:1] != "{":
        return clark
    uri, _, local = clark[1:].partition("}")
    if prefix is None and attribute:
        for candidate, target in nsmap.items():
            if candidate is not None and target == uri:
                prefix = candidate
                break
        if uri == "http://www.w3.org/XML/1998/namespace":
            prefix = "xml"
    return f"{prefix}:{local}" if prefix else local


_NAME_LIMIT = 50_000
_NCNAME = r"[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*"
_NAME = re.compile(f"{_NCNAME}(?::{_NCNAME})?")


def _escape_attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _plain_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EncodeError(f"Cannot write {value!r} in XML", location=where)
        return repr(value)
    raise EncodeError(f"Cannot write {describe(value)} as XML text", location=where)


class _PlainWriter:
    """xmltodict.unparse's conventions, with names and prefixes checked."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.out: list[str] = []

    def element(self, name: Any, value: Any, where: str, scope: frozenset[str], depth: int) -> None:
        # NOTE: the root is at depth 1, as the reader counts: what is written, reads back.
        if depth > self.options.max_depth:
            raise EncodeError(
                f"Nested deeper than the limit of {self.options.max_depth}", location=where
            )
        values = value if isinstance(value, list) else [value]
        if depth == 1 and len(values) != 1:
            raise EncodeError("An XML document has exactly one root element")
        self._name(name, where)
        for index, item in enumerate(values):
            here = f"{where}/{index}" if isinstance(value, list) else where
            if isinstance(item, list):
                raise EncodeError("A list inside a list cannot be written as XML", location=here)
            self.one(name, item, here, scope, depth)

    def one(self, name: str, value: Any, where: str, scope: frozenset[str], depth: int) -> None:
        out = self.out
        if not isinstance(value, dict):
            self._prefix(name, scope, where)
            if value is None:
                out.append(f"<{name}></{name}>")
            else:
                out.append(f"<{name}>{_escape(_plain_text(value, where))}</{name}>")
            return
        attrs: list[str] = []
        children: list[tuple[str, Any]] = []
        text: str | None = None
        declared = set(scope)
        for key, item in value.items():
            here = f"{where}/{_escape_pointer(key)}"
            if not isinstance(key, str):
                raise EncodeError(f"Expected string keys, got {describe(key)}", location=where)
            if key == "#text":
                text = None if item is None else _plain_text(item, here)
            elif key == "@xmlns" and isinstance(item, dict):
                for prefix, uri in item.items():
                    attr = f"xmlns:{prefix}" if prefix else "xmlns"
                    self._name(attr, here)
                    attrs.append(f'{attr}="{_escape_attr(_plain_text(uri or "", here))}"')
                    declared.add(prefix or "")
            elif key.startswith("@"):
                attr = key[1:]
                self._name(attr, here)
                if attr.startswith("xmlns:"):
                    declared.add(attr[6:])
                attrs.append(
                    f'{attr}="{_escape_attr("" if item is None else _plain_text(item, here))}"'
                )
            elif key == "#comment":
                comments = item if isinstance(item, list) else [item]
                children.extend(("#comment", c) for c in comments)
            elif not (isinstance(item, list) and not item):
                children.append((key, item))
        scope = frozenset(declared)
        self._prefix(name, scope, where)
        for attr_text in attrs:
            attr_name = attr_text.partition("=")[0]
            if ":" in attr_name and not attr_name.startswith("xmlns:"):
                self._prefix(attr_name, scope, where)
        out.append(f"<{name}" + "".join(" " + a for a in attrs) + ">")
        for key, item in children:
            here = f"{where}/{_escape_pointer(key)}"
            if key == "#comment":
                if item is None or item == "":
                    continue
                comment = _plain_text(item, here)
                if "--" in comment or comment.endswith("-"):
                    raise EncodeError(
                        "A comment cannot contain '--' or end with '-'", location=here
                    )
                out.append(f"<!--{comment}-->")
            else:
                self.element(key, item, here, scope, depth + 1)
        if text is not None:
            out.append(_escape(text))
        out.append(f"</{name}>")

    @staticmethod
    def _name(name: Any, where: str) -> None:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise EncodeError(f"{excerpt(name)} is not an XML name", location=where)
        size = len(name.encode("utf-8", "surrogatepass")) if len(name) > _NAME_LIMIT // 4 else 0
        if size > _NAME_LIMIT:
            # NOTE: libxml2's own limit, in UTF-8 bytes (lifted only in huge mode, for
            # bodies over 10 MB): refused here so that the reader reads back whatever
            # the writer writes.
            raise EncodeError(
                f"An XML name of {size} bytes is over the limit of {_NAME_LIMIT}", location=where
            )

    @staticmethod
    def _prefix(name: str, scope: frozenset[str], where: str) -> None:
        prefix, colon, _ = name.partition(":")
        if colon and prefix != "xml" and prefix not in scope:
            raise EncodeError(f"Namespace prefix {excerpt(prefix)} is not declared", location=where)


def _escape_pointer(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


# -- the codec ------------------------------------------------------------------------------


class XmlCodec(BaseCodec):
    """``application/xml`` and ``text/xml`` in DataContractSerializer's shape.

    Args:
        options: unknown-property policy and limits (decoding).
        namespace: the default namespace written on the root element, or ``None`` to
            write none. Decoding accepts any namespace.
    """

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_XML, MEDIA_TEXT_XML)

    def __init__(
        self, options: Options = DEFAULT_OPTIONS, *, namespace: str | None = SERVICES88_NAMESPACE
    ) -> None:
        super().__init__(options)
        self.namespace = namespace
        declarations = f' xmlns:i="{XSI_NAMESPACE}"'
        if namespace is not None:
            declarations += f' xmlns="{_escape_attr(namespace)}"'
        self._declarations = declarations
        self._readers = _Readers(options)

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        root = parse_xml(
            body,
            media_type,
            keep_default_namespace=schema is None,
            max_nodes=self.options.max_nodes,
        )
        if schema is None:
            key = _qname(root.tag, root.nsmap, prefix=root.prefix)
            try:
                return {key: _plain(root, {}, 1, self.options)}
            except NegotiateError as exc:
                raise exc.at(_local(root.tag), style="xml") from None
        local = _local(root.tag)
        if not _root_matches(root, schema):
            raise InvalidValue(
                f"Expected root element <{schema.name}>, got <{clip(local)}>", location=f"/{local}"
            )
        try:
            if _empty(root) and _nil(root):
                raise InvalidValue(f"Expected {schema.name} object, got null")
            value = self._readers.carrier(schema)(root)
        except NegotiateError as exc:
            raise exc.at(local, style="xml") from None
        try:
            return schema.normalizer(value, 0, self.options)
        except NegotiateError as exc:
            exc.location = _xpath(schema, local, exc.location, value)
            raise

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """Write ``value`` as one line of UTF-8 XML (see the module docstring).

        Raises:
            EncodeError: the value does not fit the schema, holds a character XML 1.0
                cannot carry, or a NaN or infinite double; located by JSON pointer.
        """
        if schema is None:
            return self._encode_plain(value)
        name = schema.name
        if value is None:
            return f"<{name}{self._declarations}{_NIL}".encode()
        writer = _writer(schema)
        try:
            content = writer(value)
        except (_Slow, KeyError, TypeError, AttributeError, RecursionError):
            value = self._normalized(value, schema)
            try:
                content = writer(value)
            except (_Slow, KeyError, TypeError, AttributeError, RecursionError) as exc:
                raise EncodeError(f"Cannot write {name} as XML: {exc!r}") from None
        data = _utf8_xml(f"<{name}{self._declarations}>{content}</{name}>")
        if data is None:
            raise EncodeError(
                "A string holds a character XML 1.0 cannot carry",
                location=_find_invalid(value) or "",
            )
        return data

    def encode_error(self, error: dict[str, Any]) -> bytes | None:
        """An error as ASP.NET Web API writes ``HttpError`` in XML.

        ``<Error><Message>...</Message>...</Error>`` without a namespace, one child per
        key in order, a list as ``<string>`` items (as DataContractSerializer writes a
        ``string[]``). A character XML 1.0 cannot carry is written as a Python-style
        escape (``\\x01``), so the message survives readably instead of the whole
        document being refused.

        Raises:
            EncodeError: a key is not an XML name, or a value cannot be written.
        """
        document = {
            key: {"string": _error_text(item)} if isinstance(item, list) else _error_text(item)
            for key, item in error.items()
        }
        return self.encode({"Error": document}, None)

    def _normalized(self, value: Any, schema: Schema) -> dict[str, Any]:
        try:
            return schema.normalize(value, self.options)
        except NegotiateError as exc:
            raise EncodeError(
                f"Cannot write {schema.name}: {exc.message}", location=exc.location
            ) from None
        except RecursionError:
            raise EncodeError(f"Cannot write {schema.name}: nested too deeply") from None

    def _encode_plain(self, value: Any) -> bytes:
        if not isinstance(value, dict):
            raise EncodeError(
                "Without a schema, XML is written from a dict with one root key, "
                f"got {describe(value)}"
            )
        roots = [k for k in value if k != "#comment"]
        if len(roots) != 1:
            raise EncodeError(
                f"An XML document has exactly one root element, got {len(roots)} keys"
            )
        writer = _PlainWriter(self.options)
        key = roots[0]
        try:
            writer.element(key, value[key], "/" + _escape_pointer(key), frozenset(), 1)
        except RecursionError:
            raise EncodeError("Nested too deeply to write as XML") from None
        data = _utf8_xml("".join(writer.out))
        if data is None:
            raise EncodeError(
                "A string holds a character XML 1.0 cannot carry",
                location=_find_invalid(value) or "",
            )
        return data


def _escaped_char(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _error_text(item: Any) -> Any:
    """A string (or a list's strings) of an error with what XML cannot carry escaped."""
    if isinstance(item, str):
        return _INVALID_XML.sub(_escaped_char, item) if _INVALID_XML.search(item) else item
    if isinstance(item, list):
        return [_error_text(x) for x in item]
    return item
