"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7396), both directions.

Where things are:

* :mod:`~negotiate.codecs.patch.codecs`: the two codecs (decode applies,
  encode diffs);
* :mod:`~negotiate.codecs.patch.json_patch`: applying a JSON Patch (its
  operations checked and built in ``_json_patch_steps``, run on the document
  in ``_json_patch_run``);
* :mod:`~negotiate.codecs.patch.merge_patch`: applying a merge patch;
* :mod:`~negotiate.codecs.patch.diff`: making either from two values;
* :mod:`~negotiate.codecs.patch.pointer`: JSON pointers (RFC 6901);
* :mod:`~negotiate.codecs.patch.trusted`: a base known to be normalised;
* ``_values`` (a value normalised for where it goes, a path bound to a
  schema) and ``_budget`` (the work budget and limits): shared by the two
  appliers.

Decoding applies the patch in the body to a *base* and returns the result:
the ``base`` the caller passes (a stored entity), else ``schema.default()``;
without a schema, ``base=None`` is the JSON value ``null`` (there is no
default to fall back on, and RFC 7396 merges into a null target as into
``{}``). The caller's base is never changed: the patch works on a copy (one
orjson round trip, normalised by the schema), so a patch that fails half-way
leaves nothing behind. An empty body is an empty patch: the result is that
copy. A base the application knows to be normalised (a carrier it stored as
``decode`` or ``Schema.normalize`` returned it) can be passed as
:class:`~negotiate.codecs.patch.trusted.NormalizedBase`: then only what the
patch changes is validated (a merge patch does not even copy the base: the
result shares what it did not touch). Encoding writes the diff from ``base`` (what the client sent,
normalised) to the value: applying it to ``base`` gives exactly the value.

With a schema, SuperOffice's leniencies (``superoffice/WIRE.md``) apply:

* path segments and merge keys bind to property names case-insensitively
  (exact match first); dictionary keys (``UserDefinedFields``) are data and
  match exactly; the leading ``/`` of a path is optional;
* a carrier always has every property, so removing one (``remove``, a
  ``move`` away from it, a merge ``null``) resets it to its default: ``null``
  for reference types, ``0``/``false``/the zero date/the zero enum name for
  value types;
* in a merge patch an object given for an array property appends one element;
  an array replaces the whole array;
* a ``test`` value is normalised for its location before comparing, so
  ``{"value": "x"}`` tests an ``EntityElement`` the way .NET would bind it;
* unknown properties follow :attr:`Options.unknown`: dropped (an ``add``, or
  the end of a ``move`` or ``copy``, there does nothing), or a 422 at once.

Without a schema the behaviour is strict RFC 6902 / 7396 (the conformance
suites in ``tests/conformance`` pass).

Errors (``location`` is a JSON pointer):

* 400 :class:`MalformedBody`: not JSON, not an array of operations, an
  unknown ``op``, a missing or mistyped member, a pointer that is not a JSON
  pointer, too many operations, too deep, an array or object of more than
  ``max_items`` (without a schema); located in the *patch* (``/3/path``,
  ``/3/value/Emails``). Over the work budget (``limit`` in the detail): a body
  that alone is over it, unlocated (it is not parsed); a ``copy`` or ``move``
  that takes the patch over it, at ``/3/from``; a decoded patch handed to
  :func:`apply_json_patch`, at the operation where the count ran out.
* 409 :class:`PatchConflict`: a failed ``test``, or an operation the document
  does not allow (a missing member or index, ``-`` where an element must
  exist, moving a value into itself); located in the patch (``/3/path``, or
  ``/3/from`` for a missing source), the message names the operation and its
  path but never quotes the document's values.
* 413 :class:`BodyTooLarge`: ``copy`` operations would copy more than
  ``Options.max_body`` bytes of JSON in total (a patch of a few ``copy``
  operations can otherwise double the document each time).
* 422 :class:`Unprocessable`: the result does not fit the schema (a null
  document included), or breaks ``Options.max_items`` / ``max_depth`` (adds,
  moves and copies can grow and nest); located in the *result*
  (``/Emails/-/Value``), the message names the operation.
* 500 :class:`EncodeError`: the base the application passed does not fit the
  schema.
"""

from __future__ import annotations

from negotiate.codecs.patch.codecs import (
    JsonPatchCodec as JsonPatchCodec,
    MergePatchCodec as MergePatchCodec,
)
from negotiate.codecs.patch.diff import (
    make_json_patch as make_json_patch,
    make_merge_patch as make_merge_patch,
)
from negotiate.codecs.patch.json_patch import apply_json_patch as apply_json_patch
from negotiate.codecs.patch.merge_patch import apply_merge_patch as apply_merge_patch
from negotiate.codecs.patch.pointer import resolve_pointer as resolve_pointer
from negotiate.codecs.patch.trusted import NormalizedBase as NormalizedBase

__all__ = [
    "JsonPatchCodec",
    "MergePatchCodec",
    "NormalizedBase",
    "apply_json_patch",
    "apply_merge_patch",
    "make_json_patch",
    "make_merge_patch",
    "resolve_pointer",
]
