"""Negotiation: picking a response type for an Accept header, and a codec for a Content-Type.

Ours: ``CodecRegistry.for_accept`` (what a server calls per request) and
``media.best_match``, with Chrome's Accept header, both repeated (memo warm:
the same header on every request, the common case) and first-seen (every
cache emptied before each call with ``media.clear_caches()``, and a new
registry so its memo is empty; that clearing is inside our timing).
Peers: werkzeug's ``parse_accept_header(h, MIMEAccept).best_match(offers)``
and, when Django REST framework is installed,
``DefaultContentNegotiation.select_renderer`` on a request built once; neither
caches, so both rows time the same peer call. The registry's first-seen rows come
twice: as first written (a new ``CodecRegistry`` per call, its construction timed too)
and with the registry built once and its memos emptied (``clear_memos()``) per call,
which is what a server's first sight of a header costs. Content-Type:
``CodecRegistry.for_content_type`` against werkzeug's ``parse_options_header``
and Django's ``parse_header_parameters``, each followed by the dictionary
lookup of the codec.

Checks: every side picks the media type werkzeug picks; for Content-Type,
every side finds our JSON codec and the charset ``utf-8``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benches.data import CHROME_ACCEPT, CONTENT_TYPE, OFFERS
from benches.harness import Row, Unavailable, import_optional
from negotiate import media
from negotiate.codecs import CodecRegistry, default_registry

__all__ = ["CAVEATS", "rows"]

CAVEATS = [
    "Negotiation: every side answers the same question (which offer for Chrome's Accept) and "
    "the answers are compared. Ours caches parsed headers and memoises the answer; werkzeug "
    "and DRF re-parse on every call, so the 'repeated' rows measure our memo against their "
    "parser. The 'first-seen' rows clear our caches (and build a new registry) inside the "
    "timed call, so they include that clearing. DRF's figure includes its format-override "
    "check on a request object built once; DRF ranks ranges by specificity and ignores q, "
    "a different rule that happens to agree on Chrome's header.",
    "Negotiation, first-seen: the registry rows as first written build a new CodecRegistry "
    "inside the timed call (about 1 µs here, a third of the Content-Type row), which no request "
    "pays: a server builds its registry once. The rows marked 'registry built once' empty "
    "that registry's memos instead (clear_memos(), plus media.clear_caches() as before); "
    "the old rows stay, unchanged, for comparison with earlier runs, and issue 14's goal "
    "(at least 1× DRF and werkzeug for a first-seen header) is checked on the rows that time "
    "the header, not the registry's construction.",
]

_BUILT_INSIDE = (
    " (its construction, about 0.9 µs and paid once per server, is timed: issue 14's goal "
    "is on the 'registry built once' row)"
)


def _drf() -> tuple[Callable[[Any, list[Any]], Any], Any, type] | None:
    """DRF's negotiator, a request carrying ``CHROME_ACCEPT`` and a renderer class; or None."""
    try:
        django = import_optional("django")
        conf = import_optional("django.conf")
        import_optional("rest_framework")
    except Unavailable:
        return None
    if not conf.settings.configured:
        # NOTE: no project: the least settings DRF's request and negotiation need.
        conf.settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            INSTALLED_APPS=["rest_framework"],
            USE_TZ=True,
        )
        django.setup()
    factory = import_optional("django.test").RequestFactory()
    request_cls = import_optional("rest_framework.request").Request
    negotiation = import_optional("rest_framework.negotiation")
    request = request_cls(factory.get("/", HTTP_ACCEPT=CHROME_ACCEPT))

    class Renderer:
        def __init__(self, media_type: str) -> None:
            self.media_type = media_type
            self.format = media_type.rpartition("/")[2]

    negotiator = negotiation.DefaultContentNegotiation()
    return negotiator.select_renderer, request, Renderer


def _accept_peers(offers: tuple[str, ...]) -> dict[str, Callable[[], Any]]:
    werkzeug_http = import_optional("werkzeug.http")
    mime_accept = import_optional("werkzeug.datastructures").MIMEAccept
    parse = werkzeug_http.parse_accept_header
    peers: dict[str, Callable[[], Any]] = {
        "werkzeug": lambda: parse(CHROME_ACCEPT, mime_accept).best_match(offers),
    }
    drf = _drf()
    if drf is not None:
        select, request, renderer = drf
        renderers = [renderer(offer) for offer in offers]
        peers["DRF"] = lambda: select(request, renderers)[0].media_type
    return peers


def _same_choice(expected: str) -> Callable[[str, Any], str | None]:
    def check(name: str, result: Any) -> str | None:
        chosen = result[1] if isinstance(result, tuple) else result
        if chosen != expected:
            return f"{name} picked {chosen!r}, expected {expected!r}"
        return None

    return check


