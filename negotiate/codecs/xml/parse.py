"""Parsing XML, hardened: character encodings, the prolog, the node budget, limits.

Hardening: the body is parsed by lxml with entity resolution, DTD loading and network
access off. A DOCTYPE (only the prolog may hold one) is refused with a 400 before the
parser runs, so a billion-laughs or external-entity document is never expanded or
fetched (and, in depth, a parsed document with a DOCTYPE is refused too); nesting deeper
than 256 elements is a 400, and :attr:`Options.max_depth` and :attr:`Options.max_items`
apply as for JSON, to elements the schema ignores too. A bare entity reference (``&x;``)
without a DTD is a syntax error, so a 400. A body over 10 MB is parsed in libxml2's huge
mode, which lifts only its size limits (so that a text node over 10 MB, which the writer
may write, reads back): :attr:`Options.max_body` bounds the sizes instead.

Attributes: at most :data:`MAX_ATTRIBUTES` on one element (a 400 at its XML path).
DataContract XML carries one or two (``i:nil``, ``i:type``); lxml reads an element's
attributes in time quadratic in their number, so a few elements with thousands each
would cost seconds. Bodies with few ``=`` at all, and bodies whose every attribute
below the root is ``i:nil="true"`` (one per element, told from the bytes: see
:func:`parse_document`), skip the check; others are checked once, by XPath, in C.

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
"""

from __future__ import annotations

import re
from typing import Any, Final, cast

from lxml import etree

from negotiate.codecs._text import BOMS, text_codec, utf8_text
from negotiate.codecs.base import too_many_nodes
from negotiate.codecs.xml.names import _local
from negotiate.errors import InvalidValue, MalformedBody, UnsupportedMediaType, excerpt
from negotiate.media import MediaType
from negotiate.options import Options

__all__ = ["parse_document", "parse_xml"]

# -- character encodings --------------------------------------------------------------------

_UTF8_NAMES = frozenset({"utf-8", "ascii"})
_BOM_FIRST = frozenset(bom[:1] for bom, _ in BOMS)
_SUPPORTED = ["utf-8", "utf-16", "utf-32", "us-ascii", "iso-8859-1", "windows-1252"]
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


def _utf8_body(body: bytes, media_type: MediaType | None, plain: bool) -> bytes:
    """The document as UTF-8 bytes, chosen as the module docstring says.

    ``plain``: the body starts with "<" and a byte other than NUL (PERF: then it has no
    byte order mark and none of the UTF-16/32 patterns; only the charset and the
    declaration count).
    """
    if not plain and body[:1] in _BOM_FIRST:  # NOTE: bom_of, inline (a refusal's path)
        for bom, name in BOMS:
            if body.startswith(bom):
                if name == "utf-8":
                    return body[len(bom) :]
                return utf8_text(body, name, "byte order mark")
    charset = media_type.charset if media_type is not None else None
    if charset is not None:
        codec = text_codec(charset)
        if codec is None:
            raise UnsupportedMediaType(
                f"Unsupported charset {excerpt(charset)} for XML", supported=_SUPPORTED
            )
        return body if codec in _UTF8_NAMES else utf8_text(body, codec, "charset parameter")
    if not plain:
        head = body[:4]
        for magic, name in _SNIFF:
            if head == magic:
                return utf8_text(body, name, "byte pattern of its first characters")
    match = _DECLARED.match(body, 0, 512)
    if match is None:
        return body
    label = (match[1] or match[2]).decode("ascii")
    codec = text_codec(label)
    if codec is None:
        raise UnsupportedMediaType(
            f"Unsupported encoding {excerpt(label)} in the XML declaration", supported=_SUPPORTED
        )
    return body if codec in _UTF8_NAMES else utf8_text(body, codec, "XML declaration")


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
_SAFE_LOCAL = re.compile(r"[\w.\-\u00b7]+")  # a local name lxml takes as an event filter
_AFTER = "descendant::* | following::*"
_NEW_NODES = etree.XPath(f"count({_AFTER}) + count(({_AFTER})/@*)")
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


