"""The ``CL1:`` presentation payload: round trip, every rejection, and the QR size budget."""

from __future__ import annotations

import random
import zlib

import cbor2
import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from ledger.errors import MalformedError
from ledger.formats.base45 import ALPHABET, b45decode, b45encode
from ledger.formats.presentation import (
    MAX_CBOR_SIZE,
    Ciphersuite,
    Presentation,
    PresentationFormatError,
    decode_presentation,
    encode_presentation,
)

MALFORMED = r"^malformed presentation: "


def _proof(undisclosed: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(272 + 32 * undisclosed)


def _bank_presentation(header: bytes, undisclosed: int = 9) -> Presentation:
    """A typical bank check: 13 signed attributes, 4 disclosed, 9 hidden by the proof."""
    return Presentation(
        issuer_key_id=bytes.fromhex("3f9a1c0e5b7d2e48"),  # 8 bytes, like a DCC kid
        ciphersuite=Ciphersuite.BLS12_381_SHA_256,
        schema_id=1,
        schema_version=1,
        disclosed={
            0: b"MX-C-12345678",  # document number
            1: b"Guadalupe Lopez Ruiz",  # name, 20 characters
            3: b"1990-04-17",  # birth date
            4: b"MX",  # nationality
        },
        presentation_header=header,
        proof=_proof(undisclosed),
    )


CHALLENGE = bytes.fromhex("a1b2c3d4e5f60718")  # 8-byte verifier challenge
MINUTE = (29_123_456).to_bytes(4, "big")  # minutes since the Unix epoch


def _raw(cbor_map: object) -> str:
    """A payload around arbitrary CBOR, to reach the checks after base45 and zlib."""
    return "CL1:" + b45encode(zlib.compress(cbor2.dumps(cbor_map, canonical=True), 9))


_DELETE = object()


def _valid_map(**changes: object) -> dict:
    m: dict = {
        1: 1,
        2: b"kid",
        3: 1,
        4: 7,
        5: 2,
        6: {0: b"MX", 2: b"1990-04-17"},
        7: CHALLENGE,
        8: _proof(1),
    }
    for key, value in changes.items():
        k = int(key[1:])
        if value is _DELETE:
            del m[k]
        else:
            m[k] = value
    return m


def _qr_version(data: object) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.version


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_typical() -> None:
    p = _bank_presentation(CHALLENGE)
    text = encode_presentation(p)
    assert text.startswith("CL1:")
    assert set(text) <= set(ALPHABET)
    assert decode_presentation(text) == p
    assert p.attribute_count == 13


def test_disclosed_is_read_only_and_sorted() -> None:
    p = _bank_presentation(CHALLENGE)
    assert list(p.disclosed) == [0, 1, 3, 4]
    with pytest.raises(TypeError):
        p.disclosed[5] = b"x"  # type: ignore[index]


def test_text_key_id_and_shake_suite() -> None:
    p = Presentation(
        issuer_key_id="mx-la-2025",
        ciphersuite=2,
        schema_id=0,
        schema_version=0,
        disclosed={},
        presentation_header=b"",
        proof=_proof(0),
    )
    q = decode_presentation(encode_presentation(p))
    assert q == p
    assert q.ciphersuite is Ciphersuite.BLS12_381_SHAKE_256
    assert q.issuer_key_id == "mx-la-2025"


def test_encoding_is_deterministic_and_canonical() -> None:
    p = _bank_presentation(CHALLENGE)
    assert encode_presentation(p) == encode_presentation(_bank_presentation(CHALLENGE))
    cbor = zlib.decompress(b45decode(encode_presentation(p)[4:]))
    assert cbor2.loads(cbor)[6] == dict(p.disclosed)
    assert list(cbor2.loads(cbor)) == [1, 2, 3, 4, 5, 6, 7, 8]


@st.composite
def presentations(draw: st.DrawFn) -> Presentation:
    undisclosed = draw(st.integers(0, 6))
    disclosed_count = draw(st.integers(0, 6))
    total = undisclosed + disclosed_count
    indexes = (
        draw(
            st.lists(
                st.integers(0, max(total - 1, 0)),
                min_size=disclosed_count,
                max_size=disclosed_count,
                unique=True,
            )
        )
        if total
        else []
    )
    return Presentation(
        issuer_key_id=draw(
            st.one_of(
                st.binary(min_size=1, max_size=64),
                st.text(min_size=1, max_size=16),
            )
        ),
        ciphersuite=draw(st.sampled_from(Ciphersuite)),
        schema_id=draw(st.integers(0, 2**32 - 1)),
        schema_version=draw(st.integers(0, 2**32 - 1)),
        disclosed={i: draw(st.binary(max_size=40)) for i in indexes},
        presentation_header=draw(st.binary(max_size=256)),
        proof=draw(st.binary(min_size=272 + 32 * undisclosed, max_size=272 + 32 * undisclosed)),
    )


@settings(max_examples=150, deadline=None)
@given(presentations())
def test_round_trip_property(p: Presentation) -> None:
    text = encode_presentation(p)
    assert set(text) <= set(ALPHABET)
    assert decode_presentation(text) == p


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_decoding_garbage_raises_only_format_errors(text: str) -> None:
    with pytest.raises(PresentationFormatError):
        decode_presentation("CL1:" + text)


# --- rejections, one per rule -----------------------------------------------------------------


def test_error_class() -> None:
    assert issubclass(PresentationFormatError, MalformedError)


@pytest.mark.parametrize("text", ["", "HC1:NCF", "cl1:ABC", "CL1", "CL:ABC", "6BF", 'CL1"'])
def test_wrong_prefix(text: str) -> None:
    with pytest.raises(
        PresentationFormatError,
        match=r"^not a Consular Ledger presentation: expected prefix CL1:, got ",
    ):
        decode_presentation(text)


def test_not_text() -> None:
    with pytest.raises(PresentationFormatError, match=r"^not a Consular Ledger presentation: "):
        decode_presentation(b"CL1:" + b"AB")  # type: ignore[arg-type]


def test_unsupported_prefix_version() -> None:
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + r"unsupported version 2 \(prefix CL2:\)"
    ):
        decode_presentation("CL2:" + encode_presentation(_bank_presentation(CHALLENGE))[4:])


