"""Codecs, one module per format, and the registry that picks them."""

from __future__ import annotations

from negotiate.codecs.base import BaseCodec as BaseCodec, Codec as Codec
from negotiate.codecs.json import JsonCodec as JsonCodec
from negotiate.codecs.registry import CodecRegistry as CodecRegistry
from negotiate.options import DEFAULT_OPTIONS, Options

__all__ = ["BaseCodec", "Codec", "CodecRegistry", "JsonCodec", "default_registry"]


def default_registry(options: Options = DEFAULT_OPTIONS) -> CodecRegistry:
    """A registry with every built-in codec, JSON first (the default type)."""
    return CodecRegistry([JsonCodec(options)])
