"""Base45 (RFC 9285) against the RFC's examples and the EU DCC test data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import MalformedError
from ledger.formats.base45 import ALPHABET, Base45Error, b45decode, b45encode

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "base45"
RFC = json.loads((VECTORS / "rfc9285_examples.json").read_text())
DGC_FILES = sorted((VECTORS / "dgc-testdata").rglob("*.json"))


def _dgc(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# Only files with a BASE45 field exercise this layer; the others test CBOR, COSE or zlib.
DGC_B45_FILES = [p for p in DGC_FILES if "BASE45" in _dgc(p)]


def _dgc_id(path: Path) -> str:
    return str(path.relative_to(VECTORS / "dgc-testdata"))


@pytest.mark.parametrize("case", RFC["encode"], ids=lambda c: c["input_ascii"])
def test_rfc_encode_examples(case: dict) -> None:
    data = bytes.fromhex(case["input_hex"])
    assert data == case["input_ascii"].encode()
    assert b45encode(data) == case["base45"]
    assert b45decode(case["base45"]) == data


@pytest.mark.parametrize("case", RFC["decode"], ids=lambda c: c["base45"])
def test_rfc_decode_examples(case: dict) -> None:
    assert b45decode(case["base45"]) == bytes.fromhex(case["output_hex"])
    assert b45decode(case["base45"]).decode() == case["output_ascii"]
    assert b45encode(bytes.fromhex(case["output_hex"])) == case["base45"]


@pytest.mark.parametrize(
    "case", RFC["derived_edge_cases_not_in_rfc"]["valid"], ids=lambda c: c["base45"] or "empty"
)
def test_derived_valid_edge_cases(case: dict) -> None:
    data = bytes.fromhex(case["input_hex"])
    assert b45encode(data) == case["base45"]
    assert b45decode(case["base45"]) == data


@pytest.mark.parametrize(
    "case", RFC["derived_edge_cases_not_in_rfc"]["invalid"], ids=lambda c: c["base45"]
)
def test_derived_invalid_edge_cases(case: dict) -> None:
    with pytest.raises(Base45Error, match=r"^malformed base45: "):
        b45decode(case["base45"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GGW", r"group 'GGW' at position 0 has value 65536, expected at most 65535"),
        (":::", r"group ':::' at position 0 has value 91124, expected at most 65535"),
        ("BB8:::", r"group ':::' at position 3 has value 91124"),
        ("V5", r"final group 'V5' at position 0 has value 256, expected at most 255"),
        ("A", r"length 1 leaves a dangling single character"),
        ("BB8A", r"length 4 leaves a dangling single character"),
        ("a0", r"invalid character 'a' at position 0"),
        ("BB=", r"invalid character '=' at position 2"),
        ("BB\n", r"invalid character '\\n' at position 2"),
        ("BBé", r"invalid character 'é' at position 2"),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    with pytest.raises(Base45Error, match=r"^malformed base45: .*" + message):
        b45decode(text)


def test_error_is_a_malformed_error() -> None:
    assert issubclass(Base45Error, MalformedError)
    assert issubclass(Base45Error, ValueError)


def test_alphabet_is_the_qr_alphanumeric_set() -> None:
    assert len(ALPHABET) == 45
    assert ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def test_dgc_files_are_present() -> None:
    assert len(DGC_FILES) >= 40
    assert len(DGC_B45_FILES) == 16


@pytest.mark.parametrize("path", DGC_B45_FILES, ids=_dgc_id)
def test_dgc_testdata(path: Path) -> None:
    """Honour each file's EXPECTEDRESULTS for the fields base45 is responsible for."""
    case = _dgc(path)
    expected = case["EXPECTEDRESULTS"]
    if expected.get("EXPECTEDUNPREFIX") is False:
        assert case["PREFIX"] != "HC1:" + case["BASE45"]
    else:
        assert case["PREFIX"] == "HC1:" + case["BASE45"]
    if expected.get("EXPECTEDB45DECODE") is False:
        with pytest.raises(Base45Error, match=r"^malformed base45: invalid character '='"):
            b45decode(case["BASE45"])
        return
    if "COMPRESSED" in case:
        data = bytes.fromhex(case["COMPRESSED"])
        assert b45decode(case["BASE45"]) == data
        assert b45encode(data) == case["BASE45"]
    else:
        # H1-H3 test the context prefix only; their BASE45 must still decode and round-trip.
        assert b45encode(b45decode(case["BASE45"])) == case["BASE45"]


def test_dgc_positive_and_negative_cases_counted() -> None:
    """Guard against the parametrized test silently skipping everything."""
    cases = [_dgc(p) for p in DGC_FILES]
    positive = [
        c
        for c in cases
        if "BASE45" in c
        and "COMPRESSED" in c
        and c["EXPECTEDRESULTS"].get("EXPECTEDB45DECODE") is not False
    ]
    negative = [c for c in cases if c["EXPECTEDRESULTS"].get("EXPECTEDB45DECODE") is False]
    assert len(positive) == 12
    assert len(negative) == 1


@given(st.binary(max_size=600))
def test_round_trip(data: bytes) -> None:
    text = b45encode(data)
    assert len(text) == 3 * (len(data) // 2) + 2 * (len(data) % 2)
    assert set(text) <= set(ALPHABET)
    assert b45decode(text) == data


@given(st.text(alphabet=ALPHABET, max_size=60))
def test_decode_accepts_exactly_the_canonical_texts(text: str) -> None:
    """Any alphabet text either decodes to bytes that encode back to it, or raises Base45Error."""
    try:
        data = b45decode(text)
    except Base45Error:
        return
    assert b45encode(data) == text