def test_unsupported_cbor_version() -> None:
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + "unsupported version 2: expected 1"
    ):
        decode_presentation(_raw(_valid_map(k1=2)))


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("ab", r"invalid character 'a'"),
        ("ABCD", r"dangling single character"),
        (":::", r"value 91124, expected at most 65535"),
    ],
)
def test_bad_base45(body: str, detail: str) -> None:
    with pytest.raises(
        PresentationFormatError,
        match=MALFORMED + r"bad base45 after CL1: \(malformed base45: .*" + detail,
    ):
        decode_presentation("CL1:" + body)


def test_truncated_zlib() -> None:
    compressed = zlib.compress(cbor2.dumps(_valid_map(), canonical=True), 9)
    with pytest.raises(PresentationFormatError, match=MALFORMED + "truncated zlib data"):
        decode_presentation("CL1:" + b45encode(compressed[:-10]))


def test_corrupt_zlib() -> None:
    compressed = bytearray(zlib.compress(cbor2.dumps(_valid_map(), canonical=True), 9))
    compressed[-1] ^= 0xFF  # Adler-32 checksum
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"corrupt zlib data \("):
        decode_presentation("CL1:" + b45encode(bytes(compressed)))


def test_not_zlib_at_all() -> None:
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"corrupt zlib data \("):
        decode_presentation("CL1:" + b45encode(cbor2.dumps(_valid_map(), canonical=True)))


def test_trailing_bytes_after_zlib() -> None:
    compressed = zlib.compress(cbor2.dumps(_valid_map(), canonical=True), 9) + b"\x00\x01"
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + "2 trailing bytes after the zlib stream"
    ):
        decode_presentation("CL1:" + b45encode(compressed))


def test_decompression_bomb() -> None:
    bomb = zlib.compress(b"\x00" * (10 * 1024 * 1024), 9)
    assert len(bomb) < 11_000
    with pytest.raises(
        PresentationFormatError,
        match=MALFORMED + f"decompressed size exceeds the limit of {MAX_CBOR_SIZE} bytes",
    ):
        decode_presentation("CL1:" + b45encode(bomb))


def test_limit_is_exact() -> None:
    """A CBOR map of exactly MAX_CBOR_SIZE bytes passes the size check (and then the rest)."""
    filler = b"\x00" * (MAX_CBOR_SIZE - 1)
    with pytest.raises(PresentationFormatError, match=MALFORMED + "not CBOR"):
        decode_presentation("CL1:" + b45encode(zlib.compress(b"\x5f" + filler)))


