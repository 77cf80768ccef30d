"""The one source builder behind every generated function.

The schema's normalisers, the XML readers and writers, the ``$select``
projectors and the shaping walkers are straight-line Python written per
carrier and compiled once. They are all built with :class:`Source`:

* constants the code refers to get names that say what they are
  (``keys_ContactEntity``), not numbers, so the code reads as it runs;
* the compiled code is registered with :mod:`linecache` under its own file
  name (``<negotiate generated: schema normalizers #1>``), so a traceback
  through it shows the generated line, and ``.source`` keeps the text for
  inspection (``print(source.source)``);
* :class:`SlowPath` is the one signal a fast path raises to hand over to its
  reference path: raised as a class, it is a fresh instance each time, so
  no exception object (and no traceback pinning a request's frames) is
  shared between threads.
"""

from __future__ import annotations

import itertools
import linecache
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["SlowPath", "Source"]

_SERIAL = itertools.count(1)
_NOT_NAME = re.compile(r"\W")


class SlowPath(Exception):
    """A fast path met something only its reference path handles."""


class Source:
    """Python source written line by line, then compiled in its own namespace.

    Args:
        title: what the code is (shown in its file name, hence in tracebacks).
        namespace: names the code uses (functions, classes), besides the
            constants added with :meth:`constant`.
    """

    def __init__(self, title: str, namespace: Mapping[str, Any] | None = None) -> None:
        self.title = title
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"SlowPath": SlowPath, **(namespace or {})}
        self.source = ""
        self.filename = ""
        self._values: dict[int, str] = {}

    def constant(self, value: Any, name: str) -> str:
        """A name for ``value`` in the generated code: ``name`` made an identifier.

        The same object asked for twice gets the same name; another object
        under a name already taken gets a numbered variant of it.
        """
        known = self._values.get(id(value))
        if known is not None and self.namespace[known] is value:
            return known
        base = _NOT_NAME.sub("_", name) or "c"
        if base[0].isdigit():
            base = "c_" + base
        chosen, serial = base, 2
        while chosen in self.namespace:
            chosen, serial = f"{base}_{serial}", serial + 1
        self.namespace[chosen] = value
        self._values[id(value)] = chosen
        return chosen

    def add(self, *lines: str) -> None:
        """Append lines (each a whole line of source, indented as it runs)."""
        self.lines.extend(lines)

    def extend(self, lines: Iterable[str]) -> None:
        """Append every line of ``lines``."""
        self.lines.extend(lines)

    def compile(self) -> dict[str, Any]:
        """Compile and run the source; return the namespace it defined its functions in."""
        self.source = "\n".join(self.lines) + "\n"
        self.filename = f"<negotiate generated: {self.title} #{next(_SERIAL)}>"
        # NOTE: an entry whose mtime is None is never dropped by linecache.checkcache.
        linecache.cache[self.filename] = (
            len(self.source),
            None,
            self.source.splitlines(keepends=True),
            self.filename,
        )
        exec(compile(self.source, self.filename, "exec"), self.namespace)
        return self.namespace
