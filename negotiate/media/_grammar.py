"""What the header parsers share: RFC 9110's token, parameter and qvalue grammar, and
the bounds of the caches built on it."""

from __future__ import annotations

import re
from itertools import product
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


# The fast pass (the scanners in types.py and accept.py): a header of tokens is read with
# str methods, and whatever the scan cannot decide goes to the regular expressions above.
# PERF: bytes.translate(None, delete) drops these characters in C: what is left is the
# delimiters (after _TCHARS), blanks (after _LIST_CHARS), or one the scan does not read
# (a quote, a control character, another separator).
_TCHARS: Final = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LIST_CHARS: Final = _TCHARS + b",;/="
_DELIMITERS: Final = b";/= \t"


def _qvalue_table() -> dict[str, float]:
    # Every string _QVALUE_RE accepts (1,117 of them) and its weight: one lookup replaces
    # the grammar check and float().
    table = {"0": 0.0, "1": 1.0, "1.": 1.0, "1.0": 1.0, "1.00": 1.0, "1.000": 1.0}
    for width in range(4):
        for digits in product("0123456789", repeat=width):
            text = "0." + "".join(digits)
            table[text] = float(text)
    return table


_QVALUES: Final = _qvalue_table()
