"""What every framework integration shares: the core as the writer of error bodies."""

from __future__ import annotations

from negotiate.auth import ANONYMOUS
from negotiate.codecs import CodecRegistry
from negotiate.http import App
from negotiate.options import DEFAULT_OPTIONS, Options

__all__ = ["error_writer"]


def error_writer(registry: CodecRegistry, options: Options = DEFAULT_OPTIONS) -> App:
    """An :class:`App` without operations: it writes error bodies exactly as the core does.

    Agent shape, the negotiated type (JSON as the fallback), ``Accept-Post`` on a 415.
    NOTE: without content codings: a framework compresses its responses its own way.
    """
    return App((), authenticator=ANONYMOUS, registry=registry, options=options, codings=False)
