"""C2SP signed notes: the published examples, our own signing, and malformed input."""

from __future__ import annotations

import base64

import pytest
from nacl.signing import SigningKey

from ledger.errors import MalformedError, VerificationError
from ledger.formats.note import (
    MAX_SIGNATURES,
    NoteError,
    Verifier,
    format_vkey,
    key_id,
    parse_note,
    parse_private_key,
    parse_vkey,
    sign_note,
    verify_note,
)
from tests.ledger.tlog.vectors import load, note_params

KEY = SigningKey(bytes(range(32)))
PUB = bytes(KEY.verify_key)
NAME = "example.org/test"
VERIFIER = parse_vkey(format_vkey(NAME, PUB))
OTHER = SigningKey(bytes(range(1, 33)))


def sign(message: bytes) -> bytes:
    return KEY.sign(message).signature


def sig_line(name: str, raw: bytes) -> str:
    return f"— {name} {base64.b64encode(raw).decode()}\n"


@pytest.mark.parametrize("vector", note_params())
def test_published_notes(vector: dict) -> None:
    verifier = parse_vkey(vector["vkey"])
    assert format_vkey(verifier.name, verifier.public_key) == vector["vkey"]
    if vector["expect_valid"]:
        text = verify_note(vector["note"], [verifier])
        assert vector["note"].startswith(text + "\n— ")
    else:
        with pytest.raises(VerificationError, match=r"^note verification failed: bad signature"):
            verify_note(vector["note"], [verifier])


def test_published_private_key_matches_vkey() -> None:
    vector = next(n for n in load("signed_notes")["notes"] if "skey_TEST_ONLY" in n)
    name, seed = parse_private_key(vector["skey_TEST_ONLY"])
    key = SigningKey(seed)
    assert format_vkey(name, bytes(key.verify_key)) == vector["vkey"]
    text = parse_note(vector["note"]).text
    # Ed25519 is deterministic: our signing reproduces the published note byte for byte.
    assert (
        sign_note(text, name, lambda m: key.sign(m).signature, bytes(key.verify_key))
        == (vector["note"])
    )


def test_two_signers_each_verifies_alone() -> None:
    note = next(n for n in load("signed_notes")["notes"] if n["id"] == "golang-mod-two-signers")
    enoch = next(n for n in load("signed_notes")["notes"] if n["id"] == "golang-mod-enochroot")
    assert len(parse_note(note["note"]).signatures) == 2
    for vkey in (note["vkey"], enoch["vkey"]):
        verify_note(note["note"], [parse_vkey(vkey)])


def test_sign_and_verify_roundtrip() -> None:
    note = sign_note("hello\n\nworld\n", NAME, sign, PUB)
    assert verify_note(note, [VERIFIER]) == "hello\n\nworld\n"
    assert verify_note(note.encode(), [VERIFIER]) == "hello\n\nworld\n"
    parsed = parse_note(note)
    assert parsed.signatures[0][:2] == (NAME, key_id(NAME, PUB))


def test_unknown_keys_ignored_and_at_least_16_accepted() -> None:
    note = sign_note("text\n", NAME, sign, PUB)
    junk = "".join(sig_line(f"witness{i}.example", bytes(68)) for i in range(MAX_SIGNATURES - 1))
    assert verify_note(note + junk, [VERIFIER]) == "text\n"
    # same name, other key id: a different key, ignored
    same_name = sig_line(NAME, b"\x00\x00\x00\x00" + bytes(64))
    assert verify_note(note + same_name, [VERIFIER]) == "text\n"


def test_known_key_bad_signature_rejects_whole_note() -> None:
    note = sign_note("text\n", NAME, sign, PUB)
    bad = sig_line(NAME, key_id(NAME, PUB) + bytes(64))
    with pytest.raises(VerificationError, match=r"^note verification failed: bad signature"):
        verify_note(note + bad, [VERIFIER])
    short = sig_line(NAME, key_id(NAME, PUB) + bytes(10))
    with pytest.raises(VerificationError, match=r"^note verification failed: signature by"):
        verify_note(note + short, [VERIFIER])


def test_no_known_signer_rejected() -> None:
    note = sign_note("text\n", NAME, sign, PUB)
    other = Verifier("other", key_id("other", bytes(OTHER.verify_key)), bytes(OTHER.verify_key))
    with pytest.raises(VerificationError, match=r"^note verification failed: no signature by"):
        verify_note(note, [other])


