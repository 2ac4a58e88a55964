"""The holder's wallet: sealed storage, offer import checks, least-used presentation."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.errors import ConflictError, MalformedError, NotFoundError, VerificationError
from ledger.formats.credential import ALWAYS_DISCLOSED, ATTRIBUTES
from ledger.formats.offer import decode_offer, encode_offer_json, encode_offer_qr, seal_offer
from ledger.formats.presentation import decode_presentation
from tests.wallet.conftest import CHEAP, NOW, PASSPHRASE
from tests.wallet.issuing import FAMILY_NAME, World
from wallet.holder import NOT_CHECKED, Wallet, expand_disclosure
from wallet.store import WALLET_FILE
from wallet.trust_cache import CacheSnapshot

STATUS = ATTRIBUTES.index("status_index")


def _index(payload: str) -> int:
    return int(decode_presentation(payload).disclosed[STATUS])


def test_least_used_credential_each_time(wallet: Wallet) -> None:
    indexes = [_index(wallet.present(["name"], None, NOW)) for _ in range(5)]
    assert len(set(indexes)) == 5
    assert indexes == sorted(indexes)  # ties go to the lowest position: 0, 1, 2, 3, 4
    sixth = _index(wallet.present(["name"], None, NOW))
    assert sixth == indexes[0]
    assert wallet.list()[0].uses == (2, 1, 1, 1, 1)


def test_use_counts_survive_reopening(wallet: Wallet, tmp_path: Path) -> None:
    first = _index(wallet.present(["name"], None, NOW))
    reopened = Wallet.open(tmp_path / "wallet", PASSPHRASE)
    assert _index(reopened.present(["name"], None, NOW)) != first


def test_two_presentations_share_no_32_byte_window(
    world: World, tmp_path: Path, snapshot: CacheSnapshot
) -> None:
    w = Wallet.init(tmp_path / "one", PASSPHRASE, **CHEAP)
    w.import_offer(world.offer(world.madrid, batch=1), trust=snapshot)
    a = decode_presentation(w.present(["birth_date"], None, NOW))
    b = decode_presentation(w.present(["birth_date"], None, NOW))
    assert a.disclosed == b.disclosed  # same credential, same disclosed values
    windows = {a.proof[i : i + 32] for i in range(len(a.proof) - 31)}
    assert not any(b.proof[i : i + 32] in windows for i in range(len(b.proof) - 31))


def test_wallet_file_is_sealed(wallet: Wallet, tmp_path: Path) -> None:
    data = (tmp_path / "wallet" / WALLET_FILE).read_bytes()
    for secret in (FAMILY_NAME, "MX-C-00012345", "1990-04-17", "hs-4b1d7f0e9a2c"):
        assert secret.encode() not in data
        assert base64.b64encode(secret.encode())[:12] not in data
    with pytest.raises(VerificationError):
        Wallet.open(tmp_path / "wallet", "wrong passphrase here")
    assert Wallet.open(tmp_path / "wallet", PASSPHRASE).list()[0].attributes["family_name"] == (
        FAMILY_NAME
    )


def test_wallet_file_altered(wallet: Wallet, tmp_path: Path) -> None:
    path = tmp_path / "wallet" / WALLET_FILE
    doc = json.loads(path.read_bytes())
    box = bytearray(base64.b64decode(doc["box"]))
    box[-1] ^= 1
    doc["box"] = base64.b64encode(bytes(box)).decode()
    path.write_text(json.dumps(doc))
    with pytest.raises(VerificationError):
        Wallet.open(tmp_path / "wallet", PASSPHRASE)


def test_init_refuses_existing_and_short_passphrase(wallet: Wallet, tmp_path: Path) -> None:
    with pytest.raises(ConflictError):
        Wallet.init(tmp_path / "wallet", PASSPHRASE, **CHEAP)
    with pytest.raises(MalformedError):
        Wallet.init(tmp_path / "other", "short", **CHEAP)
    with pytest.raises(NotFoundError):
        Wallet.open(tmp_path / "nowhere", PASSPHRASE)


def test_device_key(wallet: Wallet, tmp_path: Path) -> None:
    assert len(wallet.device_public_key) == 32
    assert Wallet.open(tmp_path / "wallet", PASSPHRASE).device_public_key == (
        wallet.device_public_key
    )


def test_import_refuses_bad_signature(
    world: World, snapshot: CacheSnapshot, tmp_path: Path
) -> None:
    offer = world.offer(world.madrid, batch=3)
    bad = list(offer.credentials)
    other = world.offer(world.madrid, batch=1).credentials[0].signature
    bad[1] = replace(bad[1], signature=other)
    forged = replace(offer, credentials=tuple(bad))
    w = Wallet.init(tmp_path / "w", PASSPHRASE, **CHEAP)
    with pytest.raises(VerificationError, match="does not verify"):
        w.import_offer(encode_offer_json(forged), trust=snapshot)
    assert w.list() == []
    assert Wallet.open(tmp_path / "w", PASSPHRASE).list() == []


def test_import_refuses_unknown_issuer(
    world: World, snapshot: CacheSnapshot, tmp_path: Path
) -> None:
    w = Wallet.init(tmp_path / "w", PASSPHRASE, **CHEAP)
    with pytest.raises(VerificationError, match="not on the cached trust list"):
        w.import_offer(encode_offer_qr(world.offer(world.rogue)), trust=snapshot)


def test_import_without_trust_list_is_reported(
    world: World, snapshot: CacheSnapshot, tmp_path: Path
) -> None:
    w = Wallet.init(tmp_path / "w", PASSPHRASE, **CHEAP)
    result = w.import_offer(encode_offer_qr(world.offer(world.madrid, batch=2)))
    assert result.checked == NOT_CHECKED
    assert w.list()[0].checked == NOT_CHECKED
    with pytest.raises(NotFoundError, match="issuer's public key"):
        w.present(["name"], None, NOW)  # no issuer key without a trust list
    payload = w.present(["name"], None, NOW, trust=snapshot)
    assert payload.startswith("CL1:")
    assert w.list()[0].checked != NOT_CHECKED


def test_import_twice_refused(world: World, wallet: Wallet, snapshot: CacheSnapshot) -> None:
    offer = world.offer(world.madrid, batch=2, document_number="MX-C-2")
    wallet.import_offer(offer, trust=snapshot)
    with pytest.raises(ConflictError):
        wallet.import_offer(encode_offer_json(offer), trust=snapshot)
    assert [d.document_number for d in wallet.list()] == ["MX-C-00012345", "MX-C-2"]


def test_import_garbage(wallet: Wallet) -> None:
    with pytest.raises(MalformedError):
        wallet.import_offer(b"{not json")
    with pytest.raises(MalformedError):
        wallet.import_offer("CLO1:ZZZZ")


def test_choose_document(world: World, wallet: Wallet, snapshot: CacheSnapshot) -> None:
    wallet.import_offer(
        world.offer(world.madrid, batch=1, document_number="MX-C-2"), trust=snapshot
    )
    doc_number = ATTRIBUTES.index("document_number")
    latest = decode_presentation(wallet.present(["document_number"], None, NOW))
    assert latest.disclosed[doc_number] == b"MX-C-2"
    first = decode_presentation(wallet.present(["document_number"], None, NOW, document=0))
    assert first.disclosed[doc_number] == b"MX-C-00012345"
    by_number = decode_presentation(
        wallet.present(["document_number"], None, NOW, document="MX-C-00012345")
    )
    assert by_number.disclosed[doc_number] == b"MX-C-00012345"
    with pytest.raises(NotFoundError):
        wallet.present(["name"], None, NOW, document="nope")


def test_disclosure_aliases() -> None:
    assert set(expand_disclosure(["name"])) == {"family_name", "given_names", *ALWAYS_DISCLOSED}
    assert expand_disclosure([]) == [a for a in ATTRIBUTES if a in ALWAYS_DISCLOSED]
    assert "birth_date" in expand_disclosure(["birth_date", " ", ""])
    with pytest.raises(MalformedError, match="unknown attribute"):
        expand_disclosure(["shoe_size"])
    with pytest.raises(MalformedError, match="never disclosed"):
        expand_disclosure(["holder_secret"])


def test_header_binds_challenge_or_time(wallet: Wallet) -> None:
    with_challenge = decode_presentation(wallet.present(["name"], "abc-123", NOW))
    assert with_challenge.presentation_header == b"cl-challenge:abc-123"
    timed = decode_presentation(wallet.present(["name"], None, NOW + timedelta(minutes=1)))
    assert timed.presentation_header == b"cl-time:2026-11-23T12:01Z"
    with pytest.raises(MalformedError):
        wallet.present(["name"], "x" * 65, NOW)


def test_a_sealed_offer_opens_only_in_its_own_wallet(
    world: World, wallet: Wallet, snapshot: CacheSnapshot, tmp_path: Path
) -> None:
    sealed = seal_offer(world.offer(world.madrid, batch=2), wallet.device_public_key)
    assert sealed.startswith("CLO2:")
    other = Wallet.init(tmp_path / "other", PASSPHRASE, **CHEAP)
    with pytest.raises(MalformedError, match="sealed for another wallet"):
        other.import_offer(sealed, trust=snapshot)
    with pytest.raises(MalformedError, match="sealed for a wallet"):
        decode_offer(sealed)
    assert wallet.import_offer(sealed, trust=snapshot).credentials == 2
