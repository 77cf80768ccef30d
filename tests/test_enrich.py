"""Enrichment: the merge rules, the embedded database, the remote provider."""

from __future__ import annotations

import copy
import importlib.util
import re
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import CONTACT, FakeEnrichment, bearer, free_socket
from hypothesis import HealthCheck, given, settings
from strategies import carriers

from negotiate.auth import ANONYMOUS
from negotiate.enrich import (
    Company,
    ContactPoint,
    EmbeddedProvider,
    EnrichmentProvider,
    HttpProvider,
    Location,
    email_key,
    enrich_contact,
    phone_key,
    preview_contact,
)
from negotiate.errors import BadGateway, GatewayTimeout
from negotiate.schema import get_schema
from negotiate.server import ENRICH_PATH, PREVIEW_PATH, create_app

ROOT = Path(__file__).resolve().parent.parent
PREVIEW = get_schema("PreviewContact")


def company(**changes: Any) -> Company:
    street = Location("Storgata 12", "", "", "0155", "Oslo", "", "", "Storgata 12\n0155 Oslo")
    fields: dict[str, Any] = {
        "enrich_id": "NO-923609016",
        "name": "Nordvik Maskin AS",
        "org_nr": "923609016",
        "country": "NO",
        "country_id": 578,
        "calling_code": "47",
        "business": "Industry",
        "street": street,
        "postal": Location("Postboks 1", "", "", "0101", "Oslo", "", "", "Postboks 1\n0101 Oslo"),
        "formatted": "Storgata 12\n0155 Oslo\nNorway",
        "latitude": 59.91,
        "longitude": 10.75,
        "phones": (
            ContactPoint("+47 22 12 34 56", "Switchboard"),
            ContactPoint("+47 912 34 567", "Mobile"),
        ),
        "emails": (
            ContactPoint("post@nordvik.no", "General"),
            ContactPoint("Salg@Nordvik.no", "Sales"),
        ),
        "url": "https://www.nordvik.no",
    }
    fields.update(changes)
    return Company(**fields)


def element(value: str | None) -> dict[str, Any]:
    return {
        "Value": value,
        "StrippedValue": None,
        "Description": None,
        "TableRight": None,
        "FieldProperties": None,
    }


# -- comparison keys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code", "key"),
    [
        ("+47 22 12 34 56", "47", "22123456"),
        ("0047 22123456", "47", "22123456"),
        ("22 12 34 56", "47", "22123456"),
        ("(+47) 22-12-34-56", "47", "22123456"),
        ("+46 8 123 456 78", "46", "812345678"),
        ("08-123 456 78", "46", "812345678"),
        ("+46 8 123 456 78", "47", "+46812345678"),
        ("+44 20 7946 0123", "44", "2079460123"),
        ("020 7946 0123", "44", "2079460123"),
        ("no digits", "47", ""),
        ("", "47", ""),
        ("+47 ٢٢", "47", ""),
    ],
    ids=[
        "no-international",
        "no-00-prefix",
        "no-national",
        "no-punctuation",
        "se-international",
        "se-trunk-zero",
        "se-number-for-no-company",
        "gb-international",
        "gb-trunk-zero",
        "no-digits",
        "empty",
        "non-ascii-digits",
    ],
)
def test_phone_key(value: str, code: str, key: str) -> None:
    assert phone_key(value, code) == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Post@Nordvik.NO", "post@nordvik.no"),
        ("  a@b.no ", "a@b.no"),
        ("STRASSE@X.DE", "strasse@x.de"),
    ],
)
def test_email_key(value: str, key: str) -> None:
    assert email_key(value) == key


# -- the merge rules ------------------------------------------------------------------------


