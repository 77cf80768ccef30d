"""SO-Language and Accept-Language: language codes, RFC 4647 lookup, multi-language texts.

``[SR_]`` references too; SO-Culture is read here. Part of :mod:`negotiate.shaping`
(see its docstring).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Final

from negotiate.errors import MalformedBody, excerpt
from negotiate.media import language_ranges, lookup_language
from negotiate.resources import Resources

__all__ = ["LANGUAGE_CODES", "parse_accept_language", "superoffice_language", "translate"]


LANGUAGE_CODES: Final[Mapping[str, str]] = {
    "en": "US",
    "nb": "NO",
    "nn": "NO",
    "no": "NO",
    "de": "GE",
    "sv": "SW",
    "da": "DA",
    "fr": "FR",
    "fi": "FI",
    "nl": "DU",
}
"""ISO 639-1 primary language subtag -> SuperOffice language code, where the
two differ or SuperOffice documents the code. Other subtags are upper-cased."""

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*", re.ASCII)
_OFF = frozenset({"*", "x", "X"})
_MULTI = re.compile(r'(?:[A-Z]{2}:"[^"]*";)*[A-Z]{2}:"[^"]*";?')
_PART = re.compile(r'([A-Z]{2}):"([^"]*)"')
_RESOURCE = re.compile(r"\[(SR_[A-Za-z0-9_]+)\]", re.ASCII)


def superoffice_language(tag: str) -> str:
    """The SuperOffice language code for a language tag (``nb-NO`` -> ``NO``)."""
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGE_CODES.get(primary, primary.upper())


parse_accept_language = language_ranges
"""The ranges of an ``Accept-Language`` header, most preferred first
(:func:`negotiate.media.language_ranges`: one reading of the header for
shaping and for ``Content-Language``)."""


def translate(text: str, languages: tuple[str, ...], resources: Resources) -> str:
    """Translate one string (see the module docstring).

    Args:
        text: the value.
        languages: SuperOffice codes, most preferred first (non-empty).
        resources: where ``[SR_NAME]`` references are looked up.

    Returns:
        The translated text, or ``text`` itself when nothing applied.
    """
    out = text
    if ':"' in out and _MULTI.fullmatch(out) is not None:
        texts = dict(_PART.findall(out))
        for language in languages:
            if language in texts:
                out = texts[language]
                break
        else:
            out = next(iter(texts.values()))
    if "[SR_" in out:

        def replace(match: re.Match[str]) -> str:
            for language in languages:
                found = resources.lookup(match[1], language)
                if found is not None:
                    return found
            return match[0]

        replaced = _RESOURCE.sub(replace, out)
        if replaced != out:
            out = replaced
    return out


def _canonical_tag(tag: str) -> str:
    """``nb-no`` -> ``nb-NO``, ``zh_hant_tw`` -> ``zh-Hant-TW`` (BCP 47 case)."""
    primary, *rest = tag.replace("_", "-").split("-")
    parts = [primary.lower()]
    for sub in rest:
        if len(sub) == 2 and sub.isalpha():
            parts.append(sub.upper())
        elif len(sub) == 4 and sub.isalpha():
            parts.append(sub.title())
        else:
            parts.append(sub.lower())
    return "-".join(parts)


# The tag Content-Language names for a SuperOffice code (the ISO 639-1 code of its
# language); a code without one here is named by itself in lower case.
_CODE_TAGS: Final[Mapping[str, str]] = {
    "US": "en",
    "NO": "no",
    "GE": "de",
    "SW": "sv",
    "DA": "da",
    "FR": "fr",
    "FI": "fi",
    "DU": "nl",
}
_KNOWN_OFFERS: Final = tuple(dict.fromkeys((*LANGUAGE_CODES, *(c.lower() for c in _CODE_TAGS))))


def _language_offers(resources: Resources) -> tuple[str, ...]:
    """The language tags this server has, for RFC 4647 lookup (see the module docs)."""
    listed = getattr(resources, "languages", ())
    if not listed:
        return _KNOWN_OFFERS
    extra = []
    for code in listed:
        if isinstance(code, str) and _TAG.fullmatch(code) is not None:
            tag = code.lower()
            if tag not in _KNOWN_OFFERS and tag not in extra:
                extra.append(tag)
    return (*_KNOWN_OFFERS, *extra) if extra else _KNOWN_OFFERS


def _offer_code(offer: str) -> str:
    # an ISO tag maps through LANGUAGE_CODES; a SuperOffice code is itself
    return LANGUAGE_CODES.get(offer) or offer.upper()


def _offer_tag(offer: str) -> str:
    if offer in LANGUAGE_CODES:
        return offer
    code = offer.upper()
    return _CODE_TAGS.get(code, offer)


def _language_headers(
    so_language: str | None, accept_language: str | None, offers: tuple[str, ...]
) -> tuple[tuple[str, ...], str | None, str | None]:
    """(SuperOffice codes, most preferred first; the client's tag; the Content-Language)."""
    if so_language is not None and so_language.strip():
        tag = so_language.strip()
        if tag in _OFF:
            return (), None, None
        if _TAG.fullmatch(tag) is None:
            raise MalformedBody(
                f"Expected a language tag (such as 'nb-NO') or '*' or 'x', got {excerpt(tag)}",
                location="SO-Language",
            )
        found = lookup_language(tag, offers)
        if found is None:
            return (), None, None
        return (_offer_code(found),), _canonical_tag(tag), _offer_tag(found)
    if accept_language is None:
        return (), None, None
    return _accepted_languages(accept_language, offers)


@functools.lru_cache(maxsize=256)
def _accepted_languages(
    header: str, offers: tuple[str, ...]
) -> tuple[tuple[str, ...], str | None, str | None]:
    codes: list[str] = []
    first: str | None = None
    content: str | None = None
    for wanted in parse_accept_language(header):
        if wanted in _OFF:
            continue
        # NOTE: RFC 4647 lookup of this range alone, then of the whole header over
        # what it found: the second says whether a q=0 range excludes it.
        found = lookup_language(wanted, offers)
        if found is None:
            continue
        code = _offer_code(found)
        if code in codes or lookup_language(header, (found,)) is None:
            continue
        codes.append(code)
        if first is None:
            first, content = _canonical_tag(wanted), _offer_tag(found)
    return tuple(codes), first, content


def _culture_header(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    tag = value.strip()
    if tag in _OFF:
        return None
    if _TAG.fullmatch(tag) is None:
        raise MalformedBody(
            f"Expected a culture name (such as 'sv' or 'nb-NO'), got {excerpt(tag)}",
            location="SO-Culture",
        )
    return _canonical_tag(tag)
