"""XSD exports of a compiled schema, in DataContractSerializer's shape.

See :mod:`negotiate.schema.export` for what they describe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from lxml import etree

from negotiate.schema.compiled import FieldType, Kind, Schema
from negotiate.schema.export._shared import (
    _SCALARS,
    GUID_PATTERN,
    _enum,
    _enum_signature,
    _item,
    _nullable,
)
from negotiate.schema.values import EnumSpec
from negotiate.schema.vocabulary import PER_CARRIER, XmlNamespaces, _PerCarrier

__all__ = [
    "ARRAYS_NAMESPACE",
    "SERVICES88_NAMESPACE",
    "xml_schema",
    "xsd",
    "xsd_documents",
]

# NOTE: the same values as negotiate.codecs.xml's constants (a test holds them
# equal): the schema sits below the codecs and cannot import them.
SERVICES88_NAMESPACE: Final = "http://www.superoffice.net/ws/crm/NetServer/Services88"
"""The default namespace of the carriers, as :class:`~negotiate.codecs.xml.XmlCodec` writes it."""
ARRAYS_NAMESPACE: Final = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
"""Microsoft's namespace of the primitive array items (``<d2p1:string>``)."""

_XS: Final = "http://www.w3.org/2001/XMLSchema"
_SERIALIZATION: Final = "http://schemas.microsoft.com/2003/10/Serialization/"

# -- XSD ---------------------------------------------------------------------------------


def _x(tag: str) -> str:
    return f"{{{_XS}}}{tag}"


def _item_name(item: FieldType) -> str:
    """The element name the XML codec gives an array item of this type.

    NOTE: the XML codec's naming (negotiate.codecs.xml ``_item_name``), which .NET's
    follows; the codecs sit above this module, so the rule is restated here and the
    tests validate real output against it.
    """
    scalar = _SCALARS.get(item.kind)
    if scalar is not None:
        return scalar.item
    if item.kind is Kind.CARRIER:
        return item.schema.xml_name
    if item.kind is Kind.ENUM:
        return _enum(item).name
    if item.kind is Kind.ARRAY:
        return "ArrayOf" + _item_name(_item(item))
    return "ArrayOf" + _pair_name(_item(item))


def _pair_name(item: FieldType) -> str:
    """The element name of a dictionary entry whose values are of type ``item``."""
    if item.kind is Kind.STRING:
        return "StringKeyValuePair"
    if item.kind is Kind.CARRIER:
        return f"{item.schema.xml_name}DictionaryKeyValuePair"
    return _item_name(item).capitalize() + "KeyValuePair"


def _dictionary_name(item: FieldType) -> str:
    """The type name of a dictionary: ``StringDictionary``, ``FieldPropertyDictionary``."""
    base = _pair_name(item).removesuffix("KeyValuePair")
    return base if base.endswith("Dictionary") else base + "Dictionary"


def _uses_arrays(schema: Schema) -> bool:
    """Whether anything ``schema`` reaches is an array of scalars (Arrays namespace)."""
    seen: set[Schema] = set()
    stack = [schema]
    while stack:
        current = stack.pop()
        for field in current.fields:
            ftype: FieldType | None = field.type
            while ftype is not None:
                if ftype.kind is Kind.ARRAY and _item(ftype).kind in _SCALARS:
                    return True
                if ftype.kind is Kind.CARRIER and ftype.schema not in seen:
                    seen.add(ftype.schema)
                    stack.append(ftype.schema)
                ftype = ftype.item
    return False


class _Document:
    """One XSD document: the types of one target namespace."""

    def __init__(self, namespace: str | None, others: Mapping[str, str]) -> None:
        self.namespace = namespace
        nsmap = {"xs": _XS, "ser": _SERIALIZATION}
        if namespace is not None:
            nsmap["tns"] = namespace
        # prefix -> namespace of the other documents this one may refer to
        self.others = {p: ns for p, ns in others.items() if ns != namespace}
        nsmap.update(self.others)
        self.root = etree.Element(_x("schema"), nsmap=nsmap)
        if namespace is not None:
            self.root.set("targetNamespace", namespace)
        self.root.set("elementFormDefault", "qualified")
        self.imports: list[str] = []

    def qname(self, namespace: str | None, name: str) -> str:
        """How this document refers to type ``name`` of ``namespace``."""
        if namespace == _XS:
            return "xs:" + name
        if namespace == self.namespace:
            return name if namespace is None else "tns:" + name
        for prefix, uri in self.others.items():
            if uri == namespace:
                if uri not in self.imports:
                    self.imports.append(uri)
                return f"{prefix}:{name}"
        raise AssertionError(f"no prefix for {namespace}")  # pragma: no cover


