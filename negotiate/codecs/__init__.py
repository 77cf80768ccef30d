"""Codecs, one module per format, and the registry that picks them."""

from __future__ import annotations

from negotiate.codecs.base import BaseCodec as BaseCodec, Codec as Codec
from negotiate.codecs.form import FormCodec as FormCodec
from negotiate.codecs.json import JsonCodec as JsonCodec
from negotiate.codecs.patch import (
    JsonPatchCodec as JsonPatchCodec,
    MergePatchCodec as MergePatchCodec,
)
from negotiate.codecs.registry import CodecRegistry as CodecRegistry
from negotiate.codecs.xml import XmlCodec as XmlCodec
from negotiate.options import DEFAULT_OPTIONS, Options

__all__ = [
    "BaseCodec",
    "Codec",
    "CodecRegistry",
    "FormCodec",
    "JsonCodec",
    "JsonPatchCodec",
    "MergePatchCodec",
    "XmlCodec",
    "default_registry",
]


def default_registry(options: Options = DEFAULT_OPTIONS) -> CodecRegistry:
    """A registry with every built-in codec, in server preference order.

    JSON comes first, so it is the default response type; form-urlencoded is
    read but not offered as a response type.
    """
    return CodecRegistry(
        [
            JsonCodec(options),
            XmlCodec(options),
            FormCodec(options),
            JsonPatchCodec(options),
            MergePatchCodec(options),
        ]
    )
