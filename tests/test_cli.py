"""``negotiate convert``: through the registry, errors as one line, exit 2."""

from __future__ import annotations

import io
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import orjson
import pytest

import negotiate
from negotiate import MEDIA_JSON, MEDIA_XML, get_schema
from negotiate.cli import convert, main, sample_contact, version
from negotiate.errors import EncodeError, InvalidValue

DATA = Path(__file__).parent / "data" / "superoffice"


def run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "negotiate.cli", *args], input=stdin, capture_output=True, timeout=60
    )


def test_the_bundled_sample_is_the_reference_page_sample() -> None:
    assert orjson.loads(sample_contact()) == orjson.loads(
        (DATA / "contact-sample.json").read_bytes()
    )


def test_convert_sample_json_to_json(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["convert", "--sample"]) == 0
    out = orjson.loads(capsysbinary.readouterr().out)
    assert out["Name"] == "Christiansen, Lehner and Reichel"
    assert out["UpdatedDate"] == "2015-11-08T11:24:47.8282933+01:00"


def test_convert_reads_stdin_and_writes_stdout() -> None:
    result = run(
        ["convert", "--from", "text/json", "--to", "application/json"], b'{"name": "Acme"}'
    )
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["Name"] == "Acme"


def test_convert_reads_a_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"EnrichId": "42"}')
    assert main(["convert", "--type", "EnrichContactEntityRequest", str(path)]) == 0
    assert orjson.loads(capsysbinary.readouterr().out) == {"ContactEntity": None, "EnrichId": "42"}


def test_convert_without_a_schema_keeps_plain_data(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"anything": [1, 2]}')
    assert main(["convert", "--type", "none", str(path)]) == 0
    assert orjson.loads(capsysbinary.readouterr().out) == {"anything": [1, 2]}


def test_convert_select_and_timezone_shape_like_a_response(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["convert", "--sample", "--select", "name,department", "--timezone", "UTC"]) == 0
    out = orjson.loads(capsysbinary.readouterr().out)
    assert out["Name"] == "Christiansen, Lehner and Reichel" and out["Department"] == ""
    assert out["OrgNr"] is None and out["ContactId"] == 0


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            [],
            b'{"Persons": [{"Rank": "x"}]}',
            "400 Expected int32, got str 'x' - at /Persons/0/Rank",
        ),
        ([], b'{"Name": ', "400 Malformed JSON"),
        (["--from", "text/plain"], b"{}", "415 Unsupported Content-Type 'text/plain'"),
        (["--from", "application/json; charset=latin-1"], b"{}", "415 Unsupported charset"),
        (["--unknown", "error"], b'{"Bogus": 1}', "400 Unknown property 'Bogus'"),
        (["--select", "nope"], b"{}", "400 Unknown field 'nope'"),
        (["--type", "Nope"], b"{}", "unknown carrier 'Nope'"),
        (["missing-file.json"], b"", "No such file"),
    ],
    ids=[
        "wrong-type",
        "truncated",
        "unsupported-type",
        "unsupported-charset",
        "unknown-property",
        "bad-select",
        "bad-type",
        "missing-file",
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    args: list[str], stdin: bytes, expected: str
) -> None:
    result = run(["convert", *args], stdin)
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("negotiate: ")
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        ([], b"", "no input: stdin is empty"),
        (["--from", "application/xml"], b" \n\t", "no input: stdin has only whitespace"),
        (["--from", "application/x-www-form-urlencoded"], b"\n", "no input: stdin"),
        (
            ["--type", "none", "--to", "application/xml"],
            b'{"a": 1, "b": 2}',
            "400 Cannot write the input as 'application/xml': ",
        ),
        (
            ["--to", "application/xml"],
            b'{"Name": "a\\u0001b"}',
            "400 Cannot write the input as 'application/xml': ",
        ),
        (["--to", "text/html"], b"{}", "406 Cannot write 'text/html'; the output types are "),
    ],
    ids=["empty", "whitespace-only", "empty-form", "xml-two-roots", "xml-control-char", "bad-to"],
)
def test_rough_input_is_one_line_on_stderr_and_exit_2(
    args: list[str], stdin: bytes, expected: str
) -> None:
    result = run(["convert", *args], stdin)
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("negotiate: ")
    assert expected in lines[0]


def test_an_empty_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(b"")
    result = run(["convert", str(path)])
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        f"negotiate: no input: {str(path)!r} is empty; give a body on stdin or a FILE, or --sample"
    )


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\n\n"], ids=["lf", "crlf", "two-lf"])
def test_form_input_loses_its_trailing_line_break(ending: bytes) -> None:
    result = run(
        ["convert", "--from", "application/x-www-form-urlencoded"],
        b"Name=Nordvik&Department=Sales%0A" + ending,
    )
    assert result.returncode == 0, result.stderr
    out = orjson.loads(result.stdout)
    # an encoded line break is data and stays; the raw one from echo is not
    assert out["Name"] == "Nordvik" and out["Department"] == "Sales\n"


def test_a_trailing_line_break_stays_in_a_json_string_it_belongs_to() -> None:
    result = run(["convert"], b'{"Name": "Nordvik\\n"}\n')
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["Name"] == "Nordvik\n"