def _content_type_peers(registry: CodecRegistry) -> dict[str, Callable[[], Any]]:
    codecs = {t: registry.codec(t) for t in registry.request_types}
    peers: dict[str, Callable[[], Any]] = {}
    parse_options = import_optional("werkzeug.http").parse_options_header

    def werkzeug() -> Any:
        essence, params = parse_options(CONTENT_TYPE)
        return codecs[essence.lower()], params.get("charset")

    peers["werkzeug"] = werkzeug
    try:
        parse_header = import_optional("django.utils.http").parse_header_parameters
    except (Unavailable, AttributeError):
        return peers

    def django() -> Any:
        essence, params = parse_header(CONTENT_TYPE)
        return codecs[essence.lower()], params.get("charset")

    peers["Django"] = django
    return peers


def rows() -> list[Row]:
    """Accept (repeated and first-seen; registry and best_match) and Content-Type rows."""
    registry = default_registry()
    codecs = list(dict.fromkeys(registry.codec(t) for t in registry.request_types))
    served = registry.response_types
    registry_peers = _accept_peers(served)
    offer_peers = _accept_peers(OFFERS)
    # The expected answers come from werkzeug, the reference peer, not from us.
    registry_choice = registry_peers["werkzeug"]()
    offers_choice = offer_peers["werkzeug"]()
    repeated = {"werkzeug": 100.0}
    first_seen = {"werkzeug": 5.0, "DRF": 1.0}
    content_first_seen = {"werkzeug": 1.0}
    built_once = CodecRegistry(codecs)

    def for_accept_cold() -> Any:
        media.clear_caches()
        return CodecRegistry(codecs).for_accept(CHROME_ACCEPT)

    def best_match_cold() -> Any:
        media.clear_caches()
        return media.best_match(CHROME_ACCEPT, OFFERS)

    def for_content_type_cold() -> Any:
        media.clear_caches()
        codec, media_type = CodecRegistry(codecs).for_content_type(CONTENT_TYPE)
        return codec, media_type.charset

    def for_accept_built_once() -> Any:
        media.clear_caches()
        built_once.clear_memos()
        return built_once.for_accept(CHROME_ACCEPT)

    def for_content_type_built_once() -> Any:
        media.clear_caches()
        built_once.clear_memos()
        codec, media_type = built_once.for_content_type(CONTENT_TYPE)
        return codec, media_type.charset

    def for_content_type() -> Any:
        codec, media_type = registry.for_content_type(CONTENT_TYPE)
        return codec, media_type.charset

    expected_codec = registry.codec(CONTENT_TYPE.partition(";")[0])

    def content_check(name: str, result: Any) -> str | None:
        if result != (expected_codec, "utf-8"):
            return f"{name} resolved {CONTENT_TYPE!r} to {result!r}"
        return None

    served_note = f"offers: the registry's {', '.join(served)}"
    offers_note = f"offers: {', '.join(OFFERS)}"
    return [
        Row(
            "negotiation",
            "Accept repeated: registry.for_accept",
            lambda: registry.for_accept(CHROME_ACCEPT),
            registry_peers,
            _same_choice(registry_choice),
            repeated,
            "issue 2",
            served_note,
        ),
        Row(
            "negotiation",
            "Accept repeated: media.best_match",
            lambda: media.best_match(CHROME_ACCEPT, OFFERS),
            offer_peers,
            _same_choice(offers_choice),
            repeated,
            "issue 2",
            offers_note,
        ),
        Row(
            "negotiation",
            "Accept first-seen: registry.for_accept",
            for_accept_cold,
            registry_peers,
            _same_choice(registry_choice),
            {"werkzeug": first_seen["werkzeug"]},
            "issue 2",
            served_note + "; a new registry per call" + _BUILT_INSIDE,
        ),
        Row(
            "negotiation",
            "Accept first-seen: registry.for_accept, registry built once",
            for_accept_built_once,
            registry_peers,
            _same_choice(registry_choice),
            first_seen,
            "issues 2, 14",
            served_note + "; its memos emptied per call",
        ),
        Row(
            "negotiation",
            "Accept first-seen: media.best_match",
            best_match_cold,
            offer_peers,
            _same_choice(offers_choice),
            first_seen,
            "issues 2, 14",
            offers_note,
        ),
        Row(
            "negotiation",
            "Content-Type repeated: registry.for_content_type",
            for_content_type,
            _content_type_peers(registry),
            content_check,
        ),
        Row(
            "negotiation",
            "Content-Type first-seen: registry.for_content_type",
            for_content_type_cold,
            _content_type_peers(registry),
            content_check,
            note="a new registry per call" + _BUILT_INSIDE,
        ),
        Row(
            "negotiation",
            "Content-Type first-seen: registry.for_content_type, registry built once",
            for_content_type_built_once,
            _content_type_peers(registry),
            content_check,
            content_first_seen,
            "issue 14",
            "its memos emptied per call",
        ),
    ]
