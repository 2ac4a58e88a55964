"""Secrets at rest: the sealed key files and the personal-data vault."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nacl.pwhash
import pytest

from ledger import keyring
from ledger.crypto.sealed import SealingKey, open_sealed, seal
from ledger.crypto.vault import Vault
from ledger.errors import MalformedError, NotFoundError, VerificationError

CHEAP = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


def test_a_passphrase_seals_and_only_it_opens() -> None:
    key = SealingKey(passphrase=b"correct horse battery", **CHEAP)
    sealed = seal(b"\x01" * 32, key, label="consular-ledger/log-key")
    assert b"\x01" * 8 not in sealed and json.loads(sealed)["kdf"] == "argon2id"
    assert open_sealed(sealed, key, label="consular-ledger/log-key") == b"\x01" * 32
    with pytest.raises(VerificationError, match="wrong passphrase or key"):
        open_sealed(
            sealed,
            SealingKey(passphrase=b"wrong horse battery", **CHEAP),
            label="consular-ledger/log-key",
        )
    with pytest.raises(VerificationError, match="not sealed for"):
        open_sealed(sealed, key, label="consular-ledger/operator-key")


def test_an_altered_file_does_not_open() -> None:
    key = SealingKey(master_key=os.urandom(32))
    doc = json.loads(seal(b"secret", key, label="x"))
    doc["box"] = doc["box"][:-4] + ("AAAA" if doc["box"][-4:] != "AAAA" else "BBBB")
    with pytest.raises(VerificationError):
        open_sealed(json.dumps(doc).encode(), key, label="x")
    with pytest.raises(MalformedError, match="not a sealed document"):
        open_sealed(b"garbage", key, label="x")


def test_keys_never_show_in_a_repr() -> None:
    key = SealingKey(passphrase=b"correct horse battery")
    assert "horse" not in repr(key)
    assert "secret" in repr(Vault(os.urandom(32)))
    with pytest.raises(MalformedError, match="too short"):
        SealingKey(passphrase=b"short")


def test_key_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    key = SealingKey(master_key=os.urandom(32))
    created = keyring.create_key(tmp_path, "log", key)
    path = keyring.key_path(tmp_path, "log")
    assert path.stat().st_mode & 0o777 == 0o600
    assert created.seed not in path.read_bytes()
    assert keyring.load_key(tmp_path, "log", key).public_key == created.public_key
    with pytest.raises(FileExistsError):
        keyring.create_key(tmp_path, "log", key)
    with pytest.raises(NotFoundError, match="consular-ledger init"):
        keyring.load_key(tmp_path, "operator", key)


def test_the_vault_binds_each_record_to_its_subject() -> None:
    vault = Vault(os.urandom(32))
    wrapped, ciphertext = vault.seal(b'{"family_name": "Ruiz"}', context=b"subject-a")
    assert b"Ruiz" not in ciphertext and b"Ruiz" not in wrapped
    assert vault.open(wrapped, ciphertext, context=b"subject-a") == b'{"family_name": "Ruiz"}'
    with pytest.raises(VerificationError):
        vault.open(wrapped, ciphertext, context=b"subject-b")
    with pytest.raises(VerificationError):
        Vault(os.urandom(32)).open(wrapped, ciphertext, context=b"subject-a")
    other_wrapped, _ = vault.seal(b"x", context=b"subject-a")
    with pytest.raises(VerificationError):
        vault.open(other_wrapped, ciphertext, context=b"subject-a")
