"""What the integrations' tests share: the README's apps, the core to compare with, cases.

Each integration answers a request as :class:`negotiate.http.App` does; these
are the requests and the core they are compared with. Imported by the test
modules of this folder as ``_shared`` (pytest puts the folder on the path).
"""

from __future__ import annotations

import functools
import re
import threading
import tracemalloc
import types
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from negotiate.auth import ANONYMOUS
from negotiate.coding import decodable_codings, encode_body
from negotiate.http import App, Response
from negotiate.media import canonical_coding
from negotiate.options import DEFAULT_OPTIONS
from negotiate.server import ENRICH_PATH

README = Path(__file__).resolve().parents[2] / "README.md"
AGENT_KEYS = {"Message", "MessageDetail", "Status", "Location"}
JSON = "application/json"


def readme_block(heading: str) -> str:
    """The first ```python block under a README heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"### {heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, f"no python block under {heading}"
    return found.group(1)


def readme_module(heading: str, name: str) -> types.ModuleType:
    """The README's block under ``heading``, run as written (its own prints included)."""
    module = types.ModuleType(name)
    exec(compile(readme_block(heading), f"README.md ({heading})", "exec"), module.__dict__)
    return module


def named(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names from keyword arguments: ``Content_Type`` -> ``Content-Type``."""
    return {k.replace("_", "-"): v for k, v in headers.items()}


def without_codings(app: App) -> App:
    """The reference application's operations behind a core without content codings.

    NOTE: the WSGI integrations leave codings to the framework (a compression
    middleware adds ``Accept-Encoding`` to ``Vary``), so the core they are
    compared with, header for header, answers without them too.
    """
    return App(
        app.operations,
        authenticator=ANONYMOUS,
        registry=app.registry,
        options=app.options,
        resources=app.resources,
        codings=False,
    )


def core(app: App, body: bytes, query: str = "", **headers: str) -> Response:
    """The core's answer to ``POST ENRICH_PATH`` (no credentials needed by ``app``)."""
    return app.handle("POST", ENRICH_PATH, query, named(headers), body)


def agent_error(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """An error body, decoded by its own Content-Type, checked to be in the agent shape."""
    media_type = headers["Content-Type"].split(";")[0]
    assert media_type in (JSON, "application/xml", "text/json", "text/xml"), media_type
    if media_type.endswith("json"):
        error: dict[str, Any] = orjson.loads(body)
    else:
        import xmltodict

        error = xmltodict.parse(body)["Error"]
        error["Status"] = int(error["Status"])
        error["Location"] = error["Location"] or ""
    assert AGENT_KEYS <= set(error), error
    assert error["Status"] == status
    assert headers["Vary"] == "Accept"
    return error


ACCEPTS = [
    ("application/json;q=0.5, application/xml", "application/xml"),
    ("text/xml;q=0.9, text/json;q=0.8", "text/xml"),
    ("application/*;q=0.2, text/json", "text/json"),
    ("*/*, application/json;q=0", "text/json"),
    ("", JSON),
]
"""(Accept, the media type chosen): q-values weighed as RFC 9110 says."""

SELECTS = ["$select=Name,Phones/Value", "%24select=name&%24SELECT=phones/value"]
"""Query strings of one ``$select`` (the second: encoded, any case, repeated)."""

SHAPINGS = [
    {},
    {"SO-TimeZone": "US-NY, includeTZOffset"},
    {"SO-TimeZone": "  "},
    {"SO-Language": "nb"},
    {"Accept-Language": "nb, en;q=0.5"},
    {"SO-Language": "nb", "Accept-Language": "en"},
    {"SO-TimeZone": "Europe/Oslo", "Accept-Language": "nb"},
    {"SO-Culture": "nb-NO"},
]
"""Shaping headers whose ``Vary`` (and ``Content-Language``) the core names differently."""

BAD_BODIES = [
    (JSON, b'{"EnrichId": 5}', 400, "/EnrichId"),
    (JSON, b'{"EnrichId": "NO-800099668"', 400, ""),
    (
        JSON,
        b'{"ContactEntity": {"Persons": [{"Rank": "x"}]}}',
        400,
        "/ContactEntity/Persons/0/Rank",
    ),
    (
        "application/xml",
        b"<EnrichContactEntityRequest><ContactEntity><ContactId>x</ContactId></ContactEntity>"
        b"</EnrichContactEntityRequest>",
        400,
        "/EnrichContactEntityRequest/ContactEntity/ContactId",
    ),
    (
        "application/x-www-form-urlencoded",
        b"ContactEntity.ContactId=abc",
        400,
        "ContactEntity.ContactId",
    ),
    (
        "application/json-patch+json",
        b'[{"op": "test", "path": "/EnrichId", "value": "x"}]',
        409,
        "/0/path",
    ),
    (
        "application/merge-patch+json",
        b'{"ContactEntity": {"ContactId": "x"}}',
        422,
        "/ContactEntity/ContactId",
    ),
]
"""(Content-Type, body, status, location) of a body the decode step refuses."""


CODINGS = ["gzip", "deflate", "br", "zstd", "x-gzip", "gzip, br", "deflate, gzip", "identity, br"]
"""``Content-Encoding`` values of a coded request body (stacked: in the order applied)."""

UNKNOWN_CODINGS = ["compress", "gzip, compress", "gzip, gzip, gzip, gzip, gzip", "b r"]
"""``Content-Encoding`` values the core answers 415 (a coding it cannot read, too many)."""

READABLE = ", ".join(decodable_codings())
"""The ``Accept-Encoding`` of a Content-Encoding 415: the codings this installation reads."""

BOMB_LIMIT = DEFAULT_OPTIONS.max_body
"""The decoded-size limit a gzip bomb meets (the README apps keep the default)."""


def coded(body: bytes, codings: str) -> bytes:
    """``body`` with the codings applied in the order ``codings`` names them."""
    for name in codings.split(","):
        coding = canonical_coding(name)
        if coding and coding != "identity":
            body = encode_body(body, coding)
    return body


@functools.cache
def gzip_bomb(size: int = 64 * 1024 * 1024) -> bytes:
    """``size`` zero bytes in gzip (64 KiB of it for 64 MiB), made a MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, compressor.flush()])


def peak_memory(send: Callable[[], Any]) -> tuple[Any, int]:
    """``send()``'s result and the most memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        result = send()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def bounded(peak: int, limit: int = BOMB_LIMIT) -> bool:
    """Whether a bomb cost about ``limit`` of memory: well under its 64 MiB decoded."""
    # NOTE: the decoded bytes up to the limit, once, and the framework's own copies of
    # the 64 KiB request; decoding it whole (or joining twice) would need 64 MiB or more.
    return peak < limit + limit // 2 + (4 << 20)


def nordvik(enrich_id: str) -> dict[str, Any]:
    """A small request wrapper: a contact with a name and one phone, and ``enrich_id``."""
    contact = {"Name": "Nordvik AS", "Phones": [{"Value": "22 96 81 51"}]}
    return {"ContactEntity": contact, "EnrichId": enrich_id}


def shaped_wrapper(wrapper: dict[str, Any]) -> dict[str, Any]:
    """``wrapper`` with a date-time and a translatable list item, for shaping to change."""
    contact = {
        **wrapper["ContactEntity"],
        "DbiLastModified": "2024-03-01T12:00:00.5+01:00",
        "Category": {"Id": 3, "Value": 'US:"Supplier";NO:"Leverandør";'},
    }
    return {**wrapper, "ContactEntity": contact}


class WaitressThread:
    """waitress serving a WSGI app in a thread on a free loopback port."""

    def __init__(self, wsgi: Any) -> None:
        from waitress.server import create_server

        self.server: Any = create_server(wsgi, host="127.0.0.1", port=0, threads=2)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> WaitressThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()
        self.server.task_dispatcher.shutdown()
        self.thread.join(timeout=20)
