"""Signed status lists: bit order, round trip, tampering and every malformed case."""

from __future__ import annotations

import base64
import json
import random
import zlib

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from ledger.errors import MalformedError, VerificationError
from ledger.formats.status_list import (
    DEFAULT_SIZE,
    FORMAT,
    MAX_SIZE,
    StatusList,
    StatusListError,
    decode_status_list,
    encode_status_list,
    get_status,
    new_bits,
    set_status,
)

KEY = SigningKey(bytes(range(32)))
PUBLIC = bytes(KEY.verify_key)
MALFORMED = r"^malformed status list: "


def _sign(message: bytes) -> bytes:
    return KEY.sign(message).signature


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _list(bits: bytes | None = None, size: int = DEFAULT_SIZE, **changes: object) -> StatusList:
    fields: dict = {
        "list_id": "mx-la/revocation/7",
        "issuer_key_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "purpose": "revocation",
        "version": 3,
        "issued_at": "2025-06-01T12:00:00Z",
        "bits": new_bits(size) if bits is None else bits,
        "size": size,
    }
    fields.update(changes)
    return StatusList(**fields)


def _document(**changes: object) -> bytes:
    """A signed document whose JSON members are replaced by ``changes`` (None deletes one)."""
    obj = json.loads(encode_status_list(_list(), _sign))
    del obj["signature"]
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return rfc8785.dumps({**obj, "signature": _b64url(_sign(rfc8785.dumps(obj)))})


# --- bits -------------------------------------------------------------------------------------


def test_bit_order_hand_worked() -> None:
    bits = new_bits()
    assert len(bits) == 16384 and not any(bits)
    bits = set_status(bits, 0, True)
    assert bits[0] == 0x80
    bits = set_status(bits, 9, True)
    assert bits[1] == 0x40
    bits = set_status(bits, 7, True)
    assert bits[0] == 0x81
    bits = set_status(bits, DEFAULT_SIZE - 1, True)
    assert bits[-1] == 0x01
    assert [i for i in range(16) if get_status(bits, i)] == [0, 7, 9]
    bits = set_status(bits, 0, False)
    assert bits[:2] == b"\x01\x40"


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(0, DEFAULT_SIZE - 1), max_size=50), st.integers(0, DEFAULT_SIZE - 1))
def test_set_get_property(indexes: set[int], probe: int) -> None:
    bits = new_bits()
    for i in indexes:
        bits = set_status(bits, i, True)
    assert get_status(bits, probe) == (probe in indexes)
    assert sum(bin(b).count("1") for b in bits) == len(indexes)


@pytest.mark.parametrize("index", [-1, DEFAULT_SIZE, True, "3"])
def test_index_out_of_range(index: object) -> None:
    with pytest.raises(StatusListError, match=MALFORMED + r"index .* out of range: expected 0\.\."):
        get_status(new_bits(), index)  # type: ignore[arg-type]
    with pytest.raises(StatusListError, match=MALFORMED + "index"):
        set_status(new_bits(), index, True)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [2**17 - 8, 2**17 + 1, MAX_SIZE + 8, 0])
def test_new_bits_rejects_bad_sizes(size: int) -> None:
    with pytest.raises(StatusListError, match=MALFORMED + r"size must be a multiple of 8 in"):
        new_bits(size)


def test_set_status_does_not_mutate() -> None:
    bits = new_bits()
    set_status(bits, 5, True)
    assert not any(bits)


# --- round trip and sizes ---------------------------------------------------------------------


def test_round_trip() -> None:
    bits = new_bits()
    for i in (0, 9, 4242, DEFAULT_SIZE - 1):
        bits = set_status(bits, i, True)
    sl = _list(bits)
    document = encode_status_list(sl, _sign)
    assert decode_status_list(document, PUBLIC) == sl
    obj = json.loads(document)
    assert sorted(obj) == list(obj)
    assert obj["format"] == FORMAT
    assert zlib.decompress(base64.urlsafe_b64decode(obj["bits"] + "==")) == bits


def test_round_trip_larger_suspension_list() -> None:
    size = 2**18
    sl = _list(set_status(new_bits(size), 2**18 - 1, True), size=size, purpose="suspension")
    decoded = decode_status_list(encode_status_list(sl, _sign), PUBLIC)
    assert decoded == sl and decoded.is_set(2**18 - 1)


