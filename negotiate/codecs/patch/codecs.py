"""The two patch codecs: :class:`JsonPatchCodec` and :class:`MergePatchCodec`.

Decoding reads the body as JSON, then applies it to a base
(:mod:`~negotiate.codecs.patch.json_patch`,
:mod:`~negotiate.codecs.patch.merge_patch`). Encoding writes the diff from the
base to the value (:mod:`~negotiate.codecs.patch.diff`).

NOTE: the patch media types are JSON, so their charset rules, parser and
writer are JSON's, from :mod:`negotiate.codecs._text` (with its depth check,
in ``_budget``), which the JSON codec uses too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from negotiate.codecs._text import dumps, json_text, loads
from negotiate.codecs.base import BaseCodec
from negotiate.codecs.patch._budget import _text_nodes, _within_by_length
from negotiate.codecs.patch.diff import make_json_patch, make_merge_patch
from negotiate.codecs.patch.json_patch import apply_json_patch
from negotiate.codecs.patch.merge_patch import _merge, apply_merge_patch
from negotiate.codecs.patch.trusted import NormalizedBase, _begin
from negotiate.errors import EncodeError, MalformedBody
from negotiate.media import MEDIA_JSON_PATCH, MEDIA_MERGE_PATCH, MediaType
from negotiate.options import Options
from negotiate.schema import Schema

__all__ = ["JsonPatchCodec", "MergePatchCodec"]


def _refuse_over_budget(text: bytes | str, options: Options) -> None:
    """Refuse, unparsed, a patch document that alone is over the work budget."""
    nodes = _text_nodes(text, options.max_nodes)
    if nodes is not None:
        raise MalformedBody(
            f"The patch is {nodes} nodes, over the work budget of {options.max_nodes} "
            "(Options.max_nodes)",
            limit=options.max_nodes,
        )


class _PatchCodec(BaseCodec):
    """Shared: the base, the empty body, JSON charset rules, errors, writing.

    A subclass gives its two operations, ``_apply`` and ``_diff``.
    """

    is_patch: ClassVar[bool] = True

    def encode_error(self, error: dict[str, Any]) -> bytes | None:
        """``None``: an error is not a change to anything; it is written as JSON."""
        return None

    def _apply(self, base: Any, patch: Any, schema: Schema | None, small: bool) -> Any:
        """Apply ``patch``; ``small``: its text is within every limit by its length."""
        raise NotImplementedError

    def _diff(self, base: Any, value: Any, schema: Schema | None) -> Any:
        raise NotImplementedError

    def empty(self, schema: Schema | None, base: Any) -> Any:
        """An empty body is an empty patch: a normalised copy of the base."""
        return _begin(base, schema, self.options, shared=False)[0]

    def decode(
        self,
        body: bytes,
        schema: Schema | None,
        *,
        media_type: MediaType | None = None,
        base: Any = None,
    ) -> Any:
        """Apply the patch in ``body`` to ``base`` (see the package's docstring).

        Raises:
            NegotiateError: 400, 409, 413, 415 or 422, located; 500 for a base
                that does not fit the schema.
        """
        options = self.options
        if len(body) > options.max_body or not body.strip():
            # The size limit and the empty body, as every codec answers them.
            return super().decode(body, schema, media_type=media_type, base=base)
        # PERF: BaseCodec.decode's steps inline: a short patch costs about as much
        # as the calls on the way to it. NOTE: charset rules are JSON's (a +json
        # type is JSON); see _text.json_text.
        text = json_text(body, media_type)
        if len(text) > options.max_nodes:
            _refuse_over_budget(text, options)
            small = False
        else:
            small = _within_by_length(text, options)
        # NOTE: a schema with decimals reads the patch's numbers exactly (see _text.loads)
        patch = loads(text, decimals=schema is not None and schema.decimals)
        try:
            return self._apply(base, patch, schema, small)
        except RecursionError:
            # NOTE: only with a max_depth near Python's recursion limit.
            raise MalformedBody("The patch is nested too deeply") from None

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """The patch from ``base`` (``schema.default()`` if ``None``) to ``value``.

        Raises:
            EncodeError: the change cannot be expressed in this format (a merge
                patch cannot carry some ``null``s), or a value cannot be written
                as JSON.
        """
        if type(base) is NormalizedBase:
            base = base.value
        try:
            patch = self._diff(base, value, schema)
        except RecursionError:
            raise EncodeError("The value is nested too deeply to diff") from None
        return dumps(patch)


class JsonPatchCodec(_PatchCodec):
    """``application/json-patch+json``: a JSON Patch applied to, or diffed from, a base."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_JSON_PATCH,)
    offered: ClassVar[bool] = True

    def _apply(self, base: Any, patch: Any, schema: Schema | None, small: bool) -> Any:
        return apply_json_patch(base, patch, schema, self.options)

    def _diff(self, base: Any, value: Any, schema: Schema | None) -> Any:
        if base is None and schema is not None:
            base = schema.default()
        return make_json_patch(base, value, typed=schema is not None)


class MergePatchCodec(_PatchCodec):
    """``application/merge-patch+json``: a merge patch applied to, or diffed from, a base."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_MERGE_PATCH,)
    offered: ClassVar[bool] = True

    def _apply(self, base: Any, patch: Any, schema: Schema | None, small: bool) -> Any:
        if small:
            # PERF: measuring a short merge patch costs as much as merging it.
            return _merge(base, patch, schema, self.options)
        return apply_merge_patch(base, patch, schema, self.options)

    def _diff(self, base: Any, value: Any, schema: Schema | None) -> Any:
        return make_merge_patch(base, value, schema)
