"""XML (``application/xml``, ``text/xml``) in the shape .NET's DataContractSerializer writes.

The codec and its rules live in :mod:`negotiate.codecs.xml.codec`; this package
re-exports its public names.
"""

from negotiate.codecs.xml.codec import (
    ARRAYS_NAMESPACE as ARRAYS_NAMESPACE,
    SERVICES88_NAMESPACE as SERVICES88_NAMESPACE,
    XSI_NAMESPACE as XSI_NAMESPACE,
    XmlCodec as XmlCodec,
    parse_xml as parse_xml,
    text_codec as text_codec,
)

__all__ = [
    "ARRAYS_NAMESPACE",
    "SERVICES88_NAMESPACE",
    "XSI_NAMESPACE",
    "XmlCodec",
    "parse_xml",
    "text_codec",
]