class _XsdBuilder:
    """Builds the XSD documents of one carrier and everything it reaches."""

    def __init__(self, schema: Schema, namespace: XmlNamespaces) -> None:
        self.per_carrier = namespace is PER_CARRIER
        main = _main_namespace(schema, namespace)
        # NOTE: every namespace a document may refer to has a prefix in every
        # document (unused ones are cleaned up): q1 for Arrays, q2... for carriers'.
        self.prefixes: dict[str, str] = {}
        if _uses_arrays(schema):
            self.prefixes["q1"] = ARRAYS_NAMESPACE
        if self.per_carrier:
            for namespace_ in _carrier_namespaces(schema):
                if namespace_ not in self.prefixes.values():
                    self.prefixes[f"q{len(self.prefixes) + 2}"] = namespace_
        self.main = _Document(main, self.prefixes)
        self.documents: dict[str | None, _Document] = {main: self.main}
        self.signatures: dict[tuple[str | None, str], Any] = {}

    def document(self, namespace: str | None) -> _Document:
        found = self.documents.get(namespace)
        if found is None:
            found = self.documents[namespace] = _Document(namespace, self.prefixes)
        return found

    def home(self, schema: Schema) -> _Document:
        """The document of a carrier's type (and of arrays of it): its namespace's."""
        return self.document(schema.xml_namespace) if self.per_carrier else self.main

    def define(
        self, doc: _Document, tag: str, name: str, signature: Any, *, nillable: bool | None
    ) -> etree._Element | None:
        """A new named type in ``doc`` (with its global element unless ``nillable`` is
        ``None``), or ``None`` if it is defined already."""
        key = (doc.namespace, name)
        known = self.signatures.get(key)
        if known is not None:
            if known != signature:
                raise ValueError(f"two different types are named {name!r} in {doc.namespace}")
            return None
        self.signatures[key] = signature
        definition = etree.SubElement(doc.root, _x(tag), name=name)
        if nillable is not None:
            # NOTE: DataContractSerializer's exporter declares one global element per
            # type; nillable for reference types, so a null root (<X i:nil="true" />,
            # which the XML codec writes for None) validates.
            element = etree.SubElement(doc.root, _x("element"), name=name)
            if nillable:
                element.set("nillable", "true")
            element.set("type", doc.qname(doc.namespace, name))
        return definition

    def element(
        self, parent: etree._Element, doc: _Document, name: str, ftype: FieldType, *, many: bool
    ) -> None:
        """Declare child element ``name`` holding a value of ``ftype``."""
        nullable = _nullable(ftype)
        type_name = self.type(doc, ftype)
        element = etree.SubElement(parent, _x("element"))
        if nullable or many:
            element.set("minOccurs", "0")
        if many:
            element.set("maxOccurs", "unbounded")
        element.set("name", name)
        if nullable:
            element.set("nillable", "true")
        element.set("type", type_name)

    def type(self, doc: _Document, ftype: FieldType) -> str:
        """The qualified name, as ``doc`` writes it, of the type of ``ftype`` values."""
        if ftype.kind is Kind.GUID:
            return self.guid(doc)
        scalar = _SCALARS.get(ftype.kind)
        if scalar is not None:
            if scalar.restricted is None:
                return "xs:" + scalar.xsd
            name, pattern = scalar.restricted
            definition = self.define(doc, "simpleType", name, ftype.kind, nillable=None)
            if definition is not None:
                restriction = etree.SubElement(
                    definition, _x("restriction"), base="xs:" + scalar.xsd
                )
                etree.SubElement(restriction, _x("pattern"), value=pattern)
            return doc.qname(doc.namespace, name)
        if ftype.kind is Kind.CARRIER:
            return doc.qname(self.home(ftype.schema).namespace, self.carrier(ftype.schema))
        if ftype.kind is Kind.ENUM:
            return doc.qname(self.main.namespace, self.enum(_enum(ftype)))
        if ftype.kind is Kind.ARRAY:
            namespace, name = self.array(ftype)
            return doc.qname(namespace, name)
        if ftype.kind is Kind.DICT:
            return doc.qname(self.main.namespace, self.dictionary(ftype))
        raise TypeError(f"no XSD type for {ftype.spec}")

    def guid(self, doc: _Document) -> str:
        """``ser:guid``: DataContractSerializer's Guid type, a pattern on ``xs:string``
        in its Serialization namespace (a document of its own, imported)."""
        serialization = self.document(_SERIALIZATION)
        definition = self.define(serialization, "simpleType", "guid", Kind.GUID, nillable=False)
        if definition is not None:
            restriction = etree.SubElement(definition, _x("restriction"), base="xs:string")
            etree.SubElement(restriction, _x("pattern"), value=GUID_PATTERN)
        if doc is not serialization and _SERIALIZATION not in doc.imports:
            doc.imports.append(_SERIALIZATION)
        return "ser:guid"

    def carrier(self, schema: Schema) -> str:
        doc = self.home(schema)
        name = schema.xml_name
        definition = self.define(doc, "complexType", name, schema, nillable=True)
        if definition is not None:
            sequence = etree.SubElement(definition, _x("sequence"))
            for field in schema.fields:
                self.element(sequence, doc, field.name, field.type, many=False)
        return name

    def enum(self, spec: EnumSpec) -> str:
        doc = self.main
        definition = self.define(
            doc, "simpleType", spec.name, _enum_signature(spec), nillable=False
        )
        if definition is None:
            return spec.name
        if spec.flags:
            # NOTE: flags are space-separated names (<Mask>Read Write</Mask>): a list of
            # the names, at least one (the XML codec writes "None" for no flags).
            restriction = etree.SubElement(definition, _x("restriction"))
            listed = etree.SubElement(etree.SubElement(restriction, _x("simpleType")), _x("list"))
            names = etree.SubElement(listed, _x("simpleType"))
            etree.SubElement(restriction, _x("minLength"), value="1")
        else:
            names = definition
        enumerated = etree.SubElement(names, _x("restriction"), base="xs:string")
        for name, value in spec.values.items():
            facet = etree.SubElement(enumerated, _x("enumeration"), value=name)
            # NOTE: as DataContractSerializer's exporter annotates enum members: the
            # integer each name stands for.
            info = etree.SubElement(etree.SubElement(facet, _x("annotation")), _x("appinfo"))
            number = etree.SubElement(info, f"{{{_SERIALIZATION}}}EnumerationValue")
            number.text = str(value)
        return spec.name

    def array(self, ftype: FieldType) -> tuple[str | None, str]:
        item = _item(ftype)
        item_name = _item_name(item)
        # NOTE: the XML codec writes scalar items in the Arrays namespace
        # (<d2p1:string>), carrier items in the item carrier's namespace and every
        # other item unprefixed, in the root's; an item element belongs to the
        # document of its array type.
        if item.kind in _SCALARS:
            doc = self.document(ARRAYS_NAMESPACE)
        elif item.kind is Kind.CARRIER:
            doc = self.home(item.schema)
        else:
            doc = self.main
        # NOTE: an array of int? has int items too (nillable): its type needs its own name
        name = ("ArrayOfNullableOf" if item.nullable else "ArrayOf") + item_name
        definition = self.define(doc, "complexType", name, ("array", ftype.shape), nillable=True)
        if definition is not None:
            sequence = etree.SubElement(definition, _x("sequence"))
            self.element(sequence, doc, item_name, item, many=True)
        return doc.namespace, name

    def dictionary(self, ftype: FieldType) -> str:
        item = _item(ftype)
        doc = self.main
        nullable = "NullableOf" if item.nullable else ""  # as for arrays: a name of its own
        name = nullable + _dictionary_name(item)
        definition = self.define(doc, "complexType", name, ("dict", ftype.shape), nillable=True)
        if definition is not None:
            pair = _pair_name(item)
            pair_type = self.pair(item, nullable + pair)
            sequence = etree.SubElement(definition, _x("sequence"))
            etree.SubElement(
                sequence,
                _x("element"),
                minOccurs="0",
                maxOccurs="unbounded",
                name=pair,
                type=doc.qname(doc.namespace, pair_type),
            )
        return name

    def pair(self, item: FieldType, name: str) -> str:
        doc = self.main
        definition = self.define(doc, "complexType", name, ("pair", item.shape), nillable=True)
        if definition is not None:
            sequence = etree.SubElement(definition, _x("sequence"))
            # NOTE: a key is never nil and never missing (the XML reader refuses both).
            etree.SubElement(sequence, _x("element"), name="Key", type="xs:string")
            self.element(sequence, doc, "Value", item, many=False)
        return name

    def serialise(self) -> dict[str | None, tuple[str, bytes]]:
        """Every document: namespace -> (file name, XML bytes), the main one first."""
        locations = _locations(list(self.documents))
        out: dict[str | None, tuple[str, bytes]] = {}
        for namespace, doc in self.documents.items():
            for position, imported in enumerate(doc.imports):
                doc.root.insert(
                    position,
                    etree.Element(
                        _x("import"), namespace=imported, schemaLocation=locations[imported]
                    ),
                )
            keep = ["tns", *(p for p, ns in doc.others.items() if ns in doc.imports)]
            if _SERIALIZATION in doc.imports:
                keep.append("ser")  # named in attribute values (type="ser:guid") only
            etree.cleanup_namespaces(doc.root, keep_ns_prefixes=keep)
            data = etree.tostring(
                doc.root, xml_declaration=True, encoding="UTF-8", pretty_print=True
            )
            out[namespace] = (locations[namespace], data)
        return out


