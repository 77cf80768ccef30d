"""``negotiate convert``: through the registry, errors as one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from negotiate.cli import main, sample_contact

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
