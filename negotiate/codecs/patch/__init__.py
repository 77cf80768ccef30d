"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7396), both directions."""

from __future__ import annotations

from negotiate.codecs.patch.codecs import (
    JsonPatchCodec as JsonPatchCodec,
    MergePatchCodec as MergePatchCodec,
    apply_json_patch as apply_json_patch,
    apply_merge_patch as apply_merge_patch,
    make_json_patch as make_json_patch,
    make_merge_patch as make_merge_patch,
    resolve_pointer as resolve_pointer,
)

__all__ = [
    "JsonPatchCodec",
    "MergePatchCodec",
    "apply_json_patch",
    "apply_merge_patch",
    "make_json_patch",
    "make_merge_patch",
    "resolve_pointer",
]