def _carrier_namespaces(schema: Schema) -> list[str]:
    """The namespaces of every carrier ``schema`` reaches (itself included), in the
    order first met."""
    seen: set[Schema] = {schema}
    found: dict[str, None] = {schema.xml_namespace: None}
    stack = [schema]
    while stack:
        for field in stack.pop().fields:
            ftype: FieldType | None = field.type
            while ftype is not None:
                if ftype.kind is Kind.CARRIER and ftype.schema not in seen:
                    seen.add(ftype.schema)
                    found[ftype.schema.xml_namespace] = None
                    stack.append(ftype.schema)
                ftype = ftype.item
    return list(found)


def _locations(namespaces: list[str | None]) -> dict[str | None, str]:
    """A file name per document (``Services88.xsd``, ``Arrays.xsd``), unique."""
    names: dict[str | None, str] = {}
    taken: set[str] = set()
    for namespace in namespaces:
        stem = (namespace or "schema").rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) or "schema"
        name, n = f"{stem}.xsd", 1
        while name in taken:
            n += 1
            name = f"{stem}{n}.xsd"
        taken.add(name)
        names[namespace] = name
    return names


def _xsd_build(schema: Schema, namespace: XmlNamespaces) -> dict[str | None, tuple[str, bytes]]:
    builder = _XsdBuilder(schema, namespace)
    builder.carrier(schema)
    return builder.serialise()


