"""XML (``application/xml``, ``text/xml``) in the shape .NET's DataContractSerializer writes.

One module per job; each one's docstring holds its part of the rules:

* :mod:`~negotiate.codecs.xml.parse`: bytes to a tree, hardened: character encodings
  (RFC 7303), no DTDs or entities, depth, the node budget, limits;
* :mod:`~negotiate.codecs.xml.fast`: a tree in .NET's exact shape straight to the
  normalised carrier (generated per carrier graph);
* :mod:`~negotiate.codecs.xml.read`: a tree to a carrier, with a schema (the reference
  path: a positional reader and a general one, then the normaliser);
* :mod:`~negotiate.codecs.xml.write`: a carrier to XML text, generated per carrier (the
  reference writer);
* :mod:`~negotiate.codecs.xml.fast_write`: the same document with less work per element,
  what the codec writes with;
* :mod:`~negotiate.codecs.xml.plain`: without a schema, both ways (xmltodict's conventions);
* :mod:`~negotiate.codecs.xml.names`: namespaces, and how .NET names items and pairs;
* :mod:`~negotiate.codecs.xml.codec`: :class:`XmlCodec`, which puts them together.

Charsets and scalar text are shared with the other formats: :mod:`negotiate.codecs._text`.
"""

from negotiate.codecs._text import text_codec as text_codec
from negotiate.codecs.xml.codec import XmlCodec as XmlCodec
from negotiate.codecs.xml.names import (
    ARRAYS_NAMESPACE as ARRAYS_NAMESPACE,
    SERVICES88_NAMESPACE as SERVICES88_NAMESPACE,
    XSI_NAMESPACE as XSI_NAMESPACE,
)
from negotiate.codecs.xml.parse import parse_xml as parse_xml
from negotiate.schema.vocabulary import PER_CARRIER as PER_CARRIER

__all__ = [
    "ARRAYS_NAMESPACE",
    "PER_CARRIER",
    "SERVICES88_NAMESPACE",
    "XSI_NAMESPACE",
    "XmlCodec",
    "parse_xml",
    "text_codec",
]