def test_encoder_refuses_what_the_decoder_would_refuse() -> None:
    p = Presentation(
        issuer_key_id=b"k",
        ciphersuite=1,
        schema_id=1,
        schema_version=1,
        disclosed={0: b"x" * MAX_CBOR_SIZE},
        presentation_header=b"",
        proof=_proof(0),
    )
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"CBOR is \d+ bytes, expected"):
        encode_presentation(p)


def test_not_cbor() -> None:
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"not CBOR \("):
        decode_presentation("CL1:" + b45encode(zlib.compress(b"\xff\xff")))


def test_empty_cbor() -> None:
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"not CBOR \("):
        decode_presentation("CL1:" + b45encode(zlib.compress(b"")))


def test_trailing_cbor_bytes() -> None:
    cbor = cbor2.dumps(_valid_map(), canonical=True) + b"\x00\x00\x00"
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + "3 trailing bytes after the CBOR map"
    ):
        decode_presentation("CL1:" + b45encode(zlib.compress(cbor)))


def test_duplicate_cbor_keys() -> None:
    cbor = bytearray(cbor2.dumps(_valid_map(), canonical=True))
    assert cbor[0] == 0xA8 and cbor[1:3] == b"\x01\x01"
    cbor[3] = 0x01  # second key 2 -> 1
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"not CBOR \(.*[Dd]uplicate"):
        decode_presentation("CL1:" + b45encode(zlib.compress(bytes(cbor))))


def test_not_a_map() -> None:
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + "CBOR item must be a map, got list"
    ):
        decode_presentation(_raw([1, 2, 3]))


def test_unknown_key() -> None:
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + r"unknown keys 9: expected integer keys 1..8"
    ):
        decode_presentation(_raw({**_valid_map(), 9: 0}))


def test_unknown_text_key() -> None:
    with pytest.raises(PresentationFormatError, match=MALFORMED + r"unknown keys 'proof'"):
        decode_presentation(_raw({**_valid_map(), "proof": 0}))


@pytest.mark.parametrize(
    ("key", "name"),
    [(1, "version"), (2, "issuer_key_id"), (6, "disclosed"), (8, "proof")],
)
def test_missing_key(key: int, name: str) -> None:
    with pytest.raises(
        PresentationFormatError, match=MALFORMED + rf"missing keys {key} \({name}\)"
    ):
        decode_presentation(_raw(_valid_map(**{f"k{key}": _DELETE})))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (1, True, r"unsupported version True: expected 1"),
        (2, 5, r"issuer_key_id must be a byte or text string, got int"),
        (2, b"", r"issuer_key_id must be 1..64 bytes, got 0"),
        (2, b"k" * 65, r"issuer_key_id must be 1..64 bytes, got 65"),
        (3, b"\x01", r"ciphersuite must be an unsigned int, got bytes"),
        (3, -1, r"ciphersuite must be an unsigned int, got int"),
        (3, 3, r"unknown ciphersuite 3: expected one of 1 \(BLS12_381_SHA_256\), 2 "),
        (3, False, r"ciphersuite must be an unsigned int, got bool"),
        (4, "1", r"schema_id must be an unsigned int, got str"),
        (5, 2**32, r"schema_version must be an unsigned int below 2\*\*32, got 4294967296"),
        (6, [b"MX"], r"disclosed must be a map, got list"),
        (6, {"0": b"MX"}, r"disclosed index must be an int, got str"),
        (6, {0: "MX"}, r"disclosed value at index 0 must be a byte string"),
        (6, {-1: b"MX"}, r"disclosed index -1 is negative: expected an unsigned int"),
        (6, {3: b"MX"}, r"disclosed index 3 out of range: expected 0..1 \(1 disclosed \+ 1 undi"),
        (7, "abc", r"presentation_header must be a byte string, got str"),
        (7, b"h" * 257, r"presentation_header must be at most 256 bytes, got 257"),
        (8, None, r"proof must be a byte string, got NoneType"),
        (8, b"p" * 271, r"proof length 271 is not 272 \+ 32\*k for an integer k >= 0"),
        (8, b"p" * 273, r"proof length 273 is not 272 \+ 32\*k"),
        (8, b"p" * 300, r"proof length 300 is not 272 \+ 32\*k"),
    ],
)
def test_wrong_field(key: int, value: object, message: str) -> None:
    with pytest.raises(PresentationFormatError, match=MALFORMED + message):
        decode_presentation(_raw(_valid_map(**{f"k{key}": value})))