def _main_namespace(schema: Schema, namespace: XmlNamespaces) -> str | None:
    """The target namespace of the root carrier's document."""
    if isinstance(namespace, _PerCarrier):
        return schema.xml_namespace
    return namespace


def xsd_documents(schema: Schema, *, namespace: XmlNamespaces = PER_CARRIER) -> dict[str, bytes]:
    """Every XSD document of the carrier, one per target namespace.

    Args:
        schema: the root carrier.
        namespace: as given to :class:`~negotiate.codecs.xml.XmlCodec`:
            :data:`~negotiate.schema.PER_CARRIER` (each carrier's type in the
            document of its :attr:`Schema.xml_namespace`, the documents importing
            each other), one namespace for every carrier, or ``None`` (none). In one
            namespace two carriers of one DataContract name cannot both be defined.

    Returns:
        ``{namespace: document}``, the root carrier's document first (key ``""`` when
        ``namespace`` is ``None``). It imports the others by file name
        (``schemaLocation="Arrays.xsd"``), so saved side by side they load as they are;
        :func:`xml_schema` loads them from memory.

    Raises:
        ValueError: two different types have the same name in one namespace.
    """
    built = _xsd_build(schema, namespace)
    return {ns or "": data for ns, (_, data) in built.items()}


def xsd(schema: Schema, *, namespace: XmlNamespaces = PER_CARRIER) -> bytes:
    """The root carrier's XSD document (see :func:`xsd_documents` for the ones it imports).

    Raises:
        ValueError: two different types have the same name in one namespace.
    """
    return xsd_documents(schema, namespace=namespace)[_main_namespace(schema, namespace) or ""]


class _MemoryResolver(etree.Resolver):
    """Resolves the imports of our XSD documents from memory, and nothing else."""

    def __init__(self, documents: Mapping[str, bytes]) -> None:
        super().__init__()
        self.documents = documents

    # NOTE: lxml passes a context (lxml-stubs omit it); resolve_string needs it.
    def resolve(  # type: ignore[override]
        self, system_url: str | None, public_id: str | None, context: Any
    ) -> Any:
        name = (system_url or "").rsplit("/", 1)[-1]
        found = self.documents.get(name)
        if found is None:
            raise LookupError(f"not an exported XSD document: {system_url!r}")
        return self.resolve_string(found, context, base_url=name)


def xml_schema(schema: Schema, *, namespace: XmlNamespaces = PER_CARRIER) -> etree.XMLSchema:
    """An lxml validator for the carrier's XML, built from :func:`xsd_documents`.

    The imported documents are resolved from memory by a resolver that knows only
    them: nothing is read from disk or the network.

    Raises:
        ValueError: two different types have the same name in one namespace.
    """
    built = _xsd_build(schema, namespace)
    files = {location: data for location, data in built.values()}
    main_location, main = built[_main_namespace(schema, namespace)]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_MemoryResolver(files))
    return etree.XMLSchema(etree.fromstring(main, parser, base_url=main_location))
