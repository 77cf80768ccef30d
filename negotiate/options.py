"""Decoding policy and limits, one frozen object shared by every codec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_OPTIONS", "MAX_DEPTH_LIMIT", "Options"]

MAX_DEPTH_LIMIT = 256


@dataclass(frozen=True, slots=True)
class Options:
    """How strictly and how far a request body is read.

    Attributes:
        unknown: what to do with a property the carrier does not declare:
            ``"ignore"`` drops it (what the .NET server does), ``"error"``
            answers 400 naming it.
        max_body: largest body in bytes; larger bodies get a 413.
        max_depth: deepest nesting of carriers (recursive ones such as
            ``SelectableMDOListItem.ChildItems``) or, without a schema, of
            JSON/XML containers; deeper input gets a 400. At most 256, so
            that no walk can reach Python's recursion limit.
        max_items: most items in one array or dictionary, and the largest
            index a form key may name; more gets a 400.
        max_nodes: the work budget of one body: the most nodes a decoder may
            build (objects, arrays, elements, keys, items and scalars, the
            ones it ignores included); past it the decoder stops at once with
            a 400 instead of building the rest.
    """

    unknown: Literal["ignore", "error"] = "ignore"
    max_body: int = 16 * 1024 * 1024
    max_depth: int = 64
    max_items: int = 10_000
    max_nodes: int = 1_000_000

    def __post_init__(self) -> None:
        if self.unknown not in ("ignore", "error"):
            raise ValueError(f"unknown must be 'ignore' or 'error', not {self.unknown!r}")
        for name in ("max_body", "max_depth", "max_items", "max_nodes"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer")
        if self.max_depth > MAX_DEPTH_LIMIT:
            raise ValueError(f"max_depth must be at most {MAX_DEPTH_LIMIT}")


DEFAULT_OPTIONS = Options()
