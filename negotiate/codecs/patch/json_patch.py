"""Applying a JSON Patch (RFC 6902): :func:`apply_json_patch`.

The patch is checked whole first (every 400 names its operation and member),
then applied operation by operation on a private copy of the base, so every
error carries its index and the first operation that fails gives the answer.
A :class:`~negotiate.codecs.patch.trusted.NormalizedBase` is not copied whole:
each operation copies the containers on its way that the result does not own
yet (copy-on-write, ``_Run.writable`` in ``_json_patch_run``), so the base is
never changed and the result shares what no operation touched.
``remove`` and ``test`` run on the ``jsonpatch`` engine (its operations built
with :class:`~negotiate.codecs.patch.pointer._Pointer`); ``add``,
``replace``, ``move`` and ``copy`` are applied by ``_Run`` itself. NOTE:
the engine deep-copies every value it adds, and a value that came out of
orjson belongs to this request: it goes in as it is. A ``copy`` copies (one
orjson round trip); ``JsonPatch(...).apply()`` is not used (it builds the
operations again on every apply and loses which one failed).

With a schema, every value enters the document normalised for the place it
goes to (a partial carrier is filled in, names bind case-insensitively, ``5``
becomes ``5.0`` in a double). Only what changes is validated: a value from
the body where it lands; a moved or copied value was valid where it was, so
at a place of the same type it is not validated again (unless it lands deeper
and can nest, as a ``SelectableMDOListItem`` copied into its own
``ChildItems``: only the normaliser counts that against ``max_depth``). A
value put at an unknown property (``unknown="ignore"``) is dropped, after
being held to the limits as the normaliser holds what it drops. The result
is exactly what normalising the whole result would give.

An object with a duplicate member name (RFC 6902 A.13) is read as orjson
reads it: the last one wins. The two suite cases for it are disabled upstream.

Where things are: this module is the entry point (check all, then run);
``_json_patch_steps`` checks the patch and builds each operation (``_Step``),
``_json_patch_run`` runs them on the document (``_Run``, copy-on-write).
"""

from __future__ import annotations

from typing import Any

from negotiate.codecs.patch._budget import _UNLIMITED
from negotiate.codecs.patch._json_patch_run import _Conflict, _Run
from negotiate.codecs.patch._json_patch_steps import _measure_patch, _prepare
from negotiate.codecs.patch.trusted import _begin
from negotiate.errors import MalformedBody, PatchConflict, Unprocessable
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Schema
from negotiate.schema.values import describe

__all__ = ["apply_json_patch"]


def apply_json_patch(
    base: Any, patch: Any, schema: Schema | None = None, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Apply a decoded JSON Patch to a copy of ``base``, atomically.

    Args:
        base: the document to patch (not changed); ``None`` means
            ``schema.default()``, or JSON ``null`` without a schema.
        patch: the patch as decoded JSON (a list of operation objects, a tree
            that shares no containers); its values become part of the result
            as they are (not copied) and, with a schema, are normalised in place.
        schema: the carrier (with SuperOffice's leniencies), or ``None``
            for strict RFC 6902.
        options: unknown-property policy and limits.

    Returns:
        The patched document (normalised, with a schema).

    Raises:
        MalformedBody: the patch is malformed, or over the work budget or
            the limits (400), located in the patch.
        PatchConflict: a ``test`` failed or an operation does not fit the
            document (409), located in the patch.
        BodyTooLarge: ``copy`` operations copy too much (413).
        Unprocessable: the result violates the schema or the limits (422),
            located in the result.
        EncodeError: ``base`` does not fit the schema (500).
    """
    if type(patch) is not list:
        raise MalformedBody(f"Expected a JSON Patch array of operations, got {describe(patch)}")
    if len(patch) > options.max_items:
        raise MalformedBody(
            f"Too many operations: {len(patch)} (limit {options.max_items})",
            limit=options.max_items,
        )
    # NOTE: with a schema, the schema holds values to max_items (a 422 where
    # they land; carriers are objects of any size); without one, the patch
    # document is held to it like any JSON body (a 400).
    left = options.max_nodes - _measure_patch(
        patch, options, options.max_items if schema is None else _UNLIMITED
    )
    steps = [_prepare(index, op, schema, options) for index, op in enumerate(patch)]
    doc, shared = _begin(base, schema, options, shared=True)
    run = _Run(schema, options, left, shared)
    for step in steps:
        try:
            doc = run.apply(doc, step)
        except _Conflict as exc:
            raise PatchConflict(
                step.label() + exc.reason, location=f"/{step.index}/{exc.member}"
            ) from None
        except RecursionError:
            raise Unprocessable(step.label() + "the document is nested too deeply") from None
    return doc
