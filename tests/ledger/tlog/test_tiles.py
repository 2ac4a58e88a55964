"""tlog-tiles paths, tile sets per tree size, and the tile/bundle byte formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import MalformedError
from ledger.formats.tiles import (
    ENTRIES_LEVEL,
    TileError,
    TileId,
    decode_entry_bundle,
    decode_hash_tile,
    encode_entry_bundle,
    entry_bundles_for_size,
    parse_tile_path,
    tile_nodes,
    tile_path,
    tiles_for_size,
)
from tests.ledger.tlog.vectors import b64, tessera


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (TileId(0, 1234, 5), "tile/0/x001/234.p/5"),
        (TileId.entries(1234), "tile/entries/x001/234"),
        (TileId(0, 1234067), "tile/0/x001/x234/067"),
        (TileId(3, 0, 255), "tile/3/000.p/255"),
        (TileId(63, 999), "tile/63/999"),
        (TileId(1, 1000, 1), "tile/1/x001/000.p/1"),
    ],
    ids=lambda x: str(x),
)
def test_paths(tile: TileId, path: str) -> None:
    assert tile_path(tile) == path
    assert parse_tile_path(path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/0001",
        "tile/00/000",
        "tile/64/000",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/05",
        "tile/0/x000/001",
        "tile/0/001/x001",
        "tile/0/y001/001",
        "/tile/0/000",
        "tile/0/000/",
        "tile/entries/000.p/",
        "tile/-1/000",
        "tile/0/000.p/1/",
        " tile/0/000",
        "tile/0/000\n",
        "tile/data/000",
        "tile/0/x1/000",
    ],
)
def test_bad_paths(path: str) -> None:
    with pytest.raises(TileError, match=r"^malformed tile path: "):
        parse_tile_path(path)


@given(st.integers(-1, 63), st.integers(0, 10**12), st.integers(1, 256))
def test_path_roundtrip(level: int, index: int, width: int) -> None:
    tile = TileId(level, index, width)
    assert parse_tile_path(tile_path(tile)) == tile


def test_tiles_for_size_spec_examples() -> None:
    tiles = tiles_for_size(70_000)
    level0 = [t for t in tiles if t.level == 0]
    assert len(level0) == 274 and level0[-1] == TileId(0, 273, 112)
    assert all(t.width == 256 for t in level0[:-1])
    assert [t for t in tiles if t.level == 1] == [TileId(1, 0), TileId(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [TileId(2, 0, 1)]
    assert tiles_for_size(256) == [TileId(0, 0), TileId(1, 0, 1)]
    assert tiles_for_size(0) == [] and entry_bundles_for_size(0) == []
    assert entry_bundles_for_size(600) == [
        TileId.entries(0),
        TileId.entries(1),
        TileId(ENTRIES_LEVEL, 2, 88),
    ]


def test_tessera_tiles_are_exactly_the_expected_set() -> None:
    log = tessera()
    for n in range(1, 16):
        assert [tile_path(t) for t in tiles_for_size(n)] == [f"tile/0/000.p/{n}"]
        assert [tile_path(t) for t in entry_bundles_for_size(n)] == [f"tile/entries/000.p/{n}"]
        bundle = b64(log["entry_bundles"][f"tile/entries/000.p/{n}"])
        entries = decode_entry_bundle(bundle, n)
        assert entries == [e.encode() for e in log["entries_in_order"][:n]]
        assert encode_entry_bundle(entries) == bundle
        assert len(decode_hash_tile(b64(log["tiles"][f"tile/0/000.p/{n}"]), n)) == n


def test_tile_nodes() -> None:
    assert tile_nodes(TileId(1, 2, 3)) == [(8, 512), (8, 513), (8, 514)]
    with pytest.raises(TileError):
        tile_nodes(TileId.entries(0))


def test_format_errors() -> None:
    with pytest.raises(TileError, match=r"^malformed entry bundle: expected 2 entries, got 1"):
        decode_entry_bundle(b"\x00\x01a", 2)
    with pytest.raises(TileError, match=r"^malformed entry bundle: 1 trailing bytes"):
        decode_entry_bundle(b"\x00\x01ab", 1)
    with pytest.raises(TileError, match=r"^malformed entry bundle: entry 0 needs 5 bytes, 1 left"):
        decode_entry_bundle(b"\x00\x05a", 1)
    with pytest.raises(TileError, match=r"^malformed entry bundle: entry 0 is 65536 bytes"):
        encode_entry_bundle([bytes(65536)])
    with pytest.raises(TileError, match=r"^malformed entry bundle: 257 entries"):
        encode_entry_bundle([b""] * 257)
    with pytest.raises(TileError, match=r"^malformed hash tile: expected 64 bytes, got 63"):
        decode_hash_tile(bytes(63), 2)
    with pytest.raises(MalformedError, match=r"^malformed tile path: width 0"):
        TileId(0, 0, 0)
    assert decode_entry_bundle(encode_entry_bundle([b"", bytes(65535)]), 2) == [b"", bytes(65535)]
