"""Small flat documents read without the parser: a carrier whose children are all leaves.

The usual small request, ``{ContactEntity: null, EnrichId}`` as .NET writes it, is a
root start tag, a few leaf elements and the root's end tag. Parsing it costs libxml2
more than reading it does (a parser context, a document, a proxy per element), and
on a server that work also evicts the caches the rest of the request runs on.

:class:`FlatDocument` recognises exactly this subset of XML, and nothing else:

* the root's start tag exactly as .NET writes it, the schema's name and then
  ``xmlns:i`` (the XML Schema instance namespace) and ``xmlns="..."``; the default
  namespace's value is ignored, as :func:`~.parse.parse_document` blanks it too;
* then one or more children, nothing between them: ``<N i:nil="true" />``,
  ``<N />`` or ``<N>text</N>``, ``N`` a name of ASCII letters, digits, ``_``, ``.``
  and ``-`` (no prefix), the text printable ASCII, tab or line feed without ``&``,
  ``<`` or ``>`` (so no reference, no markup, no carriage return to normalise and no
  byte a parser would refuse);
* then the root's end tag, and the end of the body.

Every document of that subset is well-formed, and its tree is what the stand-in
elements here give the codec's generated reader (``tag``, ``text``, ``tail``,
``attrib``, ``len`` and ``[:]``, as lxml gives them). Anything else, or anything the
reader does not take from them, goes to the parser, which decides the value or the
error (``tests/test_xml_flat.py`` holds the two paths to the same answers).
"""

from __future__ import annotations

import re
from typing import Any, Final

from negotiate.codecs.xml.names import _XSI_NIL, XSI_NAMESPACE
from negotiate.schema import Schema

__all__ = ["FLAT_MAX", "FlatDocument"]

FLAT_MAX: Final = 1024
"""The largest body (bytes) looked at: the usual small request is a quarter of it."""

_TEXT = rb"[\t\n\x20-\x25\x27-\x3b\x3d\x3f-\x7e]"
# NOTE: the name and the text are possessive (a shorter one cannot match either); the
# children are not (CPython 3.11's sre miscounts a group's span in a possessive repeat
# with a back reference), so FlatDocument bounds their count before the match.
_CHILD = rb'<([A-Za-z_][A-Za-z0-9_.\-]*+)(?:( i:nil="true" ?/>)| ?/>|>(' + _TEXT + rb"*+)</\1>)"
_CHILDREN = re.compile(rb"(?:" + _CHILD + rb")+")
_EACH = re.compile(_CHILD)
_NIL_ATTRIB: Final = {_XSI_NIL: "true"}
_NO_ATTRIB: Final[dict[str, str]] = {}
_WHOLE = slice(None)


class _Leaf:
    """A leaf element, as lxml shows it: no children, no tail."""

    __slots__ = ("tag", "text", "attrib")
    tail = None

    def __init__(self, tag: str, text: str | None, attrib: dict[str, str]) -> None:
        self.tag = tag
        self.text = text
        self.attrib = attrib

    def __len__(self) -> int:
        return 0

    def __getitem__(self, key: slice) -> list[Any]:
        if key != _WHOLE:  # NOTE: only ``[:]``; any other access goes to the parser
            raise TypeError("a flat document's leaf is sliced whole only")
        return []


class _Root:
    """The root element, as lxml shows it: its children, no text."""

    __slots__ = ("children",)
    text = None
    tail = None

    def __init__(self, children: list[_Leaf]) -> None:
        self.children = children

    def __len__(self) -> int:
        return len(self.children)

    def __getitem__(self, key: slice) -> list[_Leaf]:
        if key != _WHOLE:
            raise TypeError("a flat document's root is sliced whole only")
        return self.children


class FlatDocument:
    """Recognises a flat ``schema`` document (module docstring); returns its root."""

    def __init__(self, schema: Schema) -> None:
        name = schema.xml_name.encode()
        # a child has one "<" or two, and the reader takes no more than the fields
        self._most = 2 * len(schema.fields)
        xsi = XSI_NAMESPACE.encode()
        self.prefix = b"<" + name + b' xmlns:i="' + xsi + b'" xmlns="'
        """What every flat document starts with (the caller may test it first)."""
        self._head = re.compile(re.escape(self.prefix) + b'[^"]*">')
        self._end = b"</" + name + b">"

    def __call__(self, body: bytes) -> _Root | None:
        """The root of ``body`` if it is a flat document, else ``None`` (for the parser)."""
        match = self._head.match(body)
        if match is None or not body.endswith(self._end):
            return None
        start, stop = match.end(), len(body) - len(self._end)
        if (
            body.count(b"<", start, stop) > self._most
            or _CHILDREN.fullmatch(body, start, stop) is None
        ):
            return None
        return _Root(
            [
                _Leaf(tag.decode("ascii"), None, _NIL_ATTRIB)
                if nil
                else _Leaf(tag.decode("ascii"), text.decode("ascii") or None, _NO_ATTRIB)
                for tag, nil, text in _EACH.findall(body, start, stop)
            ]
        )