class TestMerge:
    def test_address_is_replaced(self, sample: dict[str, Any]) -> None:
        sample["Address"] = CONTACT.normalize(
            {
                "Address": {
                    "Wgs84Latitude": 1.5,
                    "Formatted": "Old street 1",
                    "LocalizedAddress": [[{"Name": "Address1", "Value": "Old street 1"}]],
                    "TableRight": {"Mask": "Select", "Reason": "kept"},
                    "Street": {"Address1": "Old street 1", "City": "Bergen"},
                }
            }
        )["Address"]
        result = enrich_contact(sample, company())
        address = result["Address"]
        assert address["Formatted"] == "Storgata 12\n0155 Oslo\nNorway"
        assert address["Street"]["Address1"] == "Storgata 12"
        assert address["Street"]["AtypeIdx"] == "ContactStreetAddress"
        assert address["Street"]["Formatted"] == "Storgata 12\n0155 Oslo"
        assert address["Postal"]["Address1"] == "Postboks 1"
        assert address["Postal"]["AtypeIdx"] == "ContactPostalAddress"
        assert (address["Wgs84Latitude"], address["Wgs84Longitude"]) == (59.91, 10.75)
        assert address["LocalizedAddress"] is None
        assert address["TableRight"] == {"Mask": "Select", "Reason": "kept"}
        assert CONTACT.normalize(result) == result  # still a normalised carrier

    def test_phones_are_added_unless_present(self) -> None:
        contact = CONTACT.normalize({"Phones": [element("22 12 34 56"), None, element("x")]})
        result = enrich_contact(contact, company())
        values = [p and p["Value"] for p in result["Phones"]]
        assert values == ["22 12 34 56", None, "x", "+47 912 34 567"]
        added = result["Phones"][-1]
        assert added["StrippedValue"] == "+4791234567"
        assert phone_key(added["StrippedValue"], "47") == phone_key(added["Value"], "47")
        assert added["Description"] == "Mobile"

    def test_existing_stripped_value_counts(self) -> None:
        phone = element(None)
        phone["StrippedValue"] = "+4791234567"
        result = enrich_contact(CONTACT.normalize({"Phones": [phone]}), company())
        assert [p["StrippedValue"] for p in result["Phones"]] == ["+4791234567", "+4722123456"]

    def test_emails_compare_case_folded(self) -> None:
        contact = CONTACT.normalize({"Emails": [element(" SALG@nordvik.no")]})
        result = enrich_contact(contact, company())
        assert [e["Value"] for e in result["Emails"]] == [" SALG@nordvik.no", "post@nordvik.no"]

    def test_duplicates_in_the_record_are_added_once(self) -> None:
        twice = company(
            phones=(ContactPoint("+47 22 12 34 56", "A"), ContactPoint("22123456", "B"))
        )
        result = enrich_contact(None, twice)
        assert [p["Description"] for p in result["Phones"]] == ["A"]

    def test_a_null_contact_is_the_default_enriched(self) -> None:
        result = enrich_contact(None, company())
        expected = CONTACT.default()
        for key in ("Address", "Phones", "Emails"):
            expected[key] = result[key]
        assert result == expected
        assert len(result["Phones"]) == 2 and len(result["Emails"]) == 2

    @pytest.mark.parametrize("existing", [False, True], ids=["null-contact", "with-phones"])
    def test_results_from_one_record_share_nothing(self, existing: bool) -> None:
        record = company()  # one object: the merge prepares it once and reuses that
        contact = CONTACT.normalize({"Phones": [element("x")]}) if existing else None
        first = enrich_contact(contact, record)
        for key in ("Street", "Postal"):
            first["Address"][key]["City"] = "changed"
        first["Address"]["Formatted"] = "changed"
        for key in ("Phones", "Emails"):
            old = len(contact[key] or ()) if contact else 0
            for item in first[key][old:]:  # the record's (the contact's own are shared)
                item["Value"] = "changed"
            first[key].append(None)
        second = enrich_contact(contact, record)
        preview = preview_contact(record)
        assert second["Address"]["Street"]["City"] == "Oslo"
        assert second["Address"]["Formatted"] == "Storgata 12\n0155 Oslo\nNorway"
        values = [e and e["Value"] for e in second["Phones"] + second["Emails"]]
        assert "changed" not in values and None not in values
        assert preview["Address"]["Postal"]["City"] != "changed"

    def test_no_phones_keeps_null(self) -> None:
        result = enrich_contact(None, company(phones=(), emails=()))
        assert result["Phones"] is None and result["Emails"] is None

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(contact=carriers(CONTACT, depth=2))
    def test_rules_hold_for_any_contact(self, contact: dict[str, Any]) -> None:
        contact = CONTACT.normalize(contact)  # declaration order, as a codec gives it
        before = copy.deepcopy(contact)
        record = company()
        result = enrich_contact(contact, record)
        assert contact == before  # the input is not modified
        assert list(result) == list(contact)  # the contact's own key order is kept
        for name in CONTACT.names:
            if name not in ("Address", "Phones", "Emails"):
                assert result[name] == contact[name], name
        for key in ("Phones", "Emails"):
            old = contact[key] or []
            assert result[key][: len(old)] == old  # nothing lost, order kept
        assert enrich_contact(result, record) == result  # idempotent
        assert CONTACT.normalize(result) == result

    def test_preview(self) -> None:
        preview = preview_contact(company())
        assert list(preview) == list(PREVIEW.names)
        assert PREVIEW.normalize(preview) == preview
        assert preview["Name"] == "Nordvik Maskin AS"
        assert preview["CountryId"] == 578
        assert preview["Number2"] == "923609016"
        assert preview["DirectPhone"] == "+47 22 12 34 56"
        assert preview["EmailAddress"] == "post@nordvik.no"
        assert preview["URL"] == "https://www.nordvik.no"
        assert preview["BusinessName"] == "Industry"
        assert preview["ContactId"] == 0
        assert preview["Address"]["Formatted"] == "Storgata 12\n0155 Oslo\nNorway"