# The root's start tag: its attributes before and after its default namespace declaration
# (group 2; at most one: a second makes the match fail, so that nothing is blanked and
# the parser reports the repeated attribute), and the quoted value of "xmlns:i" on either
# side (groups 1 and 3). NOTE: "(?!xmlns\s*=)" keeps the other attributes from taking
# the declaration; the possessive loops keep a failing match linear; a name holds no
# NUL (so that a match at the first byte also rules out UTF-16 and UTF-32).
_VALUE = rb"""\s*=\s*(?:"[^"]*"|'[^']*')"""
_OTHERS = (
    rb"""(?:\s+(?:xmlns:i\s*=\s*("[^"]*"|'[^']*')|(?!xmlns\s*=)[^\s=/>]+""" + _VALUE + rb"))*+"
)
_NAME = rb"<[^\s/>!?\x00]+"
_ROOT_TAG = re.compile(_NAME + _OTHERS + rb"(?:\s+(xmlns" + _VALUE + rb")" + _OTHERS + rb")?\s*/?>")
_XSI = b"http://www.w3.org/2001/XMLSchema-instance"
_XSI_VALUES = (b'"' + _XSI + b'"', b"'" + _XSI + b"'")
# PERF: the root as .NET (and our writer, for most carriers) starts it, with the same
# three groups (the third empty): literal bytes, matched in half the time.
_NET_ROOT = re.compile(_NAME + rb' xmlns:i=("' + re.escape(_XSI) + rb'") (xmlns="[^"]*")()>')
# An "=" after the root's start tag that is neither in ' i:nil="true"' nor in the
# ' xmlns:d2p1=' .NET declares on an array of strings. When there is none, every
# attribute below the root is i:nil="true": an attribute's "=" follows its name (here
# "i:nil", a space before it) and precedes its value (here "true"). A child
# redeclaring "i" would have an "=" of its own, so "i" is the root's binding throughout.
# PERF: sre finds each "=" by its literal, then looks around it: one pass, in C. The
# d2p1 test first: it fails at its first byte for the usual "=" (a nil's).
_NOT_AFTER_LT: Final = frozenset(b"!?")  # after "<": a comment, DOCTYPE or PI
_NOT_NIL = re.compile(rb"""=(?<! xmlns:d2p1=)(?:(?<! i:nil=)|(?!"true"))""")


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
    return parse_document(
        body, media_type, keep_default_namespace=keep_default_namespace, max_nodes=max_nodes
    )[0]


