"""XML without a schema, both ways, in xmltodict's conventions.

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

import functools
import math
import re
from typing import Any

from negotiate.codecs.xml.parse import _position, _too_deep, _too_many_children
from negotiate.codecs.xml.write import _escape, _escape_attr
from negotiate.errors import EncodeError, InvalidValue, NegotiateError, excerpt
from negotiate.options import Options
from negotiate.schema.values import describe

__all__ = []


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


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    # PERF: compiled on first use: the wide character classes take ~8 ms to compile,
    # which every `import negotiate` paid before.
    return re.compile(f"{_NCNAME}(?::{_NCNAME})?")


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
        if not isinstance(name, str) or _name_pattern().fullmatch(name) is None:
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
