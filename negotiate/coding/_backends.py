"""What this installation can do: the optional ``brotli`` and ``zstandard`` packages,
imported on first use, and the codings they make available."""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import Final

from negotiate.media import CODING_BR, CODING_DEFLATE, CODING_GZIP, CODING_ZSTD

__all__ = [
    "available_codings",
    "decodable_codings",
]

_INSTALL: Final = {
    CODING_BR: ("brotli", "pip install 'negotiate[br]'"),
    CODING_ZSTD: ("zstandard", "pip install 'negotiate[zstd]'"),
}
_ORDER: Final = (CODING_BR, CODING_ZSTD, CODING_GZIP, CODING_DEFLATE)


@cache
def _optional(coding: str) -> ModuleType | None:
    """The package behind ``coding``, or ``None`` when it cannot be imported (or is too old)."""
    module_name, _ = _INSTALL[coding]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if coding == CODING_BR and not hasattr(module.Decompressor, "can_accept_more_data"):
        return None  # brotli < 1.2: no output_buffer_limit, so no bounded decompression
    return module


def _require(coding: str) -> ModuleType:
    module = _optional(coding)
    if module is None:
        package, command = _INSTALL[coding]
        raise ImportError(
            f"The {coding!r} content coding needs the {package} package"
            f"{' (1.2 or later)' if coding == CODING_BR else ''}: {command}"
        )
    return module


@cache
def available_codings() -> tuple[str, ...]:
    """The codings this installation can write, in the server's preference order.

    ``br`` (smallest bodies, at gzip's cost with :data:`BROTLI_QUALITY`), then
    ``zstd`` (8x cheaper, about gzip's size), then ``gzip`` and ``deflate``;
    ``br`` and ``zstd`` only when their packages are installed. ``identity`` is
    not listed: it is always possible.
    """
    return tuple(c for c in _ORDER if c not in _INSTALL or _optional(c) is not None)


@cache
def decodable_codings() -> tuple[str, ...]:
    """The codings a request body may use here (for ``Accept-Encoding`` on a 415).

    The same as :func:`available_codings`; ``x-gzip`` and ``identity`` are read
    too but not listed.
    """
    return available_codings()