def test_an_unwritable_value_is_a_400_with_its_location() -> None:
    contact = get_schema("ContactEntity")
    with pytest.raises(InvalidValue) as caught:
        convert(b'{"Name": "a\\u0001b"}', MEDIA_JSON, MEDIA_XML, contact)
    assert caught.value.status == 400 and caught.value.location == "/Name"
    assert isinstance(caught.value.__cause__, EncodeError)
    with pytest.raises(InvalidValue, match="Cannot write the input as 'application/xml'"):
        convert(b'{"a": 1, "b": 2}', MEDIA_JSON, MEDIA_XML, None)


def test_schemaless_xml_with_one_root_still_converts() -> None:
    assert convert(b'{"a": {"b": 2}}', MEDIA_JSON, MEDIA_XML, None).startswith(b"<a")


def test_version_prints_the_installed_version() -> None:
    result = run(["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"negotiate {version()}\n"
    assert version() == negotiate.__version__  # pyproject.toml and the package agree


def test_version_falls_back_to_the_package_when_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert version() == negotiate.__version__


class _Terminal(io.BytesIO):
    """A stdin that says it is a terminal."""

    @property
    def buffer(self) -> _Terminal:
        return self

    def isatty(self) -> bool:
        return True


def test_reading_from_a_terminal_says_so(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(b'{"Name": "Nordvik"}'))
    assert main(["convert"]) == 0
    captured = capsysbinary.readouterr()
    assert b"reading the body from stdin" in captured.err
    assert orjson.loads(captured.out)["Name"] == "Nordvik"


# -- your own carriers: --type module:Name, and negotiate schema -------------------------

CARRIERS = """
from typing import TypedDict

from negotiate import DateTime


class Line(TypedDict):
    Sku: str | None
    Count: int


class Order(TypedDict):
    Id: int
    Placed: DateTime
    Lines: list[Line | None] | None


class Bad(TypedDict):
    Tags: set[int]


class Misnamed(TypedDict):
    Id: int


Misnamed.__datacontract_name__ = "not a name"  # type: ignore[attr-defined]
"""


def run_in(folder: Path, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "negotiate.cli", *args]
    return subprocess.run(command, input=stdin, capture_output=True, cwd=folder, timeout=60)


@pytest.fixture
def carriers(tmp_path: Path) -> Path:
    (tmp_path / "shop_carriers.py").write_text(CARRIERS)
    (tmp_path / "broken_carriers.py").write_text("class Order(TypedDict:\n")
    (tmp_path / "failing_carriers.py").write_text("raise RuntimeError('no database')\n")
    return tmp_path


def test_convert_takes_a_carrier_of_your_own(carriers: Path) -> None:
    body = b'{"id": 7, "placed": "2024-03-01T12:00:00.5+01:00", "lines": [{"sku": "A-1"}]}'
    done = run_in(carriers, ["convert", "--type", "shop_carriers:Order", "--to", MEDIA_XML], body)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        b'<Order xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns="http://schemas.datacontract.org/2004/07/shop_carriers"><Id>7</Id>'
        b"<Placed>2024-03-01T12:00:00.5+01:00</Placed><Lines><Line><Sku>A-1</Sku>"
        b"<Count>0</Count></Line></Lines></Order>\n"
    )
    bad = run_in(carriers, ["convert", "--type", "shop_carriers:Order"], b'{"Id": "x"}')
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == "negotiate: 400 Expected int32, got str 'x' - at /Id"


@pytest.mark.parametrize(
    ("carrier", "message"),
    [
        ("shop_carriers:Bad", "carrier Bad.Tags (module shop_carriers): set[int] is not in"),
        ("no_such_module:Order", "cannot import 'no_such_module'"),
        ("shop_carriers:Nothing", "'shop_carriers' has no 'Nothing'"),
        ("shop_carriers:", "give module:Name"),
        ("shop_carriers:Misnamed", "the DataContract name 'not a name' is not an XML name"),
        ("broken_carriers:Order", "cannot import 'broken_carriers': SyntaxError"),
        ("failing_carriers:Order", "cannot import 'failing_carriers': RuntimeError: no database"),
        ("NoSuchCarrier", "unknown carrier 'NoSuchCarrier'"),
    ],
)
def test_a_bad_type_is_one_line_and_exit_2(carriers: Path, carrier: str, message: str) -> None:
    done = run_in(carriers, ["convert", "--type", carrier], b"{}")
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


@pytest.mark.parametrize("fmt", ["json-schema", "openapi", "xsd"])
def test_schema_writes_the_export(carriers: Path, fmt: str) -> None:
    from negotiate.schema.export import export

    done = run_in(carriers, ["schema", "--type", "ContactEntity", "--format", fmt])
    assert done.returncode == 0, done.stderr
    assert done.stdout == export(get_schema("ContactEntity"), fmt)  # type: ignore[arg-type]
    own = run_in(carriers, ["schema", "--type", "shop_carriers:Order", "--format", fmt])
    assert own.returncode == 0, own.stderr
    assert b"Order" in own.stdout and b"Line" in own.stdout
