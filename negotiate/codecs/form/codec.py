"""The form codec: :class:`FormCodec`, over the readers and writers of this package."""

from __future__ import annotations

from typing import Any, ClassVar

from negotiate._codegen import SlowPath
from negotiate.codecs._text import text_codec
from negotiate.codecs.base import BaseCodec
from negotiate.codecs.form.keys import _Path
from negotiate.codecs.form.read import _check_fields, _pairs, _plain, _read
from negotiate.codecs.form.write import _WRITERS, _surrogate, _write_plain
from negotiate.errors import EncodeError, UnsupportedMediaType, excerpt
from negotiate.media import MEDIA_FORM, MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Schema

__all__ = ["FormCodec"]

_ASCII_COMPATIBLE = frozenset(
    {"utf-8", "ascii", "latin-1", "koi8-r", "koi8-u"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {f"cp{n}" for n in range(1250, 1259)}
)


class FormCodec(BaseCodec):
    """``application/x-www-form-urlencoded``: read as requests, written for clients."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_FORM,)
    offered: ClassVar[bool] = False
    charset: ClassVar[str | None] = None  # NOTE: the type defines no parameters (WHATWG)

    def __init__(self, options: Options = DEFAULT_OPTIONS) -> None:
        super().__init__(options)
        self._paths: dict[tuple[Schema, str], dict[bytes, _Path]] = {}

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        charset = self._charset(media_type)
        _check_fields(body, self.options.max_nodes, charset)
        if schema is None:
            return _plain(_pairs(body, charset), self.options.max_items)
        memo = self._paths.get((schema, charset))
        if memo is None:
            memo = self._paths[(schema, charset)] = {}
        return _read(body, schema, self.options, charset, memo)

    def pairs(self, body: bytes, charset: str = "utf-8") -> list[tuple[str, str]]:
        """The body's ``(key, value)`` pairs, percent-decoded, in order.

        Raises:
            MalformedBody: a bad ``%`` escape or bytes invalid in ``charset``, naming
                the key.
        """
        return _pairs(body, charset)

    def _charset(self, media_type: MediaType | None) -> str:
        label = media_type.charset if media_type is not None else None
        if label is None:
            return "utf-8"
        name = text_codec(label)
        if name is None or name not in _ASCII_COMPATIBLE:
            raise UnsupportedMediaType(
                f"Unsupported charset {excerpt(label)} for a form (it must be ASCII-compatible)",
                supported=["utf-8", "iso-8859-1", "windows-1252"],
            )
        return name

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """Write ``value`` as a form body (see the package docstring for the rules).

        Without a schema, ``value`` is a flat dict of strings (or lists of strings,
        written as repeated keys), as decoding without a schema gives it.

        Raises:
            EncodeError: the value does not fit the schema (located by JSON pointer),
                or is a NaN or infinite double.
        """
        if schema is None:
            return _write_plain(value)
        writer = _WRITERS.carrier(schema)
        out: list[str] = []
        try:
            try:
                writer(out, "", value)
            except (SlowPath, KeyError, TypeError, AttributeError, RecursionError):
                value = self._normalized(value, schema)
                out = []
                try:
                    writer(out, "", value)
                except (SlowPath, KeyError, TypeError, AttributeError, RecursionError) as exc:
                    raise EncodeError(f"Cannot write {schema.name} as a form: {exc!r}") from None
        except UnicodeEncodeError:
            raise EncodeError(
                "A string holds a lone surrogate, which UTF-8 cannot carry",
                location=_surrogate(value),
            ) from None
        return "&".join(out).encode("ascii")
