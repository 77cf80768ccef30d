"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7396), applied and produced.

Apply: our ``JsonPatchCodec.decode(body, ContactEntity, base=sample)``
(parse, apply atomically, validate and normalise the result) against
``jsonpatch.apply_patch(sample, ops)`` with its default deep copy, the naive
use; the peer is handed the operations already parsed by orjson, so its
stdlib JSON loader never runs. Merge: ``MergePatchCodec.decode`` against
``orjson.loads`` plus a straightforward recursive RFC 7396 merge that copies
only the objects it changes (atomic too).

Each apply row runs twice: with the base as the application would pass a
stored dict (``base=sample``: ours normalises the whole base into a private
copy first, since it may be any plain data), and with
``base=NormalizedBase(sample)`` (the application vouches that it is a
normalised carrier: only what the patch changes is validated, and the result
shares what the patch did not touch, copy-on-write, as the plain merge does).
Issue 14's goals are on the second.

Diff: ``JsonPatchCodec.encode(target, schema, base=sample)`` against
``jsonpatch.make_patch(sample, target)`` serialised with orjson, and
``MergePatchCodec.encode`` against a straightforward recursive merge diff.

Checks: our applied result equals the peer's result once normalised by the
schema; a produced diff, applied to the base with the peer library (or the
plain merge), gives the target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from benches.data import SAMPLE, SCHEMA
from benches.harness import OURS, Row, import_optional

__all__ = ["CAVEATS", "MERGE", "PATCH", "merge_diff", "merge_patch", "rows"]

CAVEATS = [
    "Patch: ours validates and normalises the patched carrier (and matches paths "
    "case-insensitively); jsonpatch and the plain merge validate nothing. jsonpatch gets "
    "the operations pre-parsed by orjson (a favour: its own loader is the stdlib's) and "
    "serialises its diff with orjson. Both sides leave the base untouched (jsonpatch by a "
    "deep copy, the plain merge by copying the objects on the patched paths).",
    "Patch apply, normalised base: `base=NormalizedBase(sample)` is the application's "
    "promise that the base is a normalised carrier, so ours validates only what the patch "
    "changes and copies only the containers it changes (the result shares the rest with "
    "the base, as the plain merge's does); without it ours normalises the whole base first.",
]

EMAIL = {
    "Value": "post@christiansen.example",
    "StrippedValue": "post@christiansen.example",
    "Description": "Main address",
    "TableRight": None,
    "FieldProperties": None,
}

PATCH: list[dict[str, Any]] = [
    {"op": "test", "path": "/ContactId", "value": 599},
    {"op": "replace", "path": "/Name", "value": "Christiansen & Sønner AS"},
    {"op": "replace", "path": "/Department", "value": "Sales"},
    {"op": "add", "path": "/Emails/-", "value": EMAIL},
    {"op": "remove", "path": "/Phones/1"},
    {"op": "replace", "path": "/Urls/0/Description", "value": "Home page"},
    {"op": "copy", "from": "/Number1", "path": "/Number2"},
    {"op": "move", "from": "/Faxes/0", "path": "/Faxes/-"},
    {"op": "replace", "path": "/Xstop", "value": True},
    {"op": "add", "path": "/CustomFields/SuperOffice:1", "value": "[I:123]"},
]
"""Ten operations, all six kinds, on the sample ContactEntity."""

MERGE: dict[str, Any] = {
    "Name": "Christiansen & Sønner AS",
    "Department": "Sales",
    "Number2": "1219365",
    "Kananame": None,
    "Xstop": True,
    "Category": {"Id": 3, "Value": "Kunde"},
    "CustomFields": {"SuperOffice:1": "[I:123]", "CustomFields2": None},
}
"""A merge patch of similar reach: scalars, a null, a new nested object, a dictionary."""


TRUSTED = ", normalised base"
"""The apply rows' case suffix for ``base=NormalizedBase(sample)``."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 ``MergePatch``, written plainly; copies the objects it changes."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def merge_diff(source: Any, target: Any) -> Any:
    """A merge patch taking ``source`` to ``target``, written plainly."""
    if not isinstance(source, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, Any] = {key: None for key in source if key not in target}
    for key, value in target.items():
        if key not in source:
            patch[key] = value
        elif source[key] != value:
            old = source[key]
            if isinstance(old, dict) and isinstance(value, dict):
                patch[key] = merge_diff(old, value)
            else:
                patch[key] = value
    return patch


def rows() -> list[Row]:
    """Apply and diff, JSON Patch and merge patch, on the sample."""
    module = import_optional("negotiate.codecs.patch")
    jsonpatch = import_optional("jsonpatch")
    json_patch, merge = module.JsonPatchCodec(), module.MergePatchCodec()
    base = SAMPLE.value
    trusted = module.NormalizedBase(base)
    patch_body = orjson.dumps(PATCH)
    merge_body = orjson.dumps(MERGE)
    # The expected results come from the peers, normalised by our schema.
    patched = SCHEMA.normalize(jsonpatch.apply_patch(base, PATCH))
    merged = SCHEMA.normalize(merge_patch(base, MERGE))

    def applied(expected: Any) -> Callable[[str, Any], str | None]:
        def check(name: str, result: Any) -> str | None:
            if name != OURS:
                result = SCHEMA.normalize(result)
            return None if result == expected else f"{name} gave a different result"

        return check

    def json_patch_diff_check(name: str, result: Any) -> str | None:
        got = SCHEMA.normalize(jsonpatch.apply_patch(base, orjson.loads(result)))
        return None if got == patched else f"{name}'s diff does not lead to the target"

    def merge_diff_check(name: str, result: Any) -> str | None:
        got = SCHEMA.normalize(merge_patch(base, orjson.loads(result)))
        return None if got == merged else f"{name}'s merge diff does not lead to the target"

    # Each apply row twice: the base as a stored dict, and vouched for (issue 14's goals).
    json_patch_applies = [
        Row(
            "patch",
            f"JSON Patch apply, 10 ops, sample{named}",
            lambda given=given: json_patch.decode(patch_body, SCHEMA, base=given),
            {
                "jsonpatch.apply_patch": lambda: jsonpatch.apply_patch(
                    base, orjson.loads(patch_body)
                )
            },
            applied(patched),
            {"jsonpatch.apply_patch": 3.0},
            source,
        )
        for named, given, source in (("", base, "issue 4"), (TRUSTED, trusted, "issue 14"))
    ]
    merge_applies = [
        Row(
            "patch",
            f"merge patch apply, sample{named}",
            lambda given=given: merge.decode(merge_body, SCHEMA, base=given),
            {"recursive merge": lambda: merge_patch(base, orjson.loads(merge_body))},
            applied(merged),
            targets,
            source,
        )
        for named, given, targets, source in (
            ("", base, {}, ""),
            (TRUSTED, trusted, {"recursive merge": 0.5}, "issue 14"),
        )
    ]
    return [
        *json_patch_applies,
        Row(
            "patch",
            "JSON Patch diff, sample",
            lambda: json_patch.encode(patched, SCHEMA, base=base),
            {
                "jsonpatch.make_patch": lambda: orjson.dumps(
                    jsonpatch.make_patch(base, patched).patch
                )
            },
            json_patch_diff_check,
            {"jsonpatch.make_patch": 3.0},
            "issue 4",
        ),
        *merge_applies,
        Row(
            "patch",
            "merge patch diff, sample",
            lambda: merge.encode(merged, SCHEMA, base=base),
            {"recursive diff": lambda: orjson.dumps(merge_diff(base, merged))},
            merge_diff_check,
        ),
    ]