def test_index_just_in_range() -> None:
    # 1 undisclosed (proof 304 bytes) + 2 disclosed -> L = 3, indexes 0..2 are fine.
    p = decode_presentation(_raw(_valid_map(k6={0: b"a", 2: b"b"})))
    assert p.attribute_count == 3


@pytest.mark.parametrize(
    "schema_id_bytes",
    [
        b"\x18\x07",  # 7 as a two-byte integer
        b"\xc2\x41\x07",  # 7 as a bignum (tag 2 around the byte string 07)
    ],
    ids=["long-int", "bignum"],
)
def test_non_canonical_cbor(schema_id_bytes: bytes) -> None:
    canonical = cbor2.dumps(_valid_map(), canonical=True)
    pattern = b"\x03\x01\x04\x07\x05\x02"  # ciphersuite 1, schema_id 7, schema_version 2
    assert canonical.count(pattern) == 1
    cbor = canonical.replace(pattern, b"\x03\x01\x04" + schema_id_bytes + b"\x05\x02")
    assert cbor2.loads(cbor) == cbor2.loads(canonical)
    with pytest.raises(PresentationFormatError, match=MALFORMED + "CBOR is not in canonical form"):
        decode_presentation("CL1:" + b45encode(zlib.compress(cbor)))


def test_unsorted_cbor_map() -> None:
    m = _valid_map()
    cbor = cbor2.dumps({k: m[k] for k in sorted(m, reverse=True)})
    with pytest.raises(PresentationFormatError, match=MALFORMED + "CBOR is not in canonical form"):
        decode_presentation("CL1:" + b45encode(zlib.compress(cbor)))


def test_constructor_applies_the_same_rules() -> None:
    with pytest.raises(PresentationFormatError, match=MALFORMED + "proof length 10"):
        Presentation(
            issuer_key_id=b"k",
            ciphersuite=1,
            schema_id=1,
            schema_version=1,
            disclosed={},
            presentation_header=b"",
            proof=b"0123456789",
        )


def test_messages_do_not_quote_attribute_values() -> None:
    secret = b"1990-04-17"
    with pytest.raises(PresentationFormatError) as info:
        decode_presentation(_raw(_valid_map(k6={9: secret})))
    assert "1990" not in str(info.value)


# --- size in a QR code ------------------------------------------------------------------------


def _schema_bank_presentation(header: bytes) -> Presentation:
    """The bank presentation as the wallet makes it with schema 1: the holder's four choices
    (document number, both names, birth date) plus the attributes every presentation shows for
    the offline checks — 10 of 13 disclosed, 3 hidden by the proof."""
    disclosed = {
        0: b"MEX-C-12345678",
        1: "Hernández López".encode(),
        2: "María José".encode(),
        3: b"1990-04-17",
        6: b"MEX",
        7: b"Consulate of Mexico in Madrid",
        8: b"2026-11-23",
        9: b"2031-11",
        10: b"01156c2c60b1-1",
        11: b"77414",
    }
    return Presentation(
        issuer_key_id=bytes(16),
        ciphersuite=Ciphersuite.BLS12_381_SHA_256,
        schema_id=1,
        schema_version=1,
        disclosed=disclosed,
        presentation_header=header,
        proof=_proof(3),
    )


@pytest.mark.parametrize(
    "header", [b"cl-challenge:a1b2c3d4", b"cl-time:2026-11-23T18:40Z"], ids=["challenge", "time"]
)
def test_typical_bank_presentation_fits_version_20(header: bytes) -> None:
    """One alphanumeric segment of about 870 characters: QR version 19 at level M (≤ 20)."""
    text = encode_presentation(_schema_bank_presentation(header))
    assert _qr_version(QRData(text, mode=MODE_ALPHA_NUM)) == _qr_version(text) <= 20
    assert _qr_version(QRData(text.encode(), mode=MODE_8BIT_BYTE)) > 20  # why alphanumeric


@pytest.mark.parametrize("header", [CHALLENGE, MINUTE], ids=["challenge", "minute"])
def test_nine_hidden_attributes_would_not_fit_version_20(header: bytes) -> None:
    """Why every presentation's extra disclosures matter for size too: with 9 of 13 hidden the
    proof alone is 560 bytes, and zlib cannot shrink it — version 21 at level M."""
    text = encode_presentation(_bank_presentation(header))
    assert _qr_version(QRData(text, mode=MODE_ALPHA_NUM)) == 21
