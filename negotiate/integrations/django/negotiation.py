"""DRF content negotiation by RFC 9110 (q-values), and the parser by Content-Type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import Http404
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.settings import api_settings
from rest_framework.utils.mediatypes import media_type_matches

from negotiate.errors import (
    NotAcceptable,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.integrations.django.formats import NegotiateParser
from negotiate.media import best_match, parse_content_type

__all__ = ["ContentNegotiation"]

# -- content negotiation -----------------------------------------------------------------


class ContentNegotiation(BaseContentNegotiation):  # type: ignore[misc]
    """DRF content negotiation by RFC 9110: q-values, then the server's order.

    The renderer: the one whose media type ``Accept`` prefers
    (:func:`negotiate.media.best_match`: the highest q, ``q=0`` excludes, ties to the
    view's renderer order; no Accept: the first); nothing acceptable is a 406 listing
    the renderers' types (unless the registry falls back to its default). DRF's
    ``?format=`` and format suffixes narrow the renderers first, as in DRF.
    The parser: the one for the Content-Type's media type, parameters aside (DRF's
    own parsers, also by their media ranges); none is a 415 listing the parsers' types.
    """

    def select_parser(self, request: Any, parsers: Sequence[Any]) -> Any:
        """The parser for the request's Content-Type.

        Raises:
            UnsupportedMediaType: no parser for it, or a malformed Content-Type.
        """
        content_type = request.content_type
        supported = [parser.media_type for parser in parsers]
        if not content_type:
            raise UnsupportedMediaType("A body needs a Content-Type", supported=supported)
        essence = parse_content_type(content_type).essence
        for parser in parsers:
            if parser.media_type == essence:
                return parser
        for parser in parsers:  # DRF's own parsers may name ranges (FileUploadParser: */*)
            if not isinstance(parser, NegotiateParser) and media_type_matches(
                parser.media_type, content_type
            ):
                return parser
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {excerpt(essence)}", supported=supported
        )

    def select_renderer(
        self, request: Any, renderers: Sequence[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        """The renderer ``Accept`` prefers, and its media type.

        Raises:
            NotAcceptable: no renderer is acceptable.
            Http404: a format suffix or ``?format=`` no renderer has (DRF's answer).
        """
        override = api_settings.URL_FORMAT_OVERRIDE
        wanted = format_suffix or (request.query_params.get(override) if override else None)
        if wanted:
            renderers = [renderer for renderer in renderers if renderer.format == wanted]
            if not renderers:
                raise Http404
        # PERF: best_match memoises by (Accept, offers); a view's offers are one tuple.
        offers = tuple(renderer.media_type for renderer in renderers)
        accept = request.META.get("HTTP_ACCEPT")
        chosen = best_match(accept, offers)
        if chosen is None:
            registry = getattr(renderers[0], "registry", None) if renderers else None
            if registry is None or registry.not_acceptable == "error":
                raise NotAcceptable(
                    f"None of the available types is acceptable: {excerpt(accept)}",
                    supported=list(offers),
                )
            chosen = offers[0]
        return renderers[offers.index(chosen)], chosen
