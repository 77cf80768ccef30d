"""The command line: ``negotiate convert``.

``negotiate convert`` reads a body in one media type and writes it in
another, through the same pipeline an HTTP server runs
(:class:`negotiate.pipeline.Pipeline`: decode, ``$select``, shaping, encode;
the value itself stands in for a handler). Bad input is one line on stderr,
with the location, and exit status 2.

Where the command line differs from an HTTP body, on purpose:

- empty input (or only whitespace) is an error, not the carrier's default as
  for an HTTP request: on a terminal it is almost always a missing pipe or file;
- form input loses its trailing line breaks (``echo`` and editors add one; a
  form encoder never writes a raw one, it writes ``%0A``);
- a value the output format cannot carry is a 400, not the codec's 500: here
  the value is the user's input, not an application's response.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any, BinaryIO, NoReturn

from negotiate.codecs import CodecRegistry, JsonCodec, default_registry
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    NotAcceptable,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.media import MEDIA_FORM, MEDIA_JSON, parse_content_type
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Writer
from negotiate.schema import SCHEMAS, Schema, get_schema, schema_of
from negotiate.superoffice import sample_contact

__all__ = ["convert", "main", "resolve_type", "sample_contact", "version"]

EXIT_BAD_INPUT = 2


def version() -> str:
    """The installed distribution's version; the package's ``__version__`` when not installed."""
    try:
        return metadata.version("negotiate")
    except metadata.PackageNotFoundError:
        from negotiate import __version__

        return __version__


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for (metadata lookups scan ``sys.path``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:  # noqa: A002
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> NoReturn:
        print(f"negotiate {version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    registry = default_registry()
    parser = argparse.ArgumentParser(
        prog="negotiate",
        description="Content negotiation and serialization of SuperOffice carriers.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser(
        "convert",
        help="convert a body from one media type to another",
        description="Read a body (a file, stdin, or the bundled sample) in one media type "
        "and write it to stdout in another. Types: " + ", ".join(registry.request_types),
    )
    convert.add_argument("input", nargs="?", help="input file (default: stdin)")
    convert.add_argument(
        "--from",
        dest="source",
        default=MEDIA_JSON,
        metavar="MEDIA",
        help="Content-Type of the input, parameters allowed (default: application/json)",
    )
    convert.add_argument(
        "--to",
        dest="target",
        default=MEDIA_JSON,
        metavar="MEDIA",
        help="media type to write (default: application/json)",
    )
    convert.add_argument(
        "--type",
        dest="carrier",
        default="ContactEntity",
        metavar="CARRIER",
        help="carrier to read: " + ", ".join(SCHEMAS) + ", a TypedDict of your own as "
        "module:Name (imported from sys.path and the current directory), or none for "
        "plain data (default: ContactEntity)",
    )
    convert.add_argument(
        "--sample",
        action="store_true",
        help="convert the bundled sample ContactEntity instead of reading input",
    )
    convert.add_argument(
        "--select",
        metavar="FIELDS",
        help="$select: keep these fields (comma-separated, / for nesting), null the rest",
    )
    convert.add_argument(
        "--timezone",
        metavar="ZONE",
        help="SO-TimeZone: a SuperOffice zone code or id, or an IANA name; "
        "append ', includeTZOffset' to write offsets",
    )
    convert.add_argument(
        "--language", metavar="TAG", help="SO-Language: translate multi-language values"
    )
    convert.add_argument(
        "--culture", metavar="TAG", help="SO-Culture (validated; used only with a language)"
    )
    convert.add_argument(
        "--base",
        metavar="FILE",
        help="JSON file: the value a JSON Patch or merge patch input applies to, or the "
        "value a patch output is the diff from (default: the carrier's default)",
    )
    convert.add_argument(
        "--unknown",
        choices=("ignore", "error"),
        default="ignore",
        help="what to do with properties the carrier does not declare (default: ignore)",
    )
    schema = commands.add_parser(
        "schema",
        help="write a carrier's JSON Schema, OpenAPI components or XSD to stdout",
        description="Export a carrier's schema: JSON Schema (Draft 2020-12), an OpenAPI 3.1 "
        "document with its components, or an XSD in DataContractSerializer's shape.",
    )
    schema.add_argument(
        "--type",
        dest="carrier",
        default="ContactEntity",
        metavar="CARRIER",
        help="a catalogue carrier or module:Name (default: ContactEntity)",
    )
    schema.add_argument(
        "--format",
        dest="format",
        choices=("json-schema", "openapi", "xsd"),
        default="json-schema",
        help="what to write (default: json-schema)",
    )
    serve = commands.add_parser(
        "serve",
        help="serve EnrichContactEntity over HTTP (needs the extra: pip install "
        "'negotiate[server]')",
    )
    # NOTE: imported when the parser is built, not with this module: ``import negotiate.cli``
    # (for ``convert``, say) loads no server machinery.
    from negotiate.server import add_serve_arguments

    add_serve_arguments(serve)
    return parser


def _read(path: str | None, stdin: BinaryIO) -> bytes:
    if path is None or path == "-":
        return stdin.read()
    with open(path, "rb") as handle:
        return handle.read()


def _is_form(source: str) -> bool:
    try:
        return parse_content_type(source).essence == MEDIA_FORM
    except UnsupportedMediaType:
        return False  # convert() reports it, in its place among the other errors


def convert(
    body: bytes,
    source: str,
    target: str,
    schema: Schema | None,
    *,
    options: Options = DEFAULT_OPTIONS,
    select: str | None = None,
    shaping: Mapping[str, str] | None = None,
    base: Any = None,
) -> bytes:
    """Decode ``body`` as ``source``, shape it like a response, encode it as ``target``.

    Args:
        body: the input bytes.
        source: the input's Content-Type (parameters such as charset allowed).
        target: the media type to write.
        schema: the carrier, or ``None`` for plain data.
        options: decoding policy and limits.
        select: a ``$select`` expression (needs a schema).
        shaping: response-shaping headers (``SO-TimeZone``, ``SO-Language``, ...).
        base: for patch formats, the value the input patch applies to and the value
            the output diff starts from (default: the schema's default).

    Raises:
        NotAcceptable: no codec writes ``target``.
        InvalidValue: ``target`` cannot carry the decoded value (an XML document
            without one root, a string with a character XML cannot hold, ...).
        NegotiateError: the body is bad, or a type or option is not supported.
    """
    registry = default_registry(options)
    registry.for_content_type(source)  # NOTE: the input's 415 comes before the output's 406
    try:
        writer = registry.writer(target)
    except UnsupportedMediaType as exc:
        # NOTE: the registry speaks of a Content-Type; for the output that reads wrong.
        raise NotAcceptable(
            f"Cannot write {excerpt(target)}; the output types are "
            + ", ".join(registry.request_types),
            supported=list(registry.request_types),
        ) from exc
    given = None if base is None else lambda _: base
    pipeline = _Convert(
        target,
        schema,
        registry=registry,
        options=options,
        request_base=given,
        response_base=given,
    )
    if schema is None:
        plan = pipeline.plan(writer, source)
        if select or shaping:
            # NOTE: refused where the $select step runs: a bad body is reported first.
            refusal = MalformedBody("--select and shaping options need a carrier type (--type)")
            plan = dataclasses.replace(plan, projector=refusal)
    else:
        plan = pipeline.plan(writer, source, select=select, headers=shaping or None)
    return pipeline.run(plan, body, None)


class _Convert(Pipeline[None]):
    """The pipeline of ``convert``: one carrier in and out, and no handler.

    A value the output cannot carry is the input's fault here (see :meth:`encode`).

    Args:
        target: the ``--to`` media type as given (for messages).
        schema: the carrier, or ``None``.
        registry, options, request_base, response_base: as for :class:`Pipeline`.
    """

    def __init__(
        self,
        target: str,
        schema: Schema | None,
        *,
        registry: CodecRegistry,
        options: Options,
        request_base: Callable[[None], Any] | None,
        response_base: Callable[[Any], Any] | None,
    ) -> None:
        super().__init__(
            schema,
            schema,
            registry=registry,
            options=options,
            request_base=request_base,
            response_base=response_base,
        )
        self.target = target

    def encode(self, writer: Writer, value: Any, base: Any) -> bytes:
        try:
            return super().encode(writer, value, base)
        except EncodeError as exc:
            # NOTE: a codec's EncodeError is a 500 because in a server the value is the
            # application's own; here it is the caller's input (a schemaless XML value
            # with two top-level keys, say), so it is the input that is at fault.
            raise InvalidValue(
                f"Cannot write the input as {excerpt(self.target)}: {exc.message}",
                location=exc.location,
            ) from exc


def resolve_type(text: str, *, allow_none: bool = True) -> Schema | None:
    """The schema ``--type`` names: a catalogue carrier, ``module:Name``, or ``none``.

    Raises:
        KeyError: no catalogue carrier of that name.
        ImportError: the module of ``module:Name`` cannot be imported, or
            importing it raised (a ``SyntaxError``, any error of its own code).
        AttributeError: the module has no such name.
        TypeError: the name is not a carrier in the vocabulary (from ``schema_of``).
        ValueError: its DataContract name is not an XML name (from ``schema_of``).
    """
    if text.lower() == "none" and allow_none:
        return None
    module_name, colon, name = text.partition(":")
    if not colon:
        return get_schema(text)
    if not module_name or not name:
        raise KeyError(f"--type {text!r}: give module:Name, such as myapp.carriers:Order")
    # NOTE: as `python -m` does, so that a module beside the user imports.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # NOTE: the user's module may raise anything while it loads.
        raise ImportError(
            f"--type {text!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    try:
        declared = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"--type {text!r}: {module_name!r} has no {name!r}") from None
    return schema_of(declared)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from negotiate.server import run

        return run(args)
    try:
        schema = resolve_type(args.carrier, allow_none=args.command == "convert")
    except (KeyError, TypeError, ValueError, ImportError, AttributeError) as exc:
        print(f"negotiate: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "schema":
        from negotiate.schema.export import export

        assert schema is not None
        sys.stdout.buffer.write(export(schema, args.format))
        sys.stdout.buffer.flush()
        return 0
    try:
        if args.sample:
            body = sample_contact()
        else:
            if args.input in (None, "-") and sys.stdin.isatty():
                # NOTE: otherwise a bare ``negotiate convert`` just waits, silently.
                print(
                    "negotiate: reading the body from stdin (end it with Ctrl-D)", file=sys.stderr
                )
            body = _read(args.input, sys.stdin.buffer)
            if not body.strip():
                where = "stdin" if args.input in (None, "-") else repr(args.input)
                what = "is empty" if not body else "has only whitespace"
                print(
                    f"negotiate: no input: {where} {what}; give a body on stdin or a FILE, "
                    "or --sample",
                    file=sys.stderr,
                )
                return EXIT_BAD_INPUT
            if _is_form(args.source):
                body = body.rstrip(b"\r\n")
        base = None
        if args.base is not None:
            base = JsonCodec().decode(_read(args.base, sys.stdin.buffer), schema)
        headers = {
            name: text
            for name, text in (
                ("SO-TimeZone", args.timezone),
                ("SO-Language", args.language),
                ("SO-Culture", args.culture),
            )
            if text
        }
        output = convert(
            body,
            args.source,
            args.target,
            schema,
            options=Options(unknown=args.unknown),
            select=args.select,
            shaping=headers,
            base=base,
        )
    except NegotiateError as exc:
        print(f"negotiate: {exc.status} {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"negotiate: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        sys.stdout.buffer.write(output if output.endswith(b"\n") else output + b"\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # NOTE: the reader went away (``| head``); that is not an error of ours.
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