def test_sign_note_checks_inputs() -> None:
    with pytest.raises(NoteError, match=r"^malformed note: text must end with a newline"):
        sign_note("text", NAME, sign, PUB)
    with pytest.raises(NoteError, match=r"^malformed note: key name 'a b' contains a space"):
        sign_note("text\n", "a b", sign, PUB)
    with pytest.raises(VerificationError, match=r"^note signing failed"):
        sign_note("text\n", NAME, lambda m: OTHER.sign(m).signature, PUB)


GOOD_SIG = sig_line("a", bytes(68))


@pytest.mark.parametrize(
    ("note", "prefix"),
    [
        pytest.param("text\n" + GOOD_SIG, "malformed note: no blank line", id="no-blank-line"),
        pytest.param(
            "text\n\n— a !!!!\n", "malformed note: signature line 1: bad base64", id="bad-base64"
        ),
        pytest.param(
            "text\n\n— a " + base64.b64encode(bytes(68)).decode().rstrip("=") + "\n",
            "malformed note: signature line 1: bad base64",
            id="unpadded-base64",
        ),
        pytest.param(
            "text\n\n- a AAAAAAAA\n",
            "malformed note: signature line 1 does not start",
            id="hyphen-dash",
        ),
        pytest.param(
            "text\n\n– a AAAAAAAA\n",
            "malformed note: signature line 1 does not start",
            id="en-dash",
        ),
        pytest.param(
            "text\n\n" + GOOD_SIG * (MAX_SIGNATURES + 1),
            "malformed note: 101 signatures, limit is 100",
            id="too-many-sigs",
        ),
        pytest.param(
            "text\n\n" + GOOD_SIG.rstrip("\n"),
            "malformed note: does not end",
            id="no-final-newline",
        ),
        pytest.param("text\n\n", "malformed note: no signature lines", id="no-signatures"),
        pytest.param(
            "te\txt\n\n" + GOOD_SIG, "malformed note: contains an ASCII control", id="control-char"
        ),
        pytest.param(
            "text\r\n\n" + GOOD_SIG,
            "malformed note: contains an ASCII control",
            id="carriage-return",
        ),
        pytest.param(
            "text\n\n— a\n",
            "malformed note: signature line 1 has no signature",
            id="no-signature-field",
        ),
        pytest.param(
            "text\n\n— a AAAA\n",
            "malformed note: signature line 1 is shorter",
            id="short-signature",
        ),
        pytest.param(
            "text\n\n—  AAAAAAAA\n",
            "malformed note: signature line 1: empty key name",
            id="empty-name",
        ),
        pytest.param(
            b"t\xffext\n\n" + GOOD_SIG.encode(),
            "malformed note: not valid UTF-8",
            id="non-utf8-bytes",
        ),
        pytest.param(
            "t\udcffext\n\n" + GOOD_SIG, "malformed note: not valid UTF-8", id="lone-surrogate"
        ),
    ],
)
def test_malformed_notes(note: str | bytes, prefix: str) -> None:
    with pytest.raises(NoteError) as info:
        parse_note(note)
    assert str(info.value).startswith(prefix), str(info.value)
    with pytest.raises(MalformedError):
        verify_note(note, [VERIFIER])


@pytest.mark.parametrize(
    ("vkey", "prefix"),
    [
        pytest.param("a+00000000", "malformed verifier key: expected 3", id="two-fields"),
        pytest.param("a b+00000000+AQ==", "malformed verifier key: key name", id="space-in-name"),
        pytest.param("a+0000000+AQ==", "malformed verifier key: key id '0000000'", id="short-id"),
        pytest.param("a+00000000+!!", "malformed verifier key: bad base64", id="bad-base64"),
        pytest.param(
            "a+00000000+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
            "malformed verifier key: expected 0x01",
            id="wrong-type",
        ),
        pytest.param(
            "a+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
            "malformed verifier key: key id 00000000 != computed",
            id="id-mismatch",
        ),
    ],
)
def test_malformed_vkeys(vkey: str, prefix: str) -> None:
    with pytest.raises(NoteError) as info:
        parse_vkey(vkey)
    assert str(info.value).startswith(prefix), str(info.value)


def test_private_key_errors_do_not_leak_key() -> None:
    seed_b64 = base64.b64encode(b"\x01" + bytes(range(32))).decode()
    with pytest.raises(NoteError, match=r"^malformed private key: key id does not match") as info:
        parse_private_key(f"PRIVATE+KEY+a+00000000+{seed_b64}")
    assert seed_b64 not in str(info.value)
