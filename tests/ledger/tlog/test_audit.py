"""Auditing a whole tlog-tiles log: the Tessera test log, a 600-entry log we build, tampering."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from nacl.signing import SigningKey

from ledger import merkle
from ledger.audit import AuditReport, AuditState, FetchError, audit_log
from ledger.errors import MalformedError
from ledger.formats.checkpoint import Checkpoint, parse_checkpoint_body, sign_checkpoint
from ledger.formats.note import format_vkey, parse_note, parse_vkey
from ledger.formats.tiles import (
    TILE_HEIGHT,
    TileId,
    encode_entry_bundle,
    entry_bundles_for_size,
    tile_nodes,
    tile_path,
    tiles_for_size,
)
from tests.ledger.tlog.vectors import tessera, tessera_files

TESSERA_ORIGIN = "example.com/log/testdata"
TESSERA_VERIFIER = parse_vkey(tessera()["log_vkey"])


def fetcher(files: dict[str, bytes]) -> Callable[[str], bytes]:
    def fetch(path: str) -> bytes:
        try:
            return files[path]
        except KeyError:
            raise FetchError(f"not found: {path}") from None

    return fetch


def tessera_state(name: str) -> AuditState:
    text = parse_note(tessera()["checkpoints"][name]).text
    return AuditState.from_checkpoint(parse_checkpoint_body(text))


def flip_byte(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0x01
    return bytes(b)


def audit(files: dict[str, bytes], previous: AuditState | None = None, **kw) -> AuditReport:
    return audit_log(fetcher(files), TESSERA_VERIFIER, TESSERA_ORIGIN, previous, **kw)


# --- the Tessera log -----------------------------------------------------------------------


def test_tessera_log_audits_clean() -> None:
    seen: list[tuple[int, int]] = []
    checked: list[int] = []

    def check(index: int, entry: bytes) -> str | None:
        assert entry == tessera()["entries_in_order"][index].encode()
        checked.append(index)
        return None

    report = audit(tessera_files(), progress=lambda d, t: seen.append((d, t)), check_entry=check)
    assert report.problems == [] and report.ok
    assert report.checkpoint is not None and report.checkpoint.size == 15
    assert report.entries_checked == 15 and checked == list(range(15))
    assert seen == [(15, 15)]
    assert report.state == tessera_state("checkpoint")


@pytest.mark.parametrize("old", [f"checkpoint.{n}" for n in range(16)])
def test_tessera_log_consistent_with_every_earlier_checkpoint(old: str) -> None:
    report = audit(tessera_files(), tessera_state(old))
    assert report.ok, report.problems


def test_empty_log_audits_clean() -> None:
    files = {"checkpoint": tessera()["checkpoints"]["checkpoint.0"].encode()}
    report = audit(files, tessera_state("checkpoint.0"))
    assert report.ok and report.entries_checked == 0 and report.tiles_checked == 0


def test_tampered_entry() -> None:
    files = tessera_files()
    path = "tile/entries/000.p/15"
    files[path] = flip_byte(files[path], len(files[path]) - 1)  # last byte of entry 14
    report = audit(files)
    assert not report.ok
    assert report.problems == [
        "entry 14: leaf hash does not match tile/0/000.p/15",
        "checkpoint: root does not match the root recomputed from 15 leaves",
    ]


def test_tampered_tile_hash() -> None:
    files = tessera_files()
    path = "tile/0/000.p/15"
    files[path] = flip_byte(files[path], 3 * 32 + 7)  # inside the hash of leaf 3
    report = audit(files)
    assert not report.ok
    assert report.problems == ["entry 3: leaf hash does not match tile/0/000.p/15"]


def test_tampered_checkpoint_signature() -> None:
    files = tessera_files()
    note = files["checkpoint"].decode()
    sig = note.rsplit(" ", 1)[1].strip()
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 0x01
    files["checkpoint"] = note.replace(sig, base64.b64encode(bytes(raw)).decode()).encode()
    report = audit(files)
    assert not report.ok and report.checkpoint is None
    assert report.problems == [
        "checkpoint: note verification failed: bad signature by known key "
        "example.com/log/testdata+33d7b496"
    ]


def test_rollback() -> None:
    previous = AuditState(TESSERA_ORIGIN, 20, bytes(32))
    report = audit(tessera_files(), previous)
    assert not report.ok and report.state is None
    assert report.problems == ["rollback: checkpoint size 15 < previous size 20"]


def test_fork() -> None:
    previous = tessera_state("checkpoint.10")
    previous.root = flip_byte(previous.root, 0)
    report = audit(tessera_files(), previous)
    assert not report.ok
    assert report.problems == [
        "fork: previous root at size 10 does not match the root of the first 10 leaves"
    ]


def test_same_size_different_root_is_a_fork() -> None:
    previous = tessera_state("checkpoint")
    previous.root = bytes(32)
    assert audit(tessera_files(), previous).problems[0].startswith("fork: previous root at size 15")


def test_origin_change_and_wrong_origin() -> None:
    previous = AuditState("other.example/log", 3, bytes(32))
    report = audit(tessera_files(), previous)
    assert report.problems == [
        "checkpoint: origin changed: previous 'other.example/log', now 'example.com/log/testdata'"
    ]
    report = audit_log(fetcher(tessera_files()), TESSERA_VERIFIER, "x", None)
    assert report.problems[0].startswith("checkpoint: checkpoint origin mismatch: expected 'x'")


def test_missing_resources_and_entry_hook() -> None:
    files = tessera_files()
    del files["tile/0/000.p/15"]
    report = audit(files, check_entry=lambda i, e: "bad entry signature" if i == 7 else None)
    assert not report.ok
    assert report.problems == [
        "tile/0/000.p/15: unavailable: not found: tile/0/000.p/15",
        "entry 7: bad entry signature",
    ]
    files = tessera_files()
    del files["checkpoint"]
    assert audit(files).problems == ["checkpoint: unavailable: not found: checkpoint"]


def test_malformed_tile_and_bundle_reported() -> None:
    files = tessera_files()
    files["tile/0/000.p/15"] += b"x"
    files["tile/entries/000.p/15"] += b"x"
    problems = audit(files).problems
    assert problems[0] == "tile/0/000.p/15: malformed hash tile: expected 480 bytes, got 481"
    assert problems[1] == (
        "tile/entries/000.p/15: malformed entry bundle: 1 trailing bytes after 15 entries"
    )
    assert problems[2].startswith("log: 15 leaves unavailable")


def test_audit_state_json() -> None:
    state = tessera_state("checkpoint.7")
    assert AuditState.from_json(state.to_json()) == state
    with pytest.raises(MalformedError, match=r"^malformed audit state: "):
        AuditState.from_json('{"origin": "o", "size": "1", "root": ""}')
    with pytest.raises(MalformedError, match=r"^malformed audit state: "):
        AuditState.from_json("not json")


# --- a 600-entry log built here: full and partial tiles at levels 0 and 1 ------------------

KEY = SigningKey(bytes(range(100, 132)))
ORIGIN = "example.org/audit-test"
N = 600


def build_log(n: int) -> tuple[dict[str, bytes], list[bytes]]:
    """All resources of an n-entry log, tiles filled from CompactRange's stored nodes."""
    entries = [f"entry {i}".encode() for i in range(n)]
    nodes: dict[tuple[int, int], bytes] = {}
    cr = merkle.CompactRange(0, [])
    for e in entries:
        nodes.update(cr.append(merkle.leaf_hash(e)))
    files: dict[str, bytes] = {}
    for tile in tiles_for_size(n):
        files[tile_path(tile)] = b"".join(nodes[x] for x in tile_nodes(tile))
    for bundle in entry_bundles_for_size(n):
        start = bundle.index * 256
        files[tile_path(bundle)] = encode_entry_bundle(entries[start : start + bundle.width])
    cp = Checkpoint(ORIGIN, n, cr.root())
    files["checkpoint"] = sign_checkpoint(
        cp, ORIGIN, lambda m: KEY.sign(m).signature, bytes(KEY.verify_key)
    ).encode()
    return files, entries


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, bytes], list[bytes]]:
    return build_log(N)


