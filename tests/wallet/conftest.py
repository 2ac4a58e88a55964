"""Fixtures of the wallet tests: a world built locally, a synced cache, a cheap-to-open wallet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.pwhash
import pytest

from tests.wallet.issuing import World
from wallet.holder import Wallet
from wallet.trust_cache import CacheSnapshot, TrustCache
from wallet.verifier import MemoryReplayStore, Verdict, verify_payload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"
CHEAP = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


@pytest.fixture(autouse=True)
def _cheap_argon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wallet.store.DEFAULT_OPSLIMIT", CHEAP["opslimit"])
    monkeypatch.setattr("wallet.store.DEFAULT_MEMLIMIT", CHEAP["memlimit"])


@pytest.fixture
def world() -> World:
    return World.build(NOW)


def save_cache(world: World, directory: Path, *, fetched_at: datetime = NOW) -> TrustCache:
    cache = TrustCache(directory)
    cache.save(
        trust_list=world.trust_list(),
        operator_public_key=world.operator.public_key,
        status_lists=world.status_documents(),
        fetched_at=fetched_at,
    )
    return cache


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "verifier"


@pytest.fixture
def snapshot(world: World, cache_dir: Path) -> CacheSnapshot:
    return save_cache(world, cache_dir).load()


@pytest.fixture
def wallet(world: World, snapshot: CacheSnapshot, tmp_path: Path) -> Wallet:
    w = Wallet.init(tmp_path / "wallet", PASSPHRASE, **CHEAP)
    w.import_offer(world.offer(world.madrid, batch=5), trust=snapshot)
    return w


@pytest.fixture
def check(snapshot: CacheSnapshot) -> Callable[..., Verdict]:
    """verify_payload with the test defaults; keyword overrides pass through."""

    def run(payload: str, **overrides: object) -> Verdict:
        options: dict[str, object] = {
            "now": NOW,
            "expected_challenge": None,
            "max_trust_age": timedelta(days=7),
            "max_status_age": timedelta(days=1),
            "replay": MemoryReplayStore(),
        }
        options.update(overrides)
        cache = options.pop("cache", snapshot)
        return verify_payload(payload, cache, **options)  # type: ignore[arg-type]

    return run
