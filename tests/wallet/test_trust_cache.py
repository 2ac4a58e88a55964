"""The verifier's cache: sync over HTTP (mocked), refusal of anything that does not verify."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from ledger.crypto.actor_keys import ActorKey
from ledger.formats.status_list import StatusList, encode_status_list, new_bits
from tests.wallet.conftest import NOW
from tests.wallet.issuing import World
from wallet.trust_cache import CacheMissingError, SyncError, TrustCache

URL = "https://ledger.example"


def _server(world: World, **override: object) -> Callable[[httpx.Request], httpx.Response]:
    trust = override.get("trust", world.trust_list())
    docs = override.get("docs", world.status_documents())

    def handler(request: httpx.Request) -> httpx.Response:
        status = override.get("status")
        if status:
            return httpx.Response(int(status))  # type: ignore[call-overload]
        path = request.url.path
        if path == "/v1/trust-list":
            return httpx.Response(200, content=trust)  # type: ignore[arg-type]
        if path == "/v1/status-lists":
            return httpx.Response(200, json={"lists": list(docs)})  # type: ignore[arg-type]
        list_id = path.rsplit("/", 1)[-1]
        issuer_id, rev, sus = docs[list_id]  # type: ignore[index]
        return httpx.Response(
            200,
            json={
                "id": list_id,
                "issuer_id": issuer_id,
                "revocation": base64.b64encode(rev).decode(),
                "suspension": base64.b64encode(sus).decode(),
            },
        )

    return handler


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_sync_then_load(world: World, tmp_path: Path) -> None:
    cache = TrustCache(tmp_path / "c")
    result = cache.sync(URL, world.operator.public_key, client=_client(_server(world)), now=NOW)
    assert set(result.status_lists) == {"mex-mad-1", "gtm-mad-1"}
    assert result.issuers == 2
    snap = TrustCache(tmp_path / "c").load()
    assert snap.trust_age(NOW + timedelta(hours=1)) == 3600
    assert snap.status["mex-mad-1"].revocation.purpose == "revocation"
    assert snap.status["mex-mad-1"].suspension.purpose == "suspension"
    assert not list((tmp_path / "c").glob("*.tmp"))


def _good_cache(world: World, path: Path) -> bytes:
    TrustCache(path).sync(URL, world.operator.public_key, client=_client(_server(world)), now=NOW)
    return (path / "trust-list.json").read_bytes()


def test_wrong_operator_refused_cache_kept(world: World, tmp_path: Path) -> None:
    before = _good_cache(world, tmp_path / "c")
    handler = _server(world, trust=World.build(NOW).trust_list())  # another operator's list
    with pytest.raises(SyncError, match="refused the trust list"):
        TrustCache(tmp_path / "c").sync(URL, world.operator.public_key, client=_client(handler))
    assert (tmp_path / "c" / "trust-list.json").read_bytes() == before
    TrustCache(tmp_path / "c").load()


def test_http_error(world: World, tmp_path: Path) -> None:
    before = _good_cache(world, tmp_path / "c")
    with pytest.raises(SyncError, match="HTTP 503"):
        TrustCache(tmp_path / "c").sync(
            URL, world.operator.public_key, client=_client(_server(world, status=503))
        )
    assert (tmp_path / "c" / "trust-list.json").read_bytes() == before


def test_network_failure(world: World, tmp_path: Path) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    with pytest.raises(SyncError, match="timed out"):
        TrustCache(tmp_path / "c").sync(URL, world.operator.public_key, client=_client(boom))
    assert not TrustCache(tmp_path / "c").exists()


def _forged_docs(world: World, signer: ActorKey, list_id: str = "mex-mad-1") -> dict:
    docs = world.status_documents()
    forged = StatusList(
        list_id, world.madrid.issuer_id, "revocation", 2, "2026-11-23T00:00:00Z", new_bits()
    )
    issuer_id, _, sus = docs["mex-mad-1"]
    docs["mex-mad-1"] = (issuer_id, encode_status_list(forged, signer.sign), sus)
    return docs


def test_status_list_wrong_key_refused(world: World, tmp_path: Path) -> None:
    before = _good_cache(world, tmp_path / "c")
    handler = _server(world, docs=_forged_docs(world, ActorKey.generate()))
    with pytest.raises(SyncError, match="is not the version 1 the trust list names"):
        TrustCache(tmp_path / "c").sync(URL, world.operator.public_key, client=_client(handler))
    assert (tmp_path / "c" / "trust-list.json").read_bytes() == before


def test_status_list_other_list_id_refused(world: World, tmp_path: Path) -> None:
    handler = _server(world, docs=_forged_docs(world, world.madrid.list_key, "mex-mad-2"))
    with pytest.raises(SyncError, match="not the version 1 the trust list names"):
        TrustCache(tmp_path / "c").sync(URL, world.operator.public_key, client=_client(handler))


def test_status_list_of_another_issuer_refused(world: World, tmp_path: Path) -> None:
    docs = world.status_documents()
    docs["mex-mad-1"] = (world.guatemala.issuer_id, *docs["mex-mad-1"][1:])
    with pytest.raises(SyncError):
        TrustCache(tmp_path / "c").sync(
            URL, world.operator.public_key, client=_client(_server(world, docs=docs))
        )


def test_trust_list_rollback_refused(world: World, tmp_path: Path) -> None:
    _good_cache(world, tmp_path / "c")
    older = world.trust_list(now=NOW - timedelta(days=1))
    with pytest.raises(SyncError, match="rollback"):
        TrustCache(tmp_path / "c").sync(
            URL, world.operator.public_key, client=_client(_server(world, trust=older))
        )


def test_damaged_cache_detected(world: World, tmp_path: Path) -> None:
    _good_cache(world, tmp_path / "c")
    path = tmp_path / "c" / "trust-list.json"
    doc = json.loads(path.read_bytes())
    doc["issued_at"] = "2030-01-01T00:00:00Z"
    path.write_text(json.dumps(doc))
    with pytest.raises(CacheMissingError, match="damaged"):
        TrustCache(tmp_path / "c").load()
    with pytest.raises(CacheMissingError, match="sync"):
        TrustCache(tmp_path / "empty").load()


def test_a_stale_status_list_is_refused_even_when_validly_signed(
    world: World, tmp_path: Path
) -> None:
    """The trust list names the current version; an older, genuinely signed list (from a stale
    replica or a cache on the way) is not accepted as fresh."""
    stale = world.status_documents()
    world.madrid.revoked.add(7)  # the consulate revokes a credential: the list changes
    handler = _server(world, docs=stale)  # ... but the verifier is served the old list
    with pytest.raises(SyncError, match="stale or altered"):
        TrustCache(tmp_path / "c").sync(URL, world.operator.public_key, client=_client(handler))
