"""One request's way through the library: decode -> handle -> project -> shape -> encode.

The HTTP core (:class:`negotiate.http.App`) and ``negotiate convert``
(:mod:`negotiate.cli`) run the same steps, here, once each:

1. **decode** the body with the codec of its Content-Type (an empty body is the
   request carrier's default; a patch body applies to the request base);
2. **handle**: the operation's function turns the request value into the
   response value (``convert`` has none: the value is passed on);
3. **project** by the compiled ``$select``;
4. **shape** by ``SO-TimeZone`` / ``SO-Language`` / ``Accept-Language`` / ``SO-Culture``;
5. **encode** with the negotiated :class:`Writer` (a patch-format response is
   the diff from the response base).

A :class:`Pipeline` is built once per operation. Everything a request's headers
and query string decide is resolved once, before its body is read, into a
frozen :class:`Plan` (:meth:`Pipeline.plan`); :meth:`Pipeline.run` then only
runs the steps. A plan without a refusal is memoised by what it was resolved
from (writer, Content-Type, ``$select``, shaping headers): the usual request
builds none.

Values are trusted downstream: a decoded value is a normalised carrier, and a
handler's result must be one (the contract of
:class:`negotiate.http.Operation`), so no step normalises again; ``$select``,
shaping and the codecs take their fast paths on it. The normalisation of a
request is the decode's, once.

A refusal met while planning (an unsupported Content-Type, an unknown
``$select`` path, a malformed shaping header) is kept in the plan in place of
what it refuses and raised when its step runs, so that a request with several
faults is answered as it always was: the body's fault before the ``$select``'s,
and a handler's own error before a shaping header's.

The body limit: the adapters hold a body to ``Options.max_body`` while they
read it, :class:`negotiate.http.App` checks ``Content-Length`` before, and
the decode step holds the bytes to it once. When the codec is a
:class:`~negotiate.codecs.base.BaseCodec` with the same limit (the default:
the registry is built from the same options), the codec's own first-thing
check *is* that once and the pipeline does not repeat it. The pipeline checks
itself when there is no codec (no or an unsupported Content-Type), when the
codec's limit is another, and when a request base is fetched before decoding
(so that no base is looked up for a body that is refused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from negotiate.codecs import CodecRegistry, default_registry
from negotiate.codecs.base import BaseCodec, Codec
from negotiate.codecs.registry import Writer as Writer
from negotiate.errors import BodyTooLarge, MalformedBody, NegotiateError, UnsupportedMediaType
from negotiate.media import MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.resources import DEFAULT_RESOURCES, Resources
from negotiate.schema import Schema
from negotiate.schema.copies import copy_json
from negotiate.select import Projector, compile_select
from negotiate.shaping import Shaping

__all__ = ["Pipeline", "Plan", "Writer", "snapshot"]

C = TypeVar("C")
"""What a handler is given besides the value (``negotiate.http.Context``; ``None`` in the CLI)."""

_MEMO_LIMIT = 256
_Key = tuple[Writer, str | None, str | None, tuple[tuple[str, str], ...] | None]


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """What one request's headers and query string decide, resolved before its body.

    Build it with :meth:`Pipeline.plan`. A field that could not be resolved holds
    the :class:`~negotiate.errors.NegotiateError` that says why, raised by the step
    that needs it (see the module docstring).

    Attributes:
        writer: the negotiated response writer.
        reader: the codec for the body's Content-Type; ``None`` without a Content-Type.
        request_type: the parsed Content-Type, or ``None``.
        request_essence: its media type without parameters (``application/json``).
        limit: the body size the decode step checks itself; ``None`` when the
            reader's own check is that one check.
        projector: the compiled ``$select``, or ``None`` without one.
        shaping: the response shaping, or ``None`` when nothing is to be shaped.
        steps: ``(body, context) -> response body``: the steps this plan needs,
            fused (:meth:`Pipeline.run` calls it), or ``None`` when run step by step.
    """

    writer: Writer
    reader: Codec | NegotiateError | None
    request_type: MediaType | None
    request_essence: str | None
    limit: int | None
    projector: Projector | NegotiateError | None
    shaping: Shaping | NegotiateError | None
    steps: Callable[[bytes, Any], bytes] | None = None


class Pipeline(Generic[C]):
    """decode -> handle -> project -> shape -> encode for one operation, built once.

    Args:
        request: the request body's carrier (``None``: plain data).
        response: the response carrier (``None``: plain data; no ``$select``, no shaping).
        handler: ``(request value, context) -> response value``, a normalised
            ``response`` carrier; ``None``: the request value is the response value.
        registry: the codecs (default: :func:`~negotiate.codecs.default_registry`
            with ``options``).
        options: the body limit (and the default registry's policy).
        resources: the resource table shaping translates ``[SR_NAME]`` references with.
        request_base: ``(context) -> value`` a patch request body applies to;
            ``None``: the request carrier's default.
        response_base: ``(request value) -> value`` a patch-format response is the
            diff from; ``None``: the response carrier's default.
    """

    def __init__(
        self,
        request: Schema | None,
        response: Schema | None,
        *,
        handler: Callable[[Any, C], Any] | None = None,
        registry: CodecRegistry | None = None,
        options: Options = DEFAULT_OPTIONS,
        resources: Resources = DEFAULT_RESOURCES,
        request_base: Callable[[C], Any] | None = None,
        response_base: Callable[[Any], Any] | None = None,
    ) -> None:
        self.request = request
        self.response = response
        self.handler = handler
        self.registry = registry if registry is not None else default_registry(options)
        self.options = options
        self.resources = resources
        self.request_base = request_base
        self.response_base = response_base
        # PERF: (writer, Content-Type, $select, shaping headers) -> its plan: a plan is
        # immutable, so requests asking the same share one, and the shaping headers
        # are parsed once (Shaping.from_headers is a few µs). Writers are memoised by
        # the registry and compare by identity, so a codec registered later makes new
        # writers, and new keys.
        self._plans: dict[_Key, Plan] = {}

    def __repr__(self) -> str:
        request = self.request.name if self.request is not None else None
        response = self.response.name if self.response is not None else None
        return f"Pipeline({request} -> {response})"

    # -- planning ------------------------------------------------------------------

    def plan(
        self,
        writer: Writer,
        content_type: str | None,
        *,
        select: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Plan:
        """Resolve what the request's headers and query string decide.

        Args:
            writer: the negotiated response writer.
            content_type: the request's Content-Type header, or ``None``.
            select: the ``$select`` text (``None`` or empty: none).
            headers: the shaping headers (``SO-TimeZone``, ``SO-Language``,
                ``Accept-Language``, ``SO-Culture``; other names are ignored), or
                ``None`` when there are none.

        Returns:
            The plan; refusals inside it (see :class:`Plan`), never raised here.
        """
        # NOTE: without a response carrier nothing is shaped: the headers are not read.
        shaped = tuple(headers.items()) if headers and self.response is not None else None
        key = (writer, content_type, select or None, shaped)
        found = self._plans.get(key)
        if found is not None:
            return found
        reader, request_type, limit = self._reader(content_type)
        projector = self._projector(select) if select else None
        shaping = self._shaping(headers) if shaped is not None and headers else None
        essence = request_type.essence if request_type is not None else None
        steps = self._fused(writer, reader, request_type, limit, projector, shaping)
        plan = Plan(writer, reader, request_type, essence, limit, projector, shaping, steps)
        if not (
            isinstance(reader, NegotiateError)
            or isinstance(projector, NegotiateError)
            or isinstance(shaping, NegotiateError)
        ):
            # NOTE: refusals are never shared: an exception object is raised once.
            if len(self._plans) >= _MEMO_LIMIT:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _reader(
        self, content_type: str | None
    ) -> tuple[Codec | NegotiateError | None, MediaType | None, int | None]:
        limit = self.options.max_body
        if not content_type:
            return None, None, limit
        try:
            codec, media_type = self.registry.for_content_type(content_type)
        except NegotiateError as exc:
            return exc, None, limit
        # NOTE: BaseCodec.decode holds the body to its own max_body before anything else,
        # with the same message. When that limit is ours, its check is the one check.
        # Not when a request base is to be fetched first (the 413 comes before the base
        # is looked up), nor for a codec whose decode is its own.
        if (
            self.request_base is None
            and isinstance(codec, BaseCodec)
            and type(codec).decode is BaseCodec.decode
            and codec.options.max_body == limit
        ):
            return codec, media_type, None
        return codec, media_type, limit

    def _fused(
        self,
        writer: Writer,
        reader: Codec | NegotiateError | None,
        request_type: MediaType | None,
        limit: int | None,
        projector: Projector | NegotiateError | None,
        shaping: Shaping | NegotiateError | None,
    ) -> Callable[[bytes, C], bytes] | None:
        """The usual plan's steps in one function: decode, handle, encode.

        PERF: a plan with a codec whose limit is the one check, no request base, no
        ``$select``, no shaping and a writer that is not a patch format (the usual
        request) runs as ``encode(handler(read(body), context))`` with the codec's
        bound reader (:meth:`BaseCodec.reader`), without the step methods between.
        Every other plan runs step by step (``None``), and so does every plan of a
        subclass that overrides a step (``decode`` or ``encode``).
        """
        kind = type(self)
        if (
            kind.decode is not Pipeline.decode
            or kind.encode is not Pipeline.encode
            or reader is None
            or isinstance(reader, NegotiateError)
            or limit is not None
            or self.request_base is not None
            or projector is not None
            or shaping is not None
            or writer.is_patch
        ):
            return None
        # NOTE: limit None means a BaseCodec whose own check is the one (see _reader)
        assert isinstance(reader, BaseCodec)
        read = reader.reader(self.request, request_type)
        encode = writer.codec.encode
        response = self.response
        handler = self.handler
        if handler is None:

            def steps(body: bytes, context: C) -> bytes:
                return encode(read(body), response)

            return steps
        handle = handler

        def handled(body: bytes, context: C) -> bytes:
            return encode(handle(read(body), context), response)

        return handled

    def _projector(self, select: str) -> Projector | NegotiateError:
        if self.response is None:
            return MalformedBody("$select is not supported on this resource", location="$select")
        try:
            return compile_select(self.response, select, options=self.options)
        except NegotiateError as exc:
            if not exc.location:
                exc.location = "$select"
            return exc

    def _shaping(self, headers: Mapping[str, str]) -> Shaping | NegotiateError | None:
        try:
            shaping = Shaping.from_headers(headers, resources=self.resources)
        except NegotiateError as exc:
            return exc
        return shaping if shaping.active else None

    # -- the steps -------------------------------------------------------------------

    def run(self, plan: Plan, body: bytes, context: C) -> bytes:
        """Run the steps on one request body.

        Args:
            plan: the request's plan (from :meth:`plan`).
            body: the whole request body.
            context: passed to the handler and the request base.

        Returns:
            The encoded response body (its Content-Type is ``plan.writer.content_type``).

        Raises:
            NegotiateError: the request is refused (a bad body, ``$select`` or
                shaping header, a handler's error) or the result cannot be written.
        """
        steps = plan.steps
        if steps is not None:
            return steps(body, context)
        value = self.decode(plan, body, context)
        writer = plan.writer
        base: Any = None
        if writer.is_patch and self.response_base is not None:
            # NOTE: snapshot before the handler runs: handlers, $select and shaping
            # may share or reuse parts of the request value.
            base = snapshot(self.response_base(value))
        projector = plan.projector
        if isinstance(projector, NegotiateError):
            raise projector
        handler = self.handler
        result = value if handler is None else handler(value, context)
        if projector is not None:
            result = projector.apply(result)
        shaping = plan.shaping
        schema = self.response
        if shaping is not None and schema is not None:
            if isinstance(shaping, NegotiateError):
                raise shaping
            result = shaping.apply(schema, result)
        if writer.is_patch and base is None and schema is not None:
            base = schema.default()
        return self.encode(writer, result, base)

    def decode(self, plan: Plan, body: bytes, context: C) -> Any:
        """The decode step: the request value (normalised, with a request carrier).

        Raises:
            NegotiateError: 413, 415, or the codec's 400/409/422.
        """
        limit = plan.limit
        if limit is not None and len(body) > limit:
            raise BodyTooLarge(
                f"Body of {len(body)} bytes is over the limit of {limit}", limit=limit
            )
        reader = plan.reader
        if reader is None:
            if body.strip():
                raise UnsupportedMediaType(
                    "A body needs a Content-Type", supported=list(self.registry.request_types)
                )
            return self.request.default() if self.request is not None else None
        if isinstance(reader, NegotiateError):
            raise reader
        base = self.request_base(context) if self.request_base is not None else None
        return reader.decode(body, self.request, media_type=plan.request_type, base=base)

    def encode(self, writer: Writer, value: Any, base: Any) -> bytes:
        """The encode step: ``value`` (shaped) in the writer's format.

        Args:
            writer: the negotiated writer.
            value: the response value.
            base: for a patch writer, the value the diff starts from.

        Raises:
            EncodeError: the value cannot be written in this format.
        """
        return writer.codec.encode(value, self.response, base=base)


def snapshot(value: Any) -> Any:
    """A deep copy of a JSON-like value (orjson's round trip is the fast one).

    What :meth:`Pipeline.run` keeps of a response base before the handler runs; for an
    integration that runs the steps apart (decode in one hook, encode in another).
    """
    return None if value is None else copy_json(value)
