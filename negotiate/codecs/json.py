"""JSON (``application/json``, ``text/json``) on orjson.

Decoding is parse, then one pass of the schema's compiled normaliser
(validate, coerce, bind names, fill defaults). Errors are located by JSON
pointer. Encoding is a single ``orjson.dumps``: a normalised carrier is
already in declaration order and its date-times are the exact text that
arrived, so nothing is lost or reordered.

Charset: JSON is UTF-8 (RFC 8259). A UTF-8 byte order mark is tolerated; a
body declared (or marked by its BOM) as UTF-16 or UTF-32 is transcoded; any
other declared charset is a 415 (:func:`json_text`).

Limits: the nodes of a body (every value and every object key) are counted
against :attr:`Options.max_nodes` before orjson builds anything (see
:func:`check_nodes`); without a schema the parsed value, and with one every
value of an unknown property, is held to :attr:`Options.max_depth` and
:attr:`Options.max_items`.

Decimals (.NET ``decimal``): a schema with a ``Decimal`` anywhere
(:attr:`Schema.decimals`) is read by :func:`loads` with ``decimals=True``, which keeps
every number's digits (orjson would make them floats; see the NOTE there); every
other schema keeps the one orjson parse. A decimal is written as a JSON number with
its exact digits, bytes as base64 text (:func:`~negotiate.codecs._text.json_default`).

NOTE: JSON text itself (the charset rule, the parser with its node budget, the
depth check) lives in :mod:`negotiate.codecs._text`, shared with the patch
formats, which are JSON too; this module re-exports those names.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from negotiate.codecs._nodes import check_nodes
from negotiate.codecs._text import check_depth, json_default, json_text, loads
from negotiate.codecs.base import BaseCodec
from negotiate.errors import EncodeError
from negotiate.media import MEDIA_JSON, MEDIA_TEXT_JSON, MediaType
from negotiate.schema import Schema
from negotiate.schema.limits import check_tree

__all__ = ["JsonCodec", "check_depth", "check_nodes", "json_text", "loads"]


class JsonCodec(BaseCodec):
    """``application/json`` and its alias ``text/json``."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_JSON, MEDIA_TEXT_JSON)

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        text = json_text(body, media_type)
        check_nodes(text, self.options.max_nodes)
        if schema is None:
            value = loads(text)
            check_tree(value, self.options)
            return value
        value = loads(text, decimals=True) if schema.decimals else loads(text)
        return schema.normalizer(value, 0, self.options)

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """One ``orjson.dumps`` of the value as given (see the module docstring)."""
        # PERF: orjson called here rather than through _text.dumps (the same error):
        # one call fewer on the hottest path there is.
        try:
            return orjson.dumps(value)
        except TypeError:
            pass
        # PERF: a decimal or bytes (a carrier with them) costs a second attempt; every
        # other value keeps one orjson call without a default hook.
        try:
            return orjson.dumps(value, default=json_default)
        except TypeError as exc:
            raise EncodeError(f"Cannot write JSON: {exc}") from None
