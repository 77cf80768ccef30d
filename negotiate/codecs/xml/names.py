"""The XML names of the .NET shape: namespaces, array items and dictionary pairs."""

from __future__ import annotations

from typing import Final

from negotiate.schema import FieldType, Kind

__all__ = ["ARRAYS_NAMESPACE", "SERVICES88_NAMESPACE", "XSI_NAMESPACE"]

XSI_NAMESPACE: Final = "http://www.w3.org/2001/XMLSchema-instance"
SERVICES88_NAMESPACE: Final = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ARRAYS_NAMESPACE: Final = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

_XSI_NIL: Final = f"{{{XSI_NAMESPACE}}}nil"
_XSI_TYPE: Final = f"{{{XSI_NAMESPACE}}}type"
_ITEMS_DECL: Final = f' xmlns:d2p1="{ARRAYS_NAMESPACE}"'
_NIL: Final = ' i:nil="true" />'


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


_PRIMITIVE_ITEMS: Final = {
    Kind.STRING: "string",
    Kind.INT32: "int",
    Kind.BOOL: "boolean",
    Kind.DOUBLE: "double",
    Kind.DATETIME: "dateTime",
    Kind.INT64: "long",
    Kind.DECIMAL: "decimal",
    Kind.GUID: "guid",
    Kind.BYTES: "base64Binary",
}


def _item_name(item: FieldType) -> str:
    """The element name .NET gives an array item of this type."""
    if item.kind in _PRIMITIVE_ITEMS:
        return "d2p1:" + _PRIMITIVE_ITEMS[item.kind]
    if item.kind is Kind.CARRIER:
        return item.schema.xml_name
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
        return f"{item.schema.xml_name}DictionaryKeyValuePair"
    return _item_name(item).removeprefix("d2p1:").capitalize() + "KeyValuePair"