def test_signature_covers_the_document_without_signature() -> None:
    document = encode_status_list(_list(), _sign)
    obj = json.loads(document)
    signature = base64.urlsafe_b64decode(obj.pop("signature") + "==")
    KEY.verify_key.verify(rfc8785.dumps(obj), signature)


def test_compressed_sizes() -> None:
    """2**17 entries: empty 39 zlib bytes, 100 random set bits 287 (measured, zlib level 9).

    Bounds rather than exact figures, as another zlib build may emit a few bytes more or less.
    """
    empty = zlib.compress(new_bits(), 9)
    bits = new_bits()
    for i in random.Random(7).sample(range(DEFAULT_SIZE), 100):
        bits = set_status(bits, i, True)
    hundred = zlib.compress(bits, 9)
    assert len(empty) <= 64
    assert len(hundred) <= 400
    assert len(encode_status_list(_list(), _sign)) <= 400  # whole signed document, empty
    assert len(encode_status_list(_list(bits), _sign)) <= 900


# --- tampering --------------------------------------------------------------------------------


def test_wrong_key() -> None:
    document = encode_status_list(_list(), _sign)
    other = bytes(SigningKey(b"\x01" * 32).verify_key)
    with pytest.raises(VerificationError, match=r"^status list signature does not verify"):
        decode_status_list(document, other)


@pytest.mark.parametrize(
    ("member", "value"),
    [("version", 4), ("purpose", "suspension"), ("issued_at", "2025-06-01T12:00:01Z")],
)
def test_tampered_member(member: str, value: object) -> None:
    obj = json.loads(encode_status_list(_list(), _sign))
    obj[member] = value
    with pytest.raises(VerificationError):
        decode_status_list(rfc8785.dumps(obj), PUBLIC)


def test_tampered_bits() -> None:
    obj = json.loads(encode_status_list(_list(), _sign))
    obj["bits"] = _b64url(zlib.compress(set_status(new_bits(), 3, True), 9))
    with pytest.raises(VerificationError):
        decode_status_list(rfc8785.dumps(obj), PUBLIC)


def test_tampered_signature() -> None:
    obj = json.loads(encode_status_list(_list(), _sign))
    sig = bytearray(base64.urlsafe_b64decode(obj["signature"] + "=="))
    sig[0] ^= 1
    obj["signature"] = _b64url(bytes(sig))
    with pytest.raises(VerificationError):
        decode_status_list(rfc8785.dumps(obj), PUBLIC)


# --- malformed --------------------------------------------------------------------------------


def test_error_class() -> None:
    assert issubclass(StatusListError, MalformedError)


def test_bad_public_key() -> None:
    with pytest.raises(MalformedError, match=r"^malformed public key: expected 32 bytes"):
        decode_status_list(encode_status_list(_list(), _sign), PUBLIC[:31])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff{}", "document is not UTF-8"),
        (b"{", r"not JSON \("),
        (b"[]", "document must be a JSON object, got list"),
        (b'{"a":1,"a":2}', "duplicate member 'a'"),
        (b'{"size":NaN}', "non-finite number NaN is not JSON"),
        (b"{}", "missing members bits, format, issued_at, "),
    ],
)
def test_not_a_document(data: bytes, message: str) -> None:
    with pytest.raises(StatusListError, match=MALFORMED + message):
        decode_status_list(data, PUBLIC)


def test_not_canonical() -> None:
    document = encode_status_list(_list(), _sign)
    spaced = json.dumps(json.loads(document), sort_keys=True).encode()
    with pytest.raises(StatusListError, match=MALFORMED + "document is not RFC 8785 canonical"):
        decode_status_list(spaced, PUBLIC)


def test_unknown_member() -> None:
    with pytest.raises(StatusListError, match=MALFORMED + "unknown members 'extra'"):
        decode_status_list(_document(extra=1), PUBLIC)


def test_missing_member() -> None:
    with pytest.raises(StatusListError, match=MALFORMED + "missing members version$"):
        decode_status_list(_document(version=None), PUBLIC)


