"""The one source builder behind every generated function.

The schema's normalisers, the XML readers and writers, the ``$select``
projectors and the shaping walkers are straight-line Python written per
carrier and compiled once. They are all built with :class:`Source`:

* constants the code refers to get names that say what they are
  (``keys_ContactEntity``), not numbers, so the code reads as it runs;
* the compiled code is registered with :mod:`linecache` under its own file
  name (``<negotiate generated: schema normalizers #1>``), so a traceback
  through it shows the generated line, and ``.source`` keeps the text for
  inspection (``print(source.source)``); code compiled per request and
  cached (a ``$select`` projector) leaves linecache with its owner
  (:meth:`Source.forget_with`);
* :class:`SlowPath` is the one signal a fast path raises to hand over to its
  reference path: raised as a class, it is a fresh instance each time, so
  no exception object (and no traceback pinning a request's frames) is
  shared between threads.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import re
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["SlowPath", "Source"]

_SERIAL = itertools.count(1)
_NOT_NAME = re.compile(r"\W")
# Source.forget_with: id(weakref to the owner) -> (that weakref, the file name).
# NOTE: keyed by id, as a weakref to an unhashable owner cannot be hashed.
_TIED: dict[int, tuple[weakref.ref[Any], str]] = {}


def _forget(
    ref: weakref.ref[Any],
    tied: dict[int, tuple[weakref.ref[Any], str]] = _TIED,
    cache: dict[str, Any] = linecache.cache,
) -> None:
    # NOTE: the dicts are bound as defaults: at interpreter exit this may run
    # after the module's globals are gone.
    entry = tied.pop(id(ref), None)
    if entry is not None:
        cache.pop(entry[1], None)


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
        self._reserved: set[str] = set()

    def _free(self, name: str) -> str:
        """``name`` made an identifier not yet taken in this source."""
        base = name
        if not base.isidentifier():  # PERF: the usual case skips the regex
            base = _NOT_NAME.sub("_", name) or "c"
            if base[0].isdigit():
                base = "c_" + base
        if keyword.iskeyword(base):
            base += "_"
        chosen, serial = base, 2
        while chosen in self.namespace or chosen in self._reserved:
            chosen, serial = f"{base}_{serial}", serial + 1
        return chosen

    def name(self, name: str) -> str:
        """Reserve an identifier for something the code defines (a function).

        ``name`` made an identifier; a name already taken (by a constant or an
        earlier reservation) gets a numbered variant, as in :meth:`constant`.
        """
        chosen = self._free(name)
        self._reserved.add(chosen)
        return chosen

    def constant(self, value: Any, name: str) -> str:
        """A name for ``value`` in the generated code: ``name`` made an identifier.

        The same object asked for twice gets the same name; another object
        under a name already taken gets a numbered variant of it.
        """
        known = self._values.get(id(value))
        if known is not None and self.namespace[known] is value:
            return known
        chosen = self._free(name)
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

    def forget_with(self, owner: object) -> None:
        """Drop the compiled text from :mod:`linecache` once ``owner`` is garbage-collected.

        For code compiled per request and cached (bounded), such as a
        ``$select`` projector: without it every text ever compiled would stay
        in :mod:`linecache` for good. Call it after :meth:`compile`; ``owner``
        is what keeps the code alive (the entry function).
        """
        # PERF: a bare weakref with a callback (kept alive by _TIED) costs a
        # third of weakref.finalize, on the path of a cold $select compile.
        ref = weakref.ref(owner, _forget)
        _TIED[id(ref)] = (ref, self.filename)
