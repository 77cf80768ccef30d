"""The names a carrier declaration uses beyond Python's own types.

A carrier is a ``TypedDict``; its annotations are read by
:func:`negotiate.schema.schema_of`. Python's ``int``, ``float``, ``bool`` and
``str`` stand for .NET ``Int32``, ``Double``, ``Boolean`` and ``String``,
``decimal.Decimal`` and ``bytes`` for ``decimal`` and ``byte[]``; the types here
stand for the .NET types Python has no exact equivalent of.

NOTE: each is a ``NewType`` of the Python value it travels as, so that a
carrier is still a plain dict to a type checker (a ``DateTime`` field holds a
``str``) while the schema reader can tell it apart from ``str``.
"""

from __future__ import annotations

import enum
from typing import Final, Literal, NewType, TypeAlias

__all__ = [
    "DATACONTRACT_NAMESPACE",
    "PER_CARRIER",
    "DateTime",
    "Guid",
    "Int64",
    "XmlNamespaces",
]

DateTime = NewType("DateTime", str)
"""An ISO 8601 date-time, kept as the exact text it arrived as."""

Int64 = NewType("Int64", int)
"""A .NET ``long``: an ``int`` held to the 64-bit range (``int`` is ``Int32``)."""

Guid = NewType("Guid", str)
"""A .NET ``Guid``: normalised to lowercase ``8-4-4-4-12`` hex text, as .NET writes it."""

DATACONTRACT_NAMESPACE: Final = "http://schemas.datacontract.org/2004/07/"
"""The prefix of DataContract's default namespace; the CLR namespace (for a
Python carrier: the dotted path of the module declaring it) follows it."""


class _PerCarrier(enum.Enum):
    PER_CARRIER = "per carrier"


PER_CARRIER: Final = _PerCarrier.PER_CARRIER
"""The XML codec's and the XSD export's default ``namespace``: each carrier's own
(:attr:`Schema.xml_namespace`), as DataContractSerializer writes them."""

XmlNamespaces: TypeAlias = str | None | Literal[_PerCarrier.PER_CARRIER]
"""A ``namespace`` option: :data:`PER_CARRIER`, one namespace for every element, or
``None`` for none."""