# -- the wire form -------------------------------------------------------------------------


def test_company_round_trips_through_its_wire_form() -> None:
    record = company()
    assert Company.from_dict(orjson.loads(orjson.dumps(record.to_dict()))) == record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CountryId": "578"}, "CountryId"),
        ({"Latitude": "x"}, "Latitude"),
        ({"Longitude": True}, "Longitude"),
        ({"Name": None}, "Name"),
        ({"Street": []}, "Street"),
        ({"Postal": {"Address1": 1}}, "Postal"),
        ({"Phones": {}}, "Phones"),
        ({"Emails": [{"Value": "a"}]}, r"Emails\[0\]"),
        ({"Emails": ["a"]}, r"Emails\[0\]"),
    ],
    ids=[
        "country-id",
        "latitude",
        "longitude-bool",
        "name",
        "street",
        "postal",
        "phones",
        "email-description",
        "email-string",
    ],
)
def test_company_from_dict_names_the_bad_key(change: dict[str, Any], message: str) -> None:
    data = {**company().to_dict(), **change}
    with pytest.raises(ValueError, match=message):
        Company.from_dict(data)


def test_company_from_dict_refuses_non_objects() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        Company.from_dict([])


# -- the embedded database ---------------------------------------------------------------------


class TestEmbedded:
    def test_size_and_protocol(self, provider: EmbeddedProvider) -> None:
        assert len(provider) == 3500
        assert isinstance(provider, EnrichmentProvider)
        assert provider.blocking is False

    def test_lookup(self, provider: EmbeddedProvider, enrich_id: str) -> None:
        found = provider.lookup(enrich_id)
        assert found is not None and found.enrich_id == enrich_id
        assert provider.lookup(f"  {enrich_id.lower()} ") == found
        assert provider.lookup("NO-000000000") is None
        assert provider.lookup("") is None

    def test_ids(self, provider: EmbeddedProvider) -> None:
        assert provider.ids(3) == sorted(provider.ids(3))
        assert all(i.startswith("SE-") for i in provider.ids(5, country="se"))

    def test_every_company_is_complete(self, provider: EmbeddedProvider) -> None:
        db = sqlite3.connect(f"file:{provider.path}?mode=ro", uri=True)
        ids = [row[0] for row in db.execute("SELECT enrich_id FROM company")]
        db.close()
        countries = set()
        for key in ids:
            found = provider.lookup(key)
            assert found is not None
            countries.add(found.country)
            assert found.name and found.url.startswith("https://www.")
            assert 1 <= len(found.phones) <= 3 and 1 <= len(found.emails) <= 3
            assert all(p.value.startswith("+" + found.calling_code + " ") for p in found.phones)
            assert all(e.value.endswith("@" + found.url[12:]) for e in found.emails)
            assert found.street.formatted in found.formatted
            assert check_digit_ok(found.country, found.org_nr), found.org_nr
            assert key == f"{found.country}-{re.sub(r'[^0-9]', '', found.org_nr)}"
        assert countries == {"NO", "SE", "DK", "FI", "DE", "NL", "GB"}

    def test_the_database_is_what_the_generator_makes(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        spec = importlib.util.spec_from_file_location(
            "generate_companies", ROOT / "scripts" / "generate_companies.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, "generate_companies", module)  # for its dataclasses
        spec.loader.exec_module(module)
        shipped = module.read_rows(ROOT / "negotiate" / "data" / "companies.sqlite")
        assert shipped == list(module.generate())

    def test_threads_get_their_own_connections(self, enrich_id: str) -> None:
        local = EmbeddedProvider(cache=0)
        results: list[Any] = []

        def work() -> None:
            results.extend(local.lookup(enrich_id) for _ in range(50))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 200 and len({r.enrich_id for r in results}) == 1
        assert len(local._connections) == 4
        local.close()
        assert local._connections == []

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            EmbeddedProvider(tmp_path / "nope.sqlite")


def check_digit_ok(country: str, org_nr: str) -> bool:
    """Independent checks of the organisation number formats (not the generator's code)."""
    digits = [int(c) for c in org_nr if c.isdigit()]
    if country == "NO":
        total = sum(d * w for d, w in zip(digits, [3, 2, 7, 6, 5, 4, 3, 2, 1], strict=True))
        return len(digits) == 9 and total % 11 == 0
    if country == "SE":
        total = 0
        for i, d in enumerate(digits):
            doubled = d * (2 - i % 2)
            total += doubled // 10 + doubled % 10
        return len(digits) == 10 and total % 10 == 0 and re.fullmatch(r"\d{6}-\d{4}", org_nr)
    if country == "DK":
        total = sum(d * w for d, w in zip(digits, [2, 7, 6, 5, 4, 3, 2, 1], strict=True))
        return len(digits) == 8 and total % 11 == 0
    if country == "FI":
        total = sum(d * w for d, w in zip(digits[:7], [7, 9, 10, 5, 8, 4, 2], strict=True))
        rest = total % 11
        return rest != 1 and digits[7] == (0 if rest == 0 else 11 - rest)
    if country == "DE":
        product = 10
        for d in digits[:8]:
            s = (d + product) % 10 or 10
            product = 2 * s % 11
        return org_nr.startswith("DE") and len(digits) == 9 and (11 - product) % 10 == digits[8]
    return len(digits) == 8  # NL (KvK) and GB (Companies House) have no check digit


# -- the remote provider ---------------------------------------------------------------------------


def remote(fake: FakeEnrichment, **options: Any) -> HttpProvider:
    return HttpProvider(fake.url, proxies={}, **{"timeout": 1.0, "backoff": 0.0, **options})


class TestRemote:
    def test_found(
        self, fake_enrichment: FakeEnrichment, enrich_id: str, provider: EmbeddedProvider
    ) -> None:
        assert remote(fake_enrichment).lookup(enrich_id) == provider.lookup(enrich_id)

    def test_base_url_without_template(
        self, fake_enrichment: FakeEnrichment, enrich_id: str
    ) -> None:
        base = fake_enrichment.url.replace("/{id}", "/")
        found = HttpProvider(base, proxies={}).lookup(enrich_id)
        assert found is not None and found.enrich_id == enrich_id

    def test_404_is_none(self, fake_enrichment: FakeEnrichment) -> None:
        assert remote(fake_enrichment).lookup("NO-000000000") is None

    def test_ids_are_percent_encoded(self, fake_enrichment: FakeEnrichment) -> None:
        assert remote(fake_enrichment).lookup("a/b c?d") is None
        assert fake_enrichment.count("a/b c?d") == 1

    def test_a_failing_service_is_retried_then_502(self, fake_enrichment: FakeEnrichment) -> None:
        with pytest.raises(BadGateway, match=r"503.*after 3 attempts"):
            remote(fake_enrichment, retries=2).lookup("FAIL-503")
        assert fake_enrichment.count("FAIL-503") == 3

    def test_a_flaky_service_succeeds_within_the_retries(
        self, fake_enrichment: FakeEnrichment, enrich_id: str
    ) -> None:
        key = f"FLAKY-2-{enrich_id}"
        found = remote(fake_enrichment, retries=2).lookup(key)
        assert found is not None and found.enrich_id == enrich_id
        assert fake_enrichment.count(key) == 3

    def test_a_slow_service_is_504(self, fake_enrichment: FakeEnrichment) -> None:
        with pytest.raises(GatewayTimeout, match="did not answer within 0.2 s"):
            remote(fake_enrichment, timeout=0.2, retries=1).lookup("SLOW-1500")
        assert fake_enrichment.count("SLOW-1500") == 2

    def test_upstream_504_is_504(self, fake_enrichment: FakeEnrichment) -> None:
        with pytest.raises(GatewayTimeout):
            remote(fake_enrichment, retries=0).lookup("FAIL-504")

    @pytest.mark.parametrize(
        ("key", "message"),
        [
            ("FAIL-400", "refused the request: 400"),
            ("FAIL-403", "refused the request: 403"),
            ("BAD", "invalid company"),
            ("WRONG", "invalid company: CountryId"),
            ("HUGE", "more than 1048576 bytes"),
        ],
        ids=["400", "403", "bad-json", "wrong-shape", "oversized"],
    )
    def test_answers_that_are_not_retried(
        self, fake_enrichment: FakeEnrichment, key: str, message: str
    ) -> None:
        before = fake_enrichment.count(key)
        with pytest.raises(BadGateway, match=message):
            remote(fake_enrichment, retries=3).lookup(key)
        assert fake_enrichment.count(key) == before + 1

    def test_connection_refused_is_502(self) -> None:
        sock = free_socket()
        port = sock.getsockname()[1]
        sock.close()  # nobody listens there now
        with pytest.raises(BadGateway, match="Cannot reach"):
            HttpProvider(
                f"http://127.0.0.1:{port}/{{id}}", retries=1, backoff=0, proxies={}
            ).lookup("x")

    @pytest.mark.parametrize(
        ("url", "options", "message"),
        [
            ("ftp://x/{id}", {}, "enrichment URL must be http(s): 'ftp://x/{id}'"),
            ("http://x", {"timeout": 0}, "timeout and max_response must be positive"),
            ("http://x", {"retries": -1}, "retries and backoff >= 0"),
        ],
        ids=["scheme", "timeout", "retries"],
    )
    def test_bad_configuration(self, url: str, options: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=re.escape(message)):
            HttpProvider(url, **options)

    @pytest.mark.parametrize(
        ("key", "status"),
        [("FAIL-503", 502), ("SLOW-1500", 504), ("NO-000000000", 404)],
        ids=["502", "504", "404"],
    )
    def test_the_app_maps_provider_failures(
        self, fake_enrichment: FakeEnrichment, key: str, status: int
    ) -> None:
        app = create_app(
            provider=remote(fake_enrichment, timeout=0.2, retries=0), authenticator=ANONYMOUS
        )
        assert app.blocking  # the ASGI adapter will use a thread
        for path in (ENRICH_PATH, PREVIEW_PATH):
            response = app.handle(
                "POST",
                path,
                b"",
                {"Content-Type": "application/json", **bearer()},
                orjson.dumps({"EnrichId": key}),
            )
            assert response.status == status, response.body