def own_audit(files: dict[str, bytes], previous: AuditState | None = None) -> AuditReport:
    verifier = parse_vkey(format_vkey(ORIGIN, bytes(KEY.verify_key)))
    return audit_log(fetcher(files), verifier, ORIGIN, previous)


def test_built_tiles_match_independent_roots(built: tuple[dict[str, bytes], list[bytes]]) -> None:
    files, entries = built
    leaves = [merkle.leaf_hash(e) for e in entries]
    assert sorted(p for p in files if p.startswith("tile/") and "entries" not in p) == [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
    ]
    for path in ("tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"):
        tile = next(t for t in tiles_for_size(N) if tile_path(t) == path)
        span = 256**tile.level
        data = files[path]
        for i, (_, j) in enumerate(tile_nodes(tile)):
            assert data[32 * i : 32 * i + 32] == merkle.root(leaves[j * span : (j + 1) * span])
    assert TileId(1, 0, 2) in tiles_for_size(N) and TILE_HEIGHT == 8


def test_built_log_audits_clean(built: tuple[dict[str, bytes], list[bytes]]) -> None:
    files, _ = built
    report = own_audit(
        files,
        AuditState(
            ORIGIN, 300, merkle.root([merkle.leaf_hash(f"entry {i}".encode()) for i in range(300)])
        ),
    )
    assert report.ok, report.problems
    assert report.entries_checked == N and report.tiles_checked == 4


def test_built_log_reports_every_problem(built: tuple[dict[str, bytes], list[bytes]]) -> None:
    files = dict(built[0])
    files["tile/1/000.p/2"] = flip_byte(files["tile/1/000.p/2"], 40)  # hash 1 of the level-1 tile
    files["tile/0/001"] = flip_byte(files["tile/0/001"], 32 * 5)  # leaf 261
    bundle = bytearray(files["tile/entries/002.p/88"])
    bundle[-1] ^= 0x01  # last entry, 599
    files["tile/entries/002.p/88"] = bytes(bundle)
    report = own_audit(files)
    assert not report.ok
    assert report.problems == [
        "entry 261: leaf hash does not match tile/0/001",
        "entry 599: leaf hash does not match tile/0/002.p/88",
        "tile/1/000.p/2: hash 1 does not match recomputed node (8, 1)",
        "checkpoint: root does not match the root recomputed from 600 leaves",
    ]
