"""The log's HTTP API: appends, proofs, tiles, metrics — checked with the pure verifiers."""

from __future__ import annotations

import base64

from ledger import merkle
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.note import parse_vkey
from ledger.formats.tiles import decode_entry_bundle, decode_hash_tile

from .conftest import Instance


def _b(text: str) -> bytes:
    return base64.b64decode(text)


def test_append_answers_with_index_checkpoint_and_proof(instance: Instance) -> None:
    response = instance.append(instance.note("opened the desk"), proof="true")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["index"] == 1 and body["tree_size"] == 2 and not body["duplicate"]
    assert response.headers["location"] == "/v1/log/entries/1"
    verifier = parse_vkey(instance.client.get("/v1/log/vkey").text.strip())
    cp = open_checkpoint(body["checkpoint"], verifier, instance.settings.origin)
    proof = [_b(p) for p in body["inclusion_proof"]]
    merkle.verify_inclusion(_b(body["leaf_hash"]), body["index"], cp.size, proof, cp.root)


def test_a_retried_append_gets_the_same_index(instance: Instance) -> None:
    entry = instance.note("once")
    first = instance.append(entry)
    again = instance.append(entry)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["index"] == first.json()["index"] and again.json()["duplicate"]


def test_proof_endpoints_verify(instance: Instance) -> None:
    for i in range(20):
        assert instance.append(instance.note(f"n{i}")).status_code == 201
    cp = instance.client.get("/v1/log/checkpoint").json()
    size, root = cp["size"], _b(cp["root"])
    entries = instance.client.get("/v1/log/entries", params={"start": 0, "end": size}).json()
    leaves = [_b(e["leaf_hash"]) for e in entries["entries"]]
    assert merkle.root(leaves) == root
    by_index = instance.client.get("/v1/log/proof/inclusion", params={"index": 7}).json()
    merkle.verify_inclusion(leaves[7], 7, size, [_b(p) for p in by_index["proof"]], root)
    by_hash = instance.client.get(
        "/v1/log/proof/inclusion", params={"leaf_hash": entries["entries"][7]["leaf_hash"]}
    ).json()
    assert by_hash == by_index
    cons = instance.client.get("/v1/log/proof/consistency", params={"first": 5}).json()
    merkle.verify_consistency(
        5, size, [_b(p) for p in cons["proof"]], merkle.root(leaves[:5]), root
    )
    one = instance.client.get("/v1/log/entries/3").json()
    assert one["entry"]["body"] == {"text": "n2"}


def test_tiles_serve_the_same_tree(instance: Instance) -> None:
    for i in range(9):
        instance.append(instance.note(f"t{i}"))
    checkpoint = instance.client.get("/log/checkpoint")
    assert checkpoint.headers["content-type"].startswith("text/plain")
    assert checkpoint.headers["cache-control"] == "no-cache"
    verifier = parse_vkey(instance.client.get("/v1/log/vkey").text.strip())
    cp = open_checkpoint(checkpoint.text, verifier)
    assert cp.size == 10
    tile = instance.client.get("/log/tile/0/000.p/10")
    assert tile.status_code == 200
    assert "immutable" in tile.headers["cache-control"]
    assert tile.headers["content-type"] == "application/octet-stream"
    hashes = decode_hash_tile(tile.content, 10)
    bundle = decode_entry_bundle(instance.client.get("/log/tile/entries/000.p/10").content, 10)
    assert [merkle.leaf_hash(e) for e in bundle] == hashes
    assert merkle.root(hashes) == cp.root
    narrower = instance.client.get("/log/tile/0/000.p/4")
    assert narrower.status_code == 200 and decode_hash_tile(narrower.content, 4) == hashes[:4]


def test_metrics_count_appends_and_size(instance: Instance) -> None:
    instance.append(instance.note("counted"))
    text = instance.client.get("/metrics").text
    assert "consular_ledger_appends_total 2.0" in text  # the bootstrap entry and this one
    assert "consular_ledger_tree_size 2.0" in text
    assert "consular_ledger_integration_latency_seconds_count" in text


def test_an_officer_key_added_by_the_operator_can_write_notes(instance: Instance) -> None:
    from ledger.crypto.actor_keys import ActorKey
    from ledger.formats.entry import sign_entry

    officer = ActorKey.generate()
    body = {
        "key_id": officer.key_id,
        "public_key": base64.b64encode(officer.public_key).decode(),
        "name": "desk 4",
        "types": ["log.note"],
    }
    added = instance.append(sign_entry("trust.key_added", body, instance.operator).encode())
    assert added.status_code == 201
    assert instance.append(instance.note("from the desk", officer)).status_code == 201
    refused = instance.append(
        sign_entry("trust.key_added", {**body, "name": "x"}, officer).encode()
    )
    assert refused.status_code == 403
    assert "may not write trust.key_added" in refused.json()["detail"]
