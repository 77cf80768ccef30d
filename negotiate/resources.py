"""Resource strings: what ``[SR_NAME]`` references translate to.

SuperOffice stores some texts (field-right reasons, archive headings) as
references such as ``[SR_MANDATORY_FIELD_1281]`` and replaces them with the
text in the request's language. The table is pluggable: anything with a
``lookup(name, language)`` method (:class:`Resources`) will do; a
:class:`ResourceTable` wraps a plain mapping. :data:`DEFAULT_RESOURCES` is a
small built-in table, enough for the samples and the tests; an application
with SuperOffice's real resource files plugs in its own.

Languages are SuperOffice's two-letter codes (``US``, ``NO``, ``GE``, ``SW``,
``DA``, ``FR``, ``DU``, ``FI``; see :mod:`negotiate.shaping`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_RESOURCES", "ResourceTable", "Resources"]


@runtime_checkable
class Resources(Protocol):
    """A source of resource strings."""

    def lookup(self, name: str, language: str) -> str | None:
        """The text of resource ``name`` (without brackets, e.g.
        ``SR_MANDATORY_FIELD_1281``) in ``language`` (a SuperOffice code),
        or ``None`` when there is none."""
        ...


class ResourceTable:
    """Resources from a mapping ``{language: {name: text}}``.

    Args:
        table: texts by SuperOffice language code, then by resource name;
            codes and names are matched case-insensitively.
    """

    def __init__(self, table: Mapping[str, Mapping[str, str]]) -> None:
        self._table: dict[str, dict[str, str]] = {
            language.upper(): {name.upper(): text for name, text in texts.items()}
            for language, texts in table.items()
        }

    def __repr__(self) -> str:
        return f"ResourceTable({', '.join(self._table)})"

    def lookup(self, name: str, language: str) -> str | None:
        """The text, or ``None`` (see :meth:`Resources.lookup`)."""
        texts = self._table.get(language.upper())
        if texts is None:
            return None
        return texts.get(name.upper())

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes the table has texts for."""
        return tuple(self._table)


# NOTE: the names are ones SuperOffice documents (the Headers page and archive
# samples); the texts are ours, written for these tests, not SuperOffice's
# own resource files. The French text of SR_MANDATORY_FIELD_1281 is the one the
# Headers page shows.
DEFAULT_RESOURCES = ResourceTable(
    {
        "US": {
            "SR_MANDATORY_FIELD_1281": "Company name",
            "SR_SLEVEL_INTERNAL": "Internal",
            "SR_TICKETARCHIVE_SLEVEL": "Security level",
        },
        "NO": {
            "SR_MANDATORY_FIELD_1281": "Firmanavn",
            "SR_SLEVEL_INTERNAL": "Intern",
            "SR_TICKETARCHIVE_SLEVEL": "Sikkerhetsnivå",
        },
        "GE": {
            "SR_MANDATORY_FIELD_1281": "Firmenname",
            "SR_SLEVEL_INTERNAL": "Intern",
            "SR_TICKETARCHIVE_SLEVEL": "Sicherheitsstufe",
        },
        "SW": {
            "SR_MANDATORY_FIELD_1281": "Företagsnamn",
            "SR_SLEVEL_INTERNAL": "Intern",
            "SR_TICKETARCHIVE_SLEVEL": "Säkerhetsnivå",
        },
        "DA": {
            "SR_MANDATORY_FIELD_1281": "Firmanavn",
            "SR_SLEVEL_INTERNAL": "Intern",
            "SR_TICKETARCHIVE_SLEVEL": "Sikkerhedsniveau",
        },
        "FR": {
            "SR_MANDATORY_FIELD_1281": "Nom de société",
            "SR_SLEVEL_INTERNAL": "Interne",
            "SR_TICKETARCHIVE_SLEVEL": "Niveau de sécurité",
        },
        "DU": {
            "SR_MANDATORY_FIELD_1281": "Bedrijfsnaam",
            "SR_SLEVEL_INTERNAL": "Intern",
            "SR_TICKETARCHIVE_SLEVEL": "Beveiligingsniveau",
        },
        "FI": {
            "SR_MANDATORY_FIELD_1281": "Yrityksen nimi",
            "SR_SLEVEL_INTERNAL": "Sisäinen",
            "SR_TICKETARCHIVE_SLEVEL": "Suojaustaso",
        },
    }
)
"""A small built-in table: three documented resource names in eight languages."""
