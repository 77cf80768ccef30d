"""The codec contract and the small base class every codec shares.

A codec converts between bytes of one format and plain Python data (a
normalised carrier when a schema is given, plain JSON-like data without one).
The registry picks codecs by media type; the HTTP layer and the CLI only
ever talk to this interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, runtime_checkable

from negotiate.errors import (
    EXCERPT_LIMIT,
    BodyTooLarge,
    EncodeError,
    MalformedBody,
    NegotiateError,
)
from negotiate.media import MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Schema

__all__ = ["BaseCodec", "Codec", "clip", "too_many_nodes"]


def clip(text: str) -> str:
    """Client text shown unquoted in a message (a name, a key), cut as ``excerpt`` cuts."""
    return text if len(text) <= EXCERPT_LIMIT else text[:EXCERPT_LIMIT] + "…"


def too_many_nodes(limit: int, nodes: str, location: str = "") -> MalformedBody:
    """The 400 of a body past its work budget, :attr:`Options.max_nodes`.

    Every decoder raises this one error, located at the first node past the
    budget, so that clients see one message and one ``Limit`` field for it.

    Args:
        limit: the budget.
        nodes: what a node is in the format ("JSON values and keys").
        location: where the first node past the budget is.
    """
    return MalformedBody(
        f"Over the limit of {limit} nodes ({nodes}) in one body", location=location, limit=limit
    )


@runtime_checkable
class Codec(Protocol):
    """What a format has to provide.

    Attributes:
        media_types: the types it reads and writes, the preferred one first.
        offered: whether it is offered as a response type in negotiation
            (form-urlencoded is not: it only encodes, for clients).
    """

    media_types: ClassVar[tuple[str, ...]]
    offered: ClassVar[bool]

    def decode(
        self,
        body: bytes,
        schema: Schema | None,
        *,
        media_type: MediaType | None = None,
        base: Any = None,
    ) -> Any:
        """Read a request body.

        Args:
            body: the raw bytes.
            schema: the carrier to read, or ``None`` for plain data.
            media_type: the parsed Content-Type (its charset is honoured).
            base: for patch formats, the value the patch applies to
                (default: ``schema.default()``); other formats ignore it.

        Raises:
            NegotiateError: 400, 409, 413, 415 or 422, located.
        """
        ...

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """Write a value.

        Args:
            value: a normalised carrier (from ``decode``, ``Schema.default``
                or ``Schema.normalize``) or plain data without a schema.
            schema: the carrier's schema, or ``None``.
            base: for patch formats, the value the diff starts from.

        Raises:
            EncodeError: the value cannot be written in this format.
        """
        ...

    def content_type(self, media_type: str) -> str:
        """The Content-Type header for a response of ``media_type``."""
        ...


class BaseCodec:
    """Shared behaviour: options, the size limit, the empty body, headers."""

    media_types: ClassVar[tuple[str, ...]] = ()
    offered: ClassVar[bool] = True
    charset: ClassVar[str | None] = "utf-8"
    is_patch: ClassVar[bool] = False
    """A patch format: a response is the diff from a base (the patch codecs say so)."""

    def __init__(self, options: Options = DEFAULT_OPTIONS) -> None:
        self.options = options

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self.media_types)})"

    def decode(
        self,
        body: bytes,
        schema: Schema | None,
        *,
        media_type: MediaType | None = None,
        base: Any = None,
    ) -> Any:
        """Check the size, answer an empty body with the default, else parse."""
        if len(body) > self.options.max_body:
            raise BodyTooLarge(
                f"Body of {len(body)} bytes is over the limit of {self.options.max_body}",
                limit=self.options.max_body,
            )
        if not body.strip():
            return self.empty(schema, base)
        return self._decode(body, schema, media_type, base)

    def reader(self, schema: Schema | None, media_type: MediaType | None) -> Callable[[bytes], Any]:
        """``decode`` bound to one schema and Content-Type, for a caller that reads many
        bodies of them (a request plan): ``reader(schema, media_type)(body)`` is
        ``decode(body, schema, media_type=media_type)``. A codec may fuse its steps
        for the usual body here (JSON does); the result and every error stay the same.
        """
        decode = self.decode

        def read(body: bytes) -> Any:
            return decode(body, schema, media_type=media_type)

        return read

    def empty(self, schema: Schema | None, base: Any) -> Any:
        """The value of an empty body: the schema's default (``None`` without one)."""
        return schema.default() if schema is not None else None

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        raise NotImplementedError

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        raise NotImplementedError

    def _normalized(self, value: Any, schema: Schema) -> dict[str, Any]:
        """A normalised copy of ``value`` to write, for writers that do not trust their
        input; what the schema refuses is the application's fault (500)."""
        try:
            return schema.normalize(value, self.options)
        except NegotiateError as exc:
            raise EncodeError(
                f"Cannot write {schema.name}: {exc.message}", location=exc.location
            ) from None
        except RecursionError:
            raise EncodeError(f"Cannot write {schema.name}: nested too deeply") from None

    def encode_error(self, error: dict[str, Any]) -> bytes | None:
        """An error document (``NegotiateError.to_dict()``) in this format.

        The default writes the dict as plain data (``encode(error, None)``); a format
        with its own error shape overrides this (XML's ``<Error>``).

        Returns:
            The body, or ``None``: write the error as JSON instead (patch formats).

        Raises:
            EncodeError: the document cannot be written in this format.
        """
        return self.encode(error, None)

    def content_type(self, media_type: str) -> str:
        """``media_type`` with this format's charset parameter, if it has one."""
        if self.charset is None:
            return media_type
        return f"{media_type}; charset={self.charset}"