def test_wrong_format() -> None:
    with pytest.raises(StatusListError, match=MALFORMED + "format must be 'consular-ledger/"):
        decode_status_list(_document(format="w3c"), PUBLIC)


def _bits_of(raw: bytes) -> str:
    return _b64url(zlib.compress(raw, 9))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"size": 2**17 + 4}, r"size must be a multiple of 8 in 131072\.\.16777216, got 131076"),
        ({"size": 2**16}, r"size must be a multiple of 8 in .*, got 65536"),
        ({"size": "131072"}, "size must be an integer, got str"),
        ({"size": 2**18}, r"bits inflate to 16384 bytes, expected size/8 = 32768"),
        ({"bits": _bits_of(bytes(2**17 // 8 + 1))}, r"bits: decompressed size exceeds .* 16384"),
        ({"bits": _bits_of(bytes(2**24))}, r"bits: decompressed size exceeds"),  # 16 MiB bomb
        ({"bits": _bits_of(bytes(100))}, r"bits inflate to 100 bytes, expected size/8 = 16384"),
        ({"bits": _bits_of(bytes(16384))[:-8]}, r"bits: truncated zlib data"),
        ({"bits": _b64url(zlib.compress(bytes(16384)) + b"xx")}, r"bits: 2 trailing bytes after"),
        ({"bits": _b64url(b"not zlib at all")}, r"bits: corrupt zlib data \("),
        ({"bits": "AAAA="}, r"bits must be unpadded base64url text"),
        ({"bits": "AA+/"}, r"bits must be unpadded base64url text"),
        ({"bits": "AAAAA"}, r"bits must be unpadded base64url text"),
        ({"bits": "AB"}, r"bits is not canonical base64url"),
        ({"bits": 5}, r"bits must be unpadded base64url text"),
        ({"purpose": "expiry"}, r"purpose must be one of revocation, suspension, got 'expiry'"),
        ({"version": -1}, r"version must be an integer in 0\.\.2\*\*53-1, got -1"),
        ({"version": True}, r"version must be an integer in 0\.\.2\*\*53-1, got True"),
        ({"version": 1.5}, r"version must be an integer"),
        ({"issued_at": "2025-06-01T12:00:00+00:00"}, r"issued_at must be RFC 3339 UTC"),
        ({"issued_at": "2025-06-01 12:00:00Z"}, r"issued_at must be RFC 3339 UTC"),
        ({"issued_at": "2025-02-30T12:00:00Z"}, r"issued_at is not a real date and time"),
        ({"list_id": ""}, r"list_id must be 1\.\.128 printable ASCII characters"),
        ({"list_id": "a b"}, r"list_id must be 1\.\.128 printable ASCII characters"),
        ({"issuer_key_id": 7}, r"issuer_key_id must be a string, got int"),
    ],
)
def test_malformed_member(changes: dict, message: str) -> None:
    with pytest.raises(StatusListError, match=MALFORMED + message):
        decode_status_list(_document(**changes), PUBLIC)


def test_malformed_signature_member() -> None:
    obj = json.loads(encode_status_list(_list(), _sign))
    obj["signature"] = _b64url(b"\x00" * 63)
    with pytest.raises(StatusListError, match=MALFORMED + "signature must be 64 bytes, got 63"):
        decode_status_list(rfc8785.dumps(obj), PUBLIC)


def test_integer_outside_json_domain() -> None:
    obj = json.loads(encode_status_list(_list(), _sign))
    data = rfc8785.dumps(obj).replace(b'"version":3', b'"version":9007199254740993')
    with pytest.raises(StatusListError, match=MALFORMED + "value outside the JSON canonical"):
        decode_status_list(data, PUBLIC)


def test_constructor_rules() -> None:
    with pytest.raises(StatusListError, match=MALFORMED + r"bits hold 3 bytes, expected size/8"):
        _list(b"abc")
    with pytest.raises(StatusListError, match=MALFORMED + "bits must be bytes, got bytearray"):
        _list(bytearray(16384))


def test_sign_must_return_64_bytes() -> None:
    with pytest.raises(StatusListError, match=MALFORMED + "sign"):
        encode_status_list(_list(), lambda _: b"short")
