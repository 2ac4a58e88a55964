"""Entries: canonical form, the signed bytes, and strict parsing."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto.actor_keys import ActorKey, verify_actor_signature
from ledger.errors import MalformedError, TooLargeError
from ledger.formats.entry import MAX_ENTRY_BYTES, parse_entry, sign_entry

KEY = ActorKey(bytes(range(32)))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["sig", "time", "v", "a", "ü", "\U0001f600", "x"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(["sig", "time", "type", "text", "v", "body"]) | st.text(max_size=6),
        json_values,
        max_size=5,
    )
)
def test_signed_bytes_are_the_canonical_entry_without_sig(body: dict) -> None:  # type: ignore[type-arg]
    entry = sign_entry("log.note", body, KEY)
    unsigned = {"v": 1, "type": entry.type, "time": entry.time, "actor": entry.actor, "body": body}
    assert entry.signed_bytes() == rfc8785.dumps(unsigned)
    verify_actor_signature(KEY.public_key, entry.signed_bytes(), entry.sig)
    again = parse_entry(entry.encode())
    assert again == entry and again.signed_bytes() == entry.signed_bytes()


def test_a_non_canonical_submission_parses_to_the_canonical_entry() -> None:
    entry = sign_entry("log.note", {"text": "hola", "n": 1}, KEY)
    loose = json.dumps(json.loads(entry.encode()), indent=2).encode()
    assert parse_entry(loose).encode() == entry.encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"v":1}', "missing fields"),
        (b"\xff", "not UTF-8"),
        (b"[]", "expected a JSON object"),
        (b'{"a":1,"a":2}', "duplicate key"),
        (b'{"n":1e3}', "non-integer number"),
        (b'{"n":NaN}', "non-integer number"),
    ],
)
def test_malformed_entries_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        parse_entry(data)


def test_time_must_be_a_real_moment() -> None:
    obj = json.loads(sign_entry("log.note", {"text": "x"}, KEY).encode())
    obj["time"] = "2026-02-30T10:00:00Z"
    with pytest.raises(MalformedError, match="not a real date and time"):
        parse_entry(json.dumps(obj).encode())


def test_size_limit_fits_a_tile_bundle() -> None:
    assert MAX_ENTRY_BYTES == 65535
    with pytest.raises(TooLargeError):
        sign_entry("log.note", {"text": "x" * MAX_ENTRY_BYTES}, KEY)


any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(any_json)
def test_the_fast_canonical_form_is_rfc8785(value: object) -> None:
    from ledger.formats.entry import _canonical

    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(MalformedError):
            _canonical(value)
        return
    assert _canonical(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},  # UTF-16 order differs from code-point order
        {"a": '\x00\x1f\x7f\u2028"\\\b\f\n\r\t'},
        {"n": 2**53 - 1, "m": -(2**53) + 1},
        ["é", {"b": [], "a": {}}],
    ],
)
def test_canonical_form_edge_cases(value: object) -> None:
    from ledger.formats.entry import _canonical

    assert _canonical(value) == rfc8785.dumps(value)