def parse_document(
    body: bytes,
    media_type: MediaType | None,
    *,
    keep_default_namespace: bool,
    max_nodes: int | None,
) -> tuple[Any, bool]:
    """:func:`parse_xml`, and what the bytes tell of the attributes (for a schema read).

    Returns:
        The root element, and whether every attribute below it is ``i:nil="true"``
        with ``i`` bound to the XML Schema instance namespace (then an element below
        the root is nil exactly when it has an attribute at all); always ``False``
        with ``keep_default_namespace``.

    Raises:
        MalformedBody, UnsupportedMediaType: as :func:`parse_xml`.
    """
    # PERF: the codec calls this directly: a refusal (most are raised in here) costs
    # a frame less than through a wrapper. The usual body (no byte order mark, no
    # UTF-16/32 pattern, no XML declaration, comment, processing instruction or DOCTYPE
    # before the root, no charset but UTF-8) starts with "<" and a name: for it
    # _utf8_body would return the body as it is and _check_prolog 0, so both are skipped.
    # PERF: bytes as ints (a slice makes an object): "<", then no NUL (plain), and then
    # no "!" or "?"
    plain = len(body) > 1 and body[0] == 60 and body[1] != 0
    usual = (
        plain
        and body[1] not in _NOT_AFTER_LT
        and (media_type is None or not media_type.params or media_type.charset == "utf-8")
    )
    match = None
    if keep_default_namespace:
        if usual:
            data, start = body, 0
        else:
            data = _utf8_body(body, media_type, plain)
            start = _check_prolog(data)
    else:
        # PERF: the root's start tag, matched at the first byte, is found here at once
        if usual:
            match = _NET_ROOT.match(body) or _ROOT_TAG.match(body)
        if match is not None:
            data, start = body, 0
        else:
            data = _utf8_body(body, media_type, plain)
            start = _check_prolog(data)
            match = _NET_ROOT.match(data, start) or _ROOT_TAG.match(data, start)
    head, xsi = 0, False
    if match is not None:
        # The root's default namespace overwritten by spaces. PERF: matching is by local
        # name anyway, and lxml builds every ``tag`` of a namespaced element as a new
        # ``{uri}local`` string, which costs a third of the walk. Spaces of the same
        # length keep the parser's line and column numbers true.
        head = match.end()
        xsi = (match[1] or match[3]) in _XSI_VALUES
        blank, end = match.span(2)
        if blank >= 0:
            data = data[:blank] + b" " * (end - blank) + data[end:]
    huge = len(data) > _HUGE_FROM
    try:
        # PERF: _may_exceed's first test inline (a short body needs no count)
        if max_nodes is not None and len(data) > 4 * max_nodes and _may_exceed(data, max_nodes):
            root = _parse_counting(data, start, max_nodes, huge)
        else:
            root = etree.fromstring(data, _HUGE_PARSER if huge else _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    if huge and _DEEPER(root):
        raise MalformedBody(f"XML nested deeper than {_LIBXML_DEPTH} elements")
    if root.getroottree().docinfo.internalDTD is not None:  # NOTE: defence in depth
        raise MalformedBody("XML with a DOCTYPE is not accepted", location="/")
    nils = False
    if xsi:
        if len(data) - head < _BOUNDED_FROM:
            nils = _NOT_NIL.search(data, head) is None
        else:
            # PERF: sre scans for "=" byte by byte; memchr finds the first and the last
            # at a tenth of that cost, so a long body is scanned only between them (a
            # lookbehind sees before the start; the end leaves room for the lookahead).
            first = data.find(b"=", head)
            nils = first < 0 or _NOT_NIL.search(data, first, data.rfind(b"=") + _AFTER_EQ) is None
    # PERF: then no element below the root has more than one attribute, and the root
    # no more than its start tag has "=" (at most one in every 5 bytes, ' a=""'): the
    # scan could find nothing.
    if (
        not nils
        or (head - start > 5 * MAX_ATTRIBUTES and data.count(b"=", start, head) > MAX_ATTRIBUTES)
    ) and data.count(b"=") > _ATTRIBUTE_SCAN_FROM:
        crowded = cast(list[Any], _CROWDED(root))
        if crowded:
            element = crowded[0]
            raise MalformedBody(
                f"An element has {len(element.attrib)} attributes, "
                f"over the limit of {MAX_ATTRIBUTES}",
                location=_path_of(element),
                limit=MAX_ATTRIBUTES,
            )
    return root, nils


_BOUNDED_FROM: Final = 2048
_AFTER_EQ: Final = len(b'="true"')  # "=" and what the lookahead reads after it

MAX_ATTRIBUTES: Final = 64
"""The most attributes one element may carry (see the module docstring)."""

# PERF: the byte count under which no element can have more than MAX_ATTRIBUTES
# cannot be told apart cheaply; any body with fewer "=" than this is let through
# unchecked (its elements together have fewer attributes than it has "=").
_ATTRIBUTE_SCAN_FROM: Final = 1024
_CROWDED: Final = etree.XPath(f"(//*[count(@*) > {MAX_ATTRIBUTES}])[1]")


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
    local = match[1].rpartition(b":")[2].decode("utf-8", "replace") if match else ""
    if _SAFE_LOCAL.fullmatch(local) is None:
        # NOTE: lxml refuses an empty filter ("a:") or one with a NUL or control
        # character; any tag then: the parser refuses such a root name at once
        local = "*"
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


# -- XML paths ------------------------------------------------------------------------------


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
        # NOTE: but for a name the parser has not refused yet, as an undeclared prefix
        # ("p:Name") is until the document's end: counted by walking then.
        if _SAFE_LOCAL.fullmatch(local) is None:
            found = sum(1 for sibling in node.itersiblings(preceding=True) if sibling.tag == tag)
        elif tag[:1] == "{":
            found = node.xpath(
                f"count(preceding-sibling::n:{local})", namespaces={"n": tag[1 : tag.index("}")]}
            )
        else:
            found = node.xpath(f"count(preceding-sibling::{local})")
        position = 1 + int(found)
        parts.append(f"{local}[{position}]")
        node = parent
    return "/" + "/".join(reversed(parts))


def _position(el: Any) -> str:
    """``Name[n]``: the element's local name and its XPath position among same-named siblings."""
    tag = el.tag
    n = 1 + sum(1 for _ in el.itersiblings(tag, preceding=True))
    return f"{_local(tag)}[{n}]"


# -- limits on elements ---------------------------------------------------------------------


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
