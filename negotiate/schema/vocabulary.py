"""The names a carrier declaration uses beyond Python's own types.

A carrier is a ``TypedDict``; its annotations are read by
:func:`negotiate.schema.schema_of`. Python's ``int``, ``float``, ``bool`` and
``str`` stand for .NET ``Int32``, ``Double``, ``Boolean`` and ``String``; the
types here stand for the .NET types Python has no exact equivalent of.

NOTE: each is a ``NewType`` of the Python value it travels as, so that a
carrier is still a plain dict to a type checker (a ``DateTime`` field holds a
``str``) while the schema reader can tell it apart from ``str``.
"""

from __future__ import annotations

from typing import Final, NewType

__all__ = ["DATACONTRACT_NAMESPACE", "DateTime"]

DateTime = NewType("DateTime", str)
"""An ISO 8601 date-time, kept as the exact text it arrived as."""

DATACONTRACT_NAMESPACE: Final = "http://schemas.datacontract.org/2004/07/"
"""The prefix of DataContract's default namespace; the CLR namespace (for a
Python carrier: the dotted path of the module declaring it) follows it."""
