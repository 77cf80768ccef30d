"""What the header parsers share: RFC 9110's token, parameter and qvalue grammar, and
the bounds of the caches built on it."""

from __future__ import annotations

import re
from typing import Final

__all__ = []

_Params = tuple[tuple[str, str], ...]


_CACHE_SIZE: Final = 512
_MEMO_SIZE: Final = 1024


_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_ESSENCE_RE: Final = re.compile(rf"[{_TCHAR}]+/[{_TCHAR}]+")
_TOKEN_RE: Final = re.compile(rf"[{_TCHAR}]+")
# OWS ";" OWS [ name OWS "=" OWS ( token / quoted-string ) ]; the parameter is optional
# because RFC 9110 allows empty ones (";;").
_PARAM_RE: Final = re.compile(
    rf"[ \t]*;[ \t]*(?:([{_TCHAR}]+)[ \t]*=[ \t]*"
    rf'(?:([{_TCHAR}]+)|"((?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*)"))?'
)

_QUOTED_PAIR_RE: Final = re.compile(r"\\(.)", re.DOTALL)
_QVALUE_RE: Final = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
