"""The XML codec: :class:`XmlCodec`, over the package's parser, readers and writers."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from negotiate._codegen import SlowPath, Source
from negotiate.codecs.base import BaseCodec, clip
from negotiate.codecs.xml.fast import fast_reader
from negotiate.codecs.xml.fast_write import _fast_written
from negotiate.codecs.xml.flat import FLAT_MAX, FlatDocument
from negotiate.codecs.xml.names import _NIL, XSI_NAMESPACE, _local
from negotiate.codecs.xml.parse import parse_document
from negotiate.codecs.xml.plain import _escape_pointer, _plain, _PlainWriter, _qname
from negotiate.codecs.xml.read import _empty, _nil, _Readers, _root_matches, _xpath
from negotiate.codecs.xml.write import _INVALID_XML, _escape_attr, _find_invalid, _utf8_xml
from negotiate.errors import EncodeError, InvalidValue, NegotiateError
from negotiate.media import MEDIA_TEXT_XML, MEDIA_XML, MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import PER_CARRIER, Schema, XmlNamespaces
from negotiate.schema.values import describe

__all__ = ["XmlCodec"]

_UNKNOWN: Any = object()
# The flat path of a root (codec._flat_document): the bytes a flat document starts with,
# its recogniser and the fast reader, or a prefix no body starts with and no reader.
_Flat = tuple[bytes, FlatDocument | None, Any]
_NEVER = b"<\x00"  # NOTE: a NUL cannot follow "<" in any document the parser takes


class XmlCodec(BaseCodec):
    """``application/xml`` and ``text/xml`` in DataContractSerializer's shape.

    The root element is named by the carrier's DataContract name
    (:attr:`Schema.xml_name`). Namespaces, by ``namespace``:

    * :data:`PER_CARRIER` (the default): as DataContractSerializer writes them. The
      root carrier's :attr:`Schema.xml_namespace` is the default namespace (the
      catalogue's is Services88); the properties of a nested carrier (and the items
      of an array of carriers) declared in another namespace are in that one, by a
      prefix ``a1``, ``a2``... declared on the root element.
    * a string: every element in that one namespace, whatever the carriers declare
      (one namespace for a whole service, as before carriers had their own).
    * ``None``: no namespace at all (the docs' trimmed samples).

    Decoding accepts any namespace (elements match by local name).

    Args:
        options: unknown-property policy and limits (decoding).
        namespace: :data:`PER_CARRIER`, one namespace for every element, or ``None``.
    """

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_XML, MEDIA_TEXT_XML)

    def __init__(
        self,
        options: Options = DEFAULT_OPTIONS,
        *,
        namespace: XmlNamespaces = PER_CARRIER,
    ) -> None:
        super().__init__(options)
        self.namespace = namespace
        self._per_carrier = namespace is PER_CARRIER
        declarations = f' xmlns:i="{XSI_NAMESPACE}"'
        if isinstance(namespace, str):
            declarations += f' xmlns="{_escape_attr(namespace)}"'
        self._declarations = declarations
        # The root start tag's attributes, by Schema (per-carrier namespaces only).
        self._roots: dict[Schema, str] = {}
        self._readers = _Readers(options)
        self._fast: dict[Schema, Any] = {}  # fast readers by root Schema (None: none)
        self._fast_sources: dict[Schema, Source] = {}  # their code, for inspection
        self._flat: dict[Schema, _Flat] = {}  # by root Schema: see _flat_document
        self._flat_max = FLAT_MAX  # NOTE: -1 turns the flat path off (the tests' reference)

    def _root_declarations(self, schema: Schema, extra: str) -> str:
        if not self._per_carrier:
            return self._declarations
        found = self._roots.get(schema)
        if found is None:
            found = self._roots[schema] = (
                f'{self._declarations} xmlns="{_escape_attr(schema.xml_namespace)}"{extra}'
            )
        return found

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        if schema is None:
            root = parse_document(
                body, media_type, keep_default_namespace=True, max_nodes=self.options.max_nodes
            )[0]
            key = _qname(root.tag, root.nsmap, prefix=root.prefix)
            try:
                return {key: _plain(root, {}, 1, self.options)}
            except NegotiateError as exc:
                raise exc.at(_local(root.tag), style="xml") from None
        if len(body) <= self._flat_max:
            flat = self._flat.get(schema)
            if flat is None:
                flat = self._flat_document(schema)
            # PERF: a body that does not start as .NET starts the root costs one test
            if body.startswith(flat[0]):
                value = self._read_flat(body, flat, media_type)
                if value is not _UNKNOWN:
                    return value
        root, nils = parse_document(
            body, media_type, keep_default_namespace=False, max_nodes=self.options.max_nodes
        )
        tag = root.tag
        # PERF: the usual root, named exactly, is told by one comparison.
        if tag != schema.xml_name and not _root_matches(root, schema):
            local = _local(tag)
            raise InvalidValue(
                f"Expected root element <{schema.xml_name}>, got <{clip(local)}>",
                location=f"/{local}",
            )
        if not len(root):  # PERF: a root with children is not nil (see _empty)
            try:
                if _empty(root) and _nil(root):
                    raise InvalidValue(f"Expected {schema.name} object, got null")
            except NegotiateError as exc:
                raise exc.at(_local(tag), style="xml") from None
        fast = self._fast.get(schema, _UNKNOWN)
        if fast is _UNKNOWN:
            fast = self._fast_reader(schema)
        if fast is not None:
            # PERF: .NET's exact shape, read straight into the normalised carrier (no
            # normaliser after it); anything else is read again by the reference path.
            try:
                return fast(root, nils)
            except (SlowPath, ValueError, NegotiateError, RecursionError):
                pass
        return self._read_reference(root, schema, _local(tag))

    def _flat_document(self, schema: Schema) -> _Flat:
        """The flat path's ``(prefix, recogniser, fast reader)`` for ``schema`` (memoised)."""
        fast = self._fast.get(schema, _UNKNOWN)
        if fast is _UNKNOWN:
            fast = self._fast_reader(schema)
        if fast is None:
            found: _Flat = (_NEVER, None, None)
        else:
            flat = FlatDocument(schema)
            found = (flat.prefix, flat, fast)
        self._flat[schema] = found
        return found

    def _read_flat(self, body: bytes, flat: _Flat, media_type: MediaType | None) -> Any:
        """A small flat document read without the parser (:mod:`.flat`), or ``_UNKNOWN``."""
        _, recognise, fast = flat
        max_nodes = self.options.max_nodes
        if (
            recognise is None
            or (media_type is not None and media_type.params and media_type.charset != "utf-8")
            or (max_nodes is not None and len(body) > 4 * max_nodes)
        ):
            return _UNKNOWN  # NOTE: the parser's charset and node-count checks decide
        root = recognise(body)
        if root is None:
            return _UNKNOWN
        try:
            return fast(root, True)
        except Exception:  # noqa: BLE001 - whatever the stand-ins do not answer: the parser
            return _UNKNOWN

    def _fast_reader(self, schema: Schema) -> Any:
        """The generated reader of :mod:`~negotiate.codecs.xml.fast` (memoised), or None."""
        reader, source = fast_reader(schema, self.options)
        self._readers.carrier(schema)  # NOTE: the reference's too, so a fallback is warm
        self._fast[schema] = reader
        if source is not None:
            self._fast_sources[schema] = source
        return reader

    def _read_reference(self, root: Any, schema: Schema, local: str) -> Any:
        """The reference path: the general readers, then the schema's normaliser."""
        try:
            value = self._readers.carrier(schema)(root)
        except NegotiateError as exc:
            raise exc.at(local, style="xml") from None
        try:
            return schema.normalizer(value, 0, self.options)
        except NegotiateError as exc:
            exc.location = _xpath(schema, local, exc.location, value)
            raise

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """Write ``value`` as one line of UTF-8 XML (see :mod:`negotiate.codecs.xml.write`).

        Raises:
            EncodeError: the value does not fit the schema, holds a character XML 1.0
                cannot carry, or a NaN or infinite double; located by JSON pointer.
        """
        if schema is None:
            return self._encode_plain(value)
        name = schema.xml_name
        writer, extra = _fast_written(schema, self._per_carrier)
        declarations = self._root_declarations(schema, extra)
        if value is None:
            return f"<{name}{declarations}{_NIL}".encode()
        start, end = f"<{name}{declarations}>", f"</{name}>"
        try:
            text = writer(value, start, end)
        except (SlowPath, KeyError, TypeError, AttributeError, RecursionError):
            value = self._normalized(value, schema)
            try:
                text = writer(value, start, end)
            except (SlowPath, KeyError, TypeError, AttributeError, RecursionError) as exc:
                raise EncodeError(f"Cannot write {name} as XML: {exc!r}") from None
        if "\r" in text:  # NOTE: the fast writer leaves them to the document (see it)
            text = text.replace("\r", "&#13;")
        data = _utf8_xml(text)
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
