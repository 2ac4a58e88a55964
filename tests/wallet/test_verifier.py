"""Offline verification: the happy path from a QR picture, and every failure code on its own."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from ledger.formats.credential import ALWAYS_DISCLOSED, ATTRIBUTES, challenge_header, time_header
from ledger.formats.presentation import decode_presentation, encode_presentation
from tests.wallet.conftest import NOW, save_cache
from tests.wallet.issuing import World, make_presentation
from wallet.holder import Wallet
from wallet.qr import render_png
from wallet.trust_cache import CacheSnapshot
from wallet.verifier import (
    CODES,
    FileReplayStore,
    MemoryReplayStore,
    Verdict,
    proof_digest,
    verify_image,
)

Check = Callable[..., Verdict]
BANK = ["name", "birth_date", "nationality", "document_number"]


def _png(payload: str) -> bytes:
    buffer = io.BytesIO()
    render_png(payload, buffer)
    return buffer.getvalue()


def _invalid(verdict: Verdict, code: str) -> None:
    assert code in CODES
    assert not verdict.valid
    assert verdict.code == code, verdict
    assert verdict.message
    assert verdict.attributes == {}


def _time_bound(world: World, issuer=None, offer=None, names=None, at=NOW) -> str:
    issuer = issuer or world.madrid
    offer = offer or world.offer(issuer)
    return make_presentation(issuer, offer, names or list(ALWAYS_DISCLOSED), time_header(at))


# --- happy path -------------------------------------------------------------------------------


def test_present_qr_png_verify_image_valid(wallet: Wallet, snapshot: CacheSnapshot) -> None:
    payload = wallet.present(BANK, None, NOW)
    verdict = verify_image(
        _png(payload),
        snapshot,
        now=NOW + timedelta(seconds=40),
        expected_challenge=None,
        max_trust_age=timedelta(days=7),
        max_status_age=timedelta(days=1),
        replay=MemoryReplayStore(),
    )
    assert verdict.valid, verdict
    assert verdict.code == "valid"
    assert verdict.issuer == "Consulate of Mexico in Madrid (MEX)"
    expected = {"family_name", "given_names", "birth_date", "nationality", "document_number"}
    assert set(verdict.attributes) == expected | set(ALWAYS_DISCLOSED)
    assert verdict.attributes["family_name"] == "Quetzalcoatl-Ruiz"
    assert "holder_secret" not in verdict.attributes
    assert verdict.trust_age_s == pytest.approx(40)
    assert verdict.status_age_s == pytest.approx(40)


def test_challenge_bound_presentation(wallet: Wallet, check: Check) -> None:
    payload = wallet.present(["age_over_18"], "bank-7781", NOW)
    verdict = check(payload, expected_challenge="bank-7781")
    assert verdict.valid, verdict
    assert set(verdict.attributes) == {"age_over_18", *ALWAYS_DISCLOSED}


def test_only_always_disclosed(world: World, check: Check) -> None:
    verdict = check(_time_bound(world))
    assert verdict.valid, verdict
    assert set(verdict.attributes) == set(ALWAYS_DISCLOSED)


# --- decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        b"definitely not an image",
        b"",
        "truncated",
        "blank",
    ],
)
def test_unreadable_image(image: object, snapshot: CacheSnapshot, wallet: Wallet) -> None:
    if image == "truncated":
        data = _png(wallet.present(BANK, None, NOW))
        image = data[: len(data) // 2]
    elif image == "blank":
        buffer = io.BytesIO()
        Image.new("L", (200, 200), 255).save(buffer, format="PNG")
        image = buffer.getvalue()
    verdict = verify_image(
        image,  # type: ignore[arg-type]
        snapshot,
        now=NOW,
        expected_challenge=None,
        max_trust_age=timedelta(days=7),
        max_status_age=timedelta(days=1),
        replay=MemoryReplayStore(),
    )
    _invalid(verdict, "unreadable_image")


def test_unreadable_image_path(snapshot: CacheSnapshot, tmp_path: Path) -> None:
    verdict = verify_image(
        tmp_path / "missing.png",
        snapshot,
        now=NOW,
        expected_challenge=None,
        max_trust_age=timedelta(days=7),
        max_status_age=timedelta(days=1),
        replay=MemoryReplayStore(),
    )
    _invalid(verdict, "unreadable_image")


def test_wrong_prefix(world: World, check: Check) -> None:
    payload = _time_bound(world)
    _invalid(check("HC1:" + payload[4:]), "malformed_payload")
    _invalid(check("hello"), "malformed_payload")
    _invalid(check(""), "malformed_payload")


def test_wrong_version(world: World, check: Check) -> None:
    verdict = check("CL2:" + _time_bound(world)[4:])
    _invalid(verdict, "malformed_payload")
    assert "version" in verdict.message


def test_corrupt_payload(world: World, check: Check) -> None:
    payload = _time_bound(world)
    _invalid(check(payload[:-10]), "malformed_payload")
    _invalid(check(payload[:20] + "!!" + payload[22:]), "malformed_payload")


def test_random_mutations_never_crash_never_valid(world: World, check: Check) -> None:
    payload = _time_bound(world)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    rng = random.Random(7)
    for _ in range(60):
        chars = list(payload)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(4, len(chars))] = rng.choice(alphabet)
        mutated = "".join(chars)
        if mutated == payload:
            continue
        verdict = check(mutated)
        assert not verdict.valid
        assert verdict.code != "internal_error", verdict


def test_unsupported_schema(world: World, check: Check) -> None:
    offer = world.offer(world.madrid)
    payload = make_presentation(
        world.madrid, offer, list(ALWAYS_DISCLOSED), time_header(NOW), schema=(2, 1)
    )
    _invalid(check(payload), "unsupported_schema")


def test_missing_disclosure(world: World, check: Check) -> None:
    names = [n for n in ALWAYS_DISCLOSED if n != "status_index"]
    payload = make_presentation(world.madrid, world.offer(world.madrid), names, time_header(NOW))
    verdict = check(payload)
    _invalid(verdict, "missing_disclosure")
    assert "status_index" in verdict.message


# --- trust --------------------------------------------------------------------------------


def test_trust_list_too_old(world: World, wallet: Wallet, check: Check, tmp_path: Path) -> None:
    old = save_cache(world, tmp_path / "old", fetched_at=NOW - timedelta(days=8)).load()
    verdict = check(wallet.present(BANK, None, NOW), cache=old)
    _invalid(verdict, "trust_list_too_old")
    assert verdict.trust_age_s == pytest.approx(8 * 86400)


def test_unknown_issuer(world: World, check: Check) -> None:
    _invalid(check(_time_bound(world, world.rogue)), "unknown_issuer")


def test_outside_scope_without_and_with_delegation(world: World, tmp_path: Path) -> None:
    """The Guatemalan consulate issues to a Mexican national: only a MEX delegation allows it."""
    offer = world.offer(world.guatemala, nationality="MEX")
    payload = _time_bound(world, world.guatemala, offer)

    def run(cache_name: str) -> Verdict:
        snap = save_cache(world, tmp_path / cache_name).load()
        from wallet.verifier import verify_payload

        return verify_payload(
            payload,
            snap,
            now=NOW,
            expected_challenge=None,
            max_trust_age=timedelta(days=7),
            max_status_age=timedelta(days=1),
            replay=MemoryReplayStore(),
        )

    _invalid(run("no-delegation"), "outside_scope")
    world.delegate("MEX", world.guatemala, not_after=NOW + timedelta(days=365))
    verdict = run("delegation")
    assert verdict.valid, verdict
    assert verdict.issuer == "Consulate of Guatemala in Madrid (GTM)"


def test_issuer_not_valid_at_issue(world: World, check: Check) -> None:
    offer = world.offer(world.madrid, issue_date=(NOW - timedelta(days=500)).date())
    _invalid(check(_time_bound(world, world.madrid, offer)), "issuer_not_valid_at_issue")


def test_issuer_key_revoked_before_issue(world: World, tmp_path: Path, check: Check) -> None:
    world.revoke_issuer(world.madrid, revoked_from=NOW - timedelta(days=10))
    snap = save_cache(world, tmp_path / "revoked").load()
    after = world.offer(world.madrid, issue_date=(NOW - timedelta(days=5)).date())
    _invalid(check(_time_bound(world, world.madrid, after), cache=snap), "issuer_revoked")
    before = world.offer(world.madrid, issue_date=(NOW - timedelta(days=20)).date())
    assert check(_time_bound(world, world.madrid, before), cache=snap).valid


# --- proof --------------------------------------------------------------------------------


@pytest.mark.parametrize("position", [0, 150, 271, -1])
def test_tampered_proof_byte(world: World, check: Check, position: int) -> None:
    presentation = decode_presentation(_time_bound(world))
    proof = bytearray(presentation.proof)
    proof[position] ^= 0x01
    tampered = encode_presentation(replace(presentation, proof=bytes(proof)))
    verdict = check(tampered)
    _invalid(verdict, "proof_invalid")
    assert "cannot tell" in verdict.message


def test_tampered_disclosed_value(wallet: Wallet, check: Check) -> None:
    presentation = decode_presentation(wallet.present(BANK, None, NOW))
    disclosed = dict(presentation.disclosed)
    disclosed[ATTRIBUTES.index("birth_date")] = b"1970-01-01"
    tampered = encode_presentation(replace(presentation, disclosed=disclosed))
    _invalid(check(tampered), "proof_invalid")


def test_issuer_key_id_swapped(world: World, check: Check) -> None:
    """A genuine proof claimed for another trusted issuer does not verify under its key."""
    offer = world.offer(world.madrid)
    payload = make_presentation(
        world.madrid,
        offer,
        list(ALWAYS_DISCLOSED),
        time_header(NOW),
        issuer_key_id=bytes.fromhex(world.guatemala.issuer_id),
    )
    assert check(payload).code in {"outside_scope", "proof_invalid"}


# --- presentation header ------------------------------------------------------------------


def test_wrong_challenge(world: World, check: Check) -> None:
    offer = world.offer(world.madrid)
    names = list(ALWAYS_DISCLOSED)
    answered = make_presentation(world.madrid, offer, names, challenge_header("nonce-A"))
    _invalid(check(answered, expected_challenge="nonce-B"), "wrong_challenge")
    timed = make_presentation(world.madrid, offer, names, time_header(NOW))
    _invalid(check(timed, expected_challenge="nonce-B"), "wrong_challenge")
    _invalid(check(answered), "wrong_challenge")  # bound to a challenge nobody asked for here
    assert check(answered, expected_challenge="nonce-A").valid


def test_outside_time_window(world: World, check: Check) -> None:
    _invalid(check(_time_bound(world, at=NOW - timedelta(minutes=10))), "outside_time_window")
    _invalid(check(_time_bound(world, at=NOW + timedelta(minutes=7))), "outside_time_window")
    assert check(_time_bound(world, at=NOW - timedelta(minutes=4))).valid
    wide = check(_time_bound(world, at=NOW - timedelta(minutes=10)), time_window=timedelta(hours=1))
    assert wide.valid


# --- validity -----------------------------------------------------------------------------


def test_expired(world: World, check: Check) -> None:
    offer = world.offer(world.madrid, expiry="2026-10")
    verdict = check(_time_bound(world, world.madrid, offer))
    _invalid(verdict, "expired")


def test_expiry_month_is_valid_through_its_last_day(world: World, tmp_path: Path) -> None:
    offer = world.offer(world.madrid, expiry="2026-11")
    from wallet.verifier import verify_payload

    def at(moment):
        snap = save_cache(world, tmp_path / moment.isoformat()[:13], fetched_at=moment).load()
        payload = _time_bound(world, world.madrid, offer, at=moment)
        return verify_payload(
            payload,
            snap,
            now=moment,
            expected_challenge=None,
            max_trust_age=timedelta(days=30),  # the trust list was signed at NOW
            max_status_age=timedelta(days=30),
            replay=MemoryReplayStore(),
        )

    assert at(NOW.replace(day=30, hour=23, minute=58)).valid
    _invalid(at(NOW.replace(month=12, day=1, hour=0, minute=1)), "expired")


def test_not_yet_valid(world: World, check: Check) -> None:
    offer = world.offer(world.madrid, issue_date=date(2026, 11, 24))
    _invalid(check(_time_bound(world, world.madrid, offer)), "not_yet_valid")


# --- status -------------------------------------------------------------------------------


def _status_index(payload: str) -> int:
    return int(decode_presentation(payload).disclosed[ATTRIBUTES.index("status_index")])


def test_revoked(world: World, wallet: Wallet, check: Check, tmp_path: Path) -> None:
    payload = wallet.present(BANK, None, NOW)
    world.madrid.revoked.add(_status_index(payload))
    snap = save_cache(world, tmp_path / "after").load()
    verdict = check(payload, cache=snap)
    _invalid(verdict, "revoked")
    assert verdict.status_age_s == 0


def test_suspended(world: World, wallet: Wallet, check: Check, tmp_path: Path) -> None:
    payload = wallet.present(BANK, None, NOW)
    world.madrid.suspended.add(_status_index(payload))
    snap = save_cache(world, tmp_path / "after").load()
    _invalid(check(payload, cache=snap), "suspended")
    # another credential of the same batch is not affected
    assert check(wallet.present(BANK, None, NOW), cache=snap).valid


def test_status_unknown(world: World, wallet: Wallet, check: Check, tmp_path: Path) -> None:
    from wallet.trust_cache import TrustCache

    cache = TrustCache(tmp_path / "no-status")
    cache.save(
        trust_list=world.trust_list(),
        operator_public_key=world.operator.public_key,
        status_lists={},
        fetched_at=NOW,
    )
    _invalid(check(wallet.present(BANK, None, NOW), cache=cache.load()), "status_unknown")


def test_status_list_too_old(world: World, wallet: Wallet, check: Check) -> None:
    verdict = check(
        wallet.present(BANK, None, NOW + timedelta(hours=2)),
        now=NOW + timedelta(hours=2),
        max_status_age=timedelta(hours=1),
    )
    _invalid(verdict, "status_list_too_old")


# --- replay -------------------------------------------------------------------------------


def test_replayed(wallet: Wallet, check: Check) -> None:
    payload = wallet.present(BANK, None, NOW)
    store = MemoryReplayStore()
    assert check(payload, replay=store).valid
    _invalid(check(payload, replay=store), "replayed")
    # a fresh presentation of the same credential batch is fine
    assert check(wallet.present(BANK, None, NOW), replay=store).valid


def test_failed_verification_is_not_recorded(wallet: Wallet, check: Check) -> None:
    payload = wallet.present(BANK, None, NOW)
    store = MemoryReplayStore()
    _invalid(check(payload, replay=store, expected_challenge="x"), "wrong_challenge")
    assert store.seen == {}
    assert check(payload, replay=store).valid


def test_file_replay_store_persists_and_prunes(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    store = FileReplayStore(path, retention=timedelta(minutes=10))
    assert store.check_and_record(b"a" * 32, NOW) is False
    assert FileReplayStore(path).check_and_record(b"a" * 32, NOW + timedelta(minutes=1)) is True
    assert store.check_and_record(b"b" * 32, NOW + timedelta(minutes=20)) is False
    # "a" was pruned after the retention period
    assert b"a".hex() * 32 not in path.read_text()
    path.write_text("{ damaged")
    assert store.check_and_record(b"c" * 32, NOW) is False


def test_file_replay_store_with_verifier(wallet: Wallet, check: Check, cache_dir: Path) -> None:
    payload = wallet.present(BANK, "challenge-1", NOW)
    store = FileReplayStore(cache_dir / "replay.json")
    assert check(payload, replay=store, expected_challenge="challenge-1").valid
    again = check(
        payload, replay=FileReplayStore(cache_dir / "replay.json"), expected_challenge="challenge-1"
    )
    _invalid(again, "replayed")
    digest = proof_digest(decode_presentation(payload)).hex()
    assert digest in (cache_dir / "replay.json").read_text()
