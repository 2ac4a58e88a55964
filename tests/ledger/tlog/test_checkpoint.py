"""C2SP checkpoints: published examples, the Tessera log's checkpoints, strict parsing."""

from __future__ import annotations

import base64

import pytest
from nacl.signing import SigningKey

from ledger import merkle
from ledger.errors import VerificationError
from ledger.formats.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    parse_checkpoint_body,
    sign_checkpoint,
)
from ledger.formats.note import parse_note, parse_private_key, parse_vkey
from tests.ledger.tlog.vectors import load, tessera

ORIGIN = "example.com/log/testdata"
ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.fixture(scope="module")
def tessera_key() -> tuple[str, SigningKey]:
    name, seed = parse_private_key(tessera()["log_private_key_TEST_ONLY"])
    return name, SigningKey(seed)


@pytest.mark.parametrize(
    "example", load("signed_notes")["checkpoint_format_only"], ids=lambda e: e["id"]
)
def test_published_checkpoint_bodies(example: dict) -> None:
    text = example["text"]
    if "\n\n— " in text:
        note = parse_note(text)
        assert len(note.signatures) == 2
        text = note.text
    cp = parse_checkpoint_body(text)
    assert cp.body() == text
    if example["id"] == "golang-sumdb-tree-note-body":
        assert cp.root == merkle.leaf_hash(b"hello world")
        assert cp.size == 123456789012


@pytest.mark.parametrize("name", sorted(tessera()["checkpoints"]))
def test_tessera_checkpoints_verify_and_reproduce(
    name: str, tessera_key: tuple[str, SigningKey]
) -> None:
    log = tessera()
    note = log["checkpoints"][name]
    cp = open_checkpoint(note, parse_vkey(log["log_vkey"]), ORIGIN)
    entries = [e.encode() for e in log["entries_in_order"]]
    assert cp.root == merkle.root([merkle.leaf_hash(e) for e in entries[: cp.size]])
    key_name, key = tessera_key
    signed = sign_checkpoint(cp, key_name, lambda m: key.sign(m).signature, bytes(key.verify_key))
    assert signed == note  # deterministic Ed25519: byte-for-byte the file Tessera wrote


def test_open_checkpoint_rejections(tessera_key: tuple[str, SigningKey]) -> None:
    log = tessera()
    verifier = parse_vkey(log["log_vkey"])
    note = log["checkpoints"]["checkpoint.5"]
    with pytest.raises(VerificationError, match=r"^checkpoint origin mismatch: expected 'x'"):
        open_checkpoint(note, verifier, "x")
    with pytest.raises(VerificationError, match=r"^note verification failed: bad signature"):
        open_checkpoint(note.replace("\n5\n", "\n6\n"), verifier)


def test_extensions_roundtrip() -> None:
    cp = Checkpoint("o", 3, bytes(32), ("ext one", "ext2"))
    assert cp.body() == f"o\n3\n{ROOT_B64}\next one\next2\n"
    assert parse_checkpoint_body(cp.body()) == cp


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        pytest.param(f"o\n1\n{ROOT_B64}", "malformed checkpoint: text does not end", id="no-nl"),
        pytest.param("o\n1\n", "malformed checkpoint: expected at least 3 lines", id="2-lines"),
        pytest.param(f"\n1\n{ROOT_B64}\n", "malformed checkpoint: empty origin", id="no-origin"),
        pytest.param(
            f"a\tb\n1\n{ROOT_B64}\n",
            "malformed checkpoint: origin contains a control",
            id="tab-in-origin",
        ),
        pytest.param(f"o\n01\n{ROOT_B64}\n", "malformed checkpoint: size '01'", id="lead-zero"),
        pytest.param(f"o\n+1\n{ROOT_B64}\n", "malformed checkpoint: size '+1'", id="plus-size"),
        pytest.param(f"o\n١\n{ROOT_B64}\n", "malformed checkpoint: size", id="arabic-digit"),
        pytest.param(
            f"o\n{2**63}\n{ROOT_B64}\n",
            "malformed checkpoint: size 9223372036854775808",
            id="size-overflow",
        ),
        pytest.param("o\n1\n!!!\n", "malformed checkpoint: root is not valid base64", id="bad-b64"),
        pytest.param(
            f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n",
            "malformed checkpoint: root must be canonical base64 of 32 bytes, got 31",
            id="short-root",
        ),
        pytest.param(
            f"o\n1\n{ROOT_B64[:-2]}B=\n",
            "malformed checkpoint: root must be canonical",
            id="noncanonical-root",
        ),
        pytest.param(
            f"o\n1\n{ROOT_B64}\n\n",
            "malformed checkpoint: line 4 (extension) is empty",
            id="empty-extension",
        ),
    ],
)
def test_malformed_bodies(text: str, prefix: str) -> None:
    with pytest.raises(CheckpointError) as info:
        parse_checkpoint_body(text)
    assert str(info.value).startswith(prefix), str(info.value)


def test_sign_refuses_unrecommended_origin(tessera_key: tuple[str, SigningKey]) -> None:
    name, key = tessera_key
    cp = parse_checkpoint_body(f"a b\n1\n{ROOT_B64}\n")  # parses: clients must not assume
    with pytest.raises(CheckpointError, match=r"^malformed checkpoint: origin 'a b' contains"):
        sign_checkpoint(cp, name, lambda m: key.sign(m).signature, bytes(key.verify_key))


def test_checkpoint_constructor_validates() -> None:
    with pytest.raises(CheckpointError, match=r"^malformed checkpoint: root must be 32 bytes"):
        Checkpoint("o", 1, b"short")
    with pytest.raises(CheckpointError, match=r"^malformed checkpoint: size -1 out of range"):
        Checkpoint("o", -1, bytes(32))
