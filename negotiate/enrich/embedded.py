"""The embedded enrichment source: a SQLite file shipped in the package.

``negotiate/data/companies.sqlite`` holds 3,500 fictitious Nordic and
European companies, generated reproducibly by
``scripts/generate_companies.py`` (names, organisation numbers with their
check digits, street and postal addresses, coordinates, phones, emails, web
sites). ``EnrichId`` is the country code and the organisation number's
digits: ``NO-923609016``, ``SE-5561234567``.

The file is opened read-only and immutable (no locks, no journal, no
network); each thread gets its own connection, so WSGI servers with thread
pools need no lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from negotiate.enrich.model import Company, ContactPoint, Location

__all__ = ["EmbeddedProvider"]

_COMPANY_SQL = "SELECT * FROM company WHERE enrich_id = ?"
_PHONES_SQL = "SELECT value, description FROM phone WHERE enrich_id = ? ORDER BY rank"
_EMAILS_SQL = "SELECT value, description FROM email WHERE enrich_id = ? ORDER BY rank"
_CACHE_LIMIT = 4096
_MISSING = object()


class EmbeddedProvider:
    """Companies from the packaged SQLite file (or another file of the same schema).

    Args:
        path: the database file (default: the one shipped in the package).
        cache: how many companies to keep in memory (the file is read-only,
            so a cached record never goes stale); 0 disables the cache.
    """

    blocking = False  # NOTE: a primary-key lookup in a local file takes microseconds

    def __init__(self, path: str | Path | None = None, *, cache: int = _CACHE_LIMIT) -> None:
        self._stack = contextlib.ExitStack()
        if path is None:
            resource = resources.files("negotiate").joinpath("data/companies.sqlite")
            path = self._stack.enter_context(resources.as_file(resource))
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no enrichment database at {self.path}")
        self._uri = f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Company | None] = OrderedDict()
        self._cache_limit = cache

    def __repr__(self) -> str:
        return f"EmbeddedProvider({str(self.path)!r})"

    def lookup(self, enrich_id: str) -> Company | None:
        """The company with this ``EnrichId`` (case-insensitive), or ``None``."""
        key = enrich_id.strip().upper()
        # PERF: the file never changes, so a record once read is good forever.
        cache = self._cache
        found = cache.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        company = self._fetch(key)
        if self._cache_limit:
            with self._lock:
                cache[key] = company
                if len(cache) > self._cache_limit:
                    cache.popitem(last=False)
        return company

    def ids(self, limit: int = 10, country: str | None = None) -> list[str]:
        """Some ``EnrichId`` s, in key order (for examples and demos).

        Args:
            limit: how many.
            country: only this ISO country code (``"NO"``).
        """
        db = self._db()
        if country is None:
            rows = db.execute("SELECT enrich_id FROM company ORDER BY 1 LIMIT ?", (limit,))
        else:
            rows = db.execute(
                "SELECT enrich_id FROM company WHERE country = ? ORDER BY 1 LIMIT ?",
                (country.upper(), limit),
            )
        return [row[0] for row in rows]

    def __len__(self) -> int:
        count: int = self._db().execute("SELECT count(*) FROM company").fetchone()[0]
        return count

    def close(self) -> None:
        """Close every connection (of every thread) and release the file."""
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
            self._local = threading.local()
        self._stack.close()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # NOTE: check_same_thread=False only so that close() may close connections
            # opened by other threads; each thread still uses its own.
            db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def _fetch(self, key: str) -> Company | None:
        db = self._db()
        row = db.execute(_COMPANY_SQL, (key,)).fetchone()
        if row is None:
            return None
        phones = db.execute(_PHONES_SQL, (key,)).fetchall()
        emails = db.execute(_EMAILS_SQL, (key,)).fetchall()
        return Company(
            enrich_id=row[0],
            name=row[1],
            org_nr=row[2],
            country=row[3],
            country_id=row[4],
            calling_code=row[5],
            business=row[6],
            street=Location(*row[7:15]),
            postal=Location(*row[15:23]),
            formatted=row[23],
            latitude=row[24],
            longitude=row[25],
            url=row[26],
            phones=tuple(ContactPoint(v, d) for v, d in phones),
            emails=tuple(ContactPoint(v, d) for v, d in emails),
        )
