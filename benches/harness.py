"""What a bench row is, and how one is timed and checked.

A :class:`Row` answers one question: how fast is our callable against each
peer doing the same work, on the same input, in the same process. Every
callable is first run once and its result checked (:attr:`Row.check`); a
wrong answer is reported as FAILED instead of a number, so a fast but broken
path can never look good. Timing is timeit's: a loop count calibrated so one
loop lasts at least ``min_time``, several repeats interleaved across ours and
the peers (so a noisy neighbour slows every side alike), best of the repeats.
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = [
    "OURS",
    "Row",
    "Unavailable",
    "calibrate",
    "import_optional",
    "measure",
]

OURS = "negotiate"
"""The name our callable is checked under (``check(OURS, result)``)."""

Check = Callable[[str, Any], "str | None"]
"""``check(name, result)``: ``None`` when the result of ``name`` is right, else why not."""


class Unavailable(Exception):
    """A bench module cannot build its rows here (a module or peer is missing)."""


@dataclass(frozen=True)
class Row:
    """One timed comparison.

    Attributes:
        group: the question (``json``, ``negotiation``, ...).
        case: what is measured, e.g. ``decode sample``.
        ours: our callable, no arguments.
        peers: peer name -> callable doing the same work.
        check: verifies a result; called with :data:`OURS` or a peer name.
        targets: peer name -> the least ratio (ours/peer ops/s) an issue asks for.
        source: where the targets come from (``issue 2``).
        note: one line printed under the table (what exactly is timed).
    """

    group: str
    case: str
    ours: Callable[[], Any]
    peers: Mapping[str, Callable[[], Any]]
    check: Check
    targets: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    note: str = ""


def import_optional(name: str) -> ModuleType:
    """Import a module a bench depends on, or raise :class:`Unavailable` saying why.

    Raises:
        Unavailable: the module (or something it imports) is missing.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Unavailable(f"{name} cannot be imported ({exc})") from None


def calibrate(fn: Callable[[], Any], min_time: float) -> int:
    """Loops per timing so that one timing lasts at least ``min_time`` (1, 2, 5, 10, ...)."""
    number = 1
    while True:
        for factor in (1, 2, 5):
            loops = number * factor
            if _loop(fn, loops) >= min_time:
                return loops
        number *= 10


def _loop(fn: Callable[[], Any], loops: int) -> float:
    # NOTE: like timeit, the collector is off while timing: a collection would
    # land on whichever side happened to allocate past the threshold.
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def measure(
    fns: Mapping[str, Callable[[], Any]], *, repeat: int, min_time: float
) -> dict[str, float]:
    """Operations per second of each callable, best of ``repeat`` interleaved timings.

    Args:
        fns: name -> callable.
        repeat: timings per callable.
        min_time: seconds one timing lasts at least.

    Returns:
        name -> ops/s (loops / the shortest timing).
    """
    loops = {name: calibrate(fn, min_time) for name, fn in fns.items()}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], _loop(fn, loops[name]))
    return {name: loops[name] / max(best[name], 1e-12) for name in fns}
