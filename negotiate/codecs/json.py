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

from collections.abc import Callable
from typing import Any, ClassVar

import orjson

from negotiate.codecs._nodes import check_nodes
from negotiate.codecs._text import (
    _JSON_UTF8,
    check_depth,
    json_default,
    json_text,
    loads,
)
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

    def reader(self, schema: Schema | None, media_type: MediaType | None) -> Callable[[bytes], Any]:
        """``decode`` bound to a schema and Content-Type, its steps fused for the usual body.

        PERF: a request plan reads every body through this. A body under the size
        limit and the node budget's free bound that orjson parses is
        ``normalizer(orjson.loads(body))``, in one call; any other body (empty,
        blank, large, malformed, or marked: JSON text cannot start with a byte of a
        byte order mark, so orjson refuses those) takes :meth:`decode`, which
        transcodes or raises its located error. The result is the same either way.
        """
        charset = media_type.charset if media_type is not None and media_type.params else None
        if (
            schema is None
            or schema.decimals
            or (charset is not None and charset not in _JSON_UTF8)
            or type(self).decode is not BaseCodec.decode
            or type(self)._decode is not JsonCodec._decode
        ):
            return super().reader(schema, media_type)
        decode = self.decode
        normalizer = schema.normalizer
        options = self.options
        # NOTE: at most max_body bytes, and below check_nodes' free bound.
        bound = min(options.max_body + 1, 2 * options.max_nodes)
        parse = orjson.loads
        malformed = orjson.JSONDecodeError

        def read(body: bytes) -> Any:
            if len(body) >= bound:
                return decode(body, schema, media_type=media_type)
            try:
                value = parse(body)
            except malformed:  # NOTE: empty, blank or not JSON: decode says which
                return decode(body, schema, media_type=media_type)
            return normalizer(value, 0, options)

        return read

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
