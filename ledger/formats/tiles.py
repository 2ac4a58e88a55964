"""C2SP tlog-tiles layout (c2sp.org/tlog-tiles): tile paths, which tiles a tree needs, and the
byte formats of hash tiles and entry bundles. Tile height 8, full width 256.

A hash tile at level L holds tree nodes at Merkle level 8·L (level-0 tiles hold leaf hashes);
tile index N of width W holds nodes N·256 … N·256+W−1 of that level, i.e. stored nodes
``(8·L, N·256 + i)`` (see :func:`tile_nodes`). Entry bundles are identified by
``level == ENTRIES_LEVEL`` (−1) in :class:`TileId`; their entries match the level-0 tile of the
same index and width.

Paths are relative to the log prefix: ``tile/0/x001/234.p/5``, ``tile/entries/x001/234``.
The index is written as zero-padded 3-digit groups, all but the last prefixed ``x``; parsing
accepts only the canonical form (no leading ``x000`` group), so each tile has one path.

Errors: :class:`TileError` "malformed tile path: …", "malformed hash tile: …",
"malformed entry bundle: …".
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import MalformedError

__all__ = [
    "ENTRIES_LEVEL",
    "HASH_SIZE",
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileError",
    "TileId",
    "decode_entry_bundle",
    "decode_hash_tile",
    "encode_entry_bundle",
    "entry_bundles_for_size",
    "parse_tile_path",
    "tile_nodes",
    "tile_path",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 256
ENTRIES_LEVEL = -1
MAX_LEVEL = 63
HASH_SIZE = 32
MAX_ENTRY_SIZE = 0xFFFF
_PATH_RE = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*)([0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?"
)


class TileError(MalformedError):
    """A tile path, hash tile or entry bundle that does not follow tlog-tiles."""


@dataclass(frozen=True)
class TileId:
    """One tile: ``level`` 0..63 for hash tiles or :data:`ENTRIES_LEVEL` (−1) for an entry
    bundle, its ``index`` within the level, and ``width`` 1..256 (256 = full tile)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not ENTRIES_LEVEL <= self.level <= MAX_LEVEL:
            raise TileError(f"malformed tile path: level {self.level} not in [-1, {MAX_LEVEL}]")
        if self.index < 0:
            raise TileError(f"malformed tile path: negative index {self.index}")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TileError(f"malformed tile path: width {self.width} not in [1, {TILE_WIDTH}]")

    @classmethod
    def entries(cls, index: int, width: int = TILE_WIDTH) -> TileId:
        """The entry bundle ``index`` of ``width`` entries."""
        return cls(ENTRIES_LEVEL, index, width)

    @property
    def is_entries(self) -> bool:
        return self.level == ENTRIES_LEVEL

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        return tile_path(self)


def _encode_index(index: int) -> str:
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def tile_path(tile: TileId) -> str:
    """The path of a tile relative to the log prefix, e.g. ``tile/0/x001/234.p/5``."""
    level = "entries" if tile.is_entries else str(tile.level)
    suffix = "" if tile.is_full else f".p/{tile.width}"
    return f"tile/{level}/{_encode_index(tile.index)}{suffix}"


def parse_tile_path(path: str) -> TileId:
    """Parse a tile or entry-bundle path strictly; the inverse of :func:`tile_path`."""
    match = _PATH_RE.fullmatch(path)
    if not match:
        raise TileError(f"malformed tile path: {path[:120]!r}")
    level_text, prefix_groups, last_group, width_text = match.groups()
    groups = [g[1:] for g in prefix_groups.split("/") if g] + [last_group]
    if len(groups) > 1 and groups[0] == "000":
        raise TileError(f"malformed tile path: non-canonical index in {path[:120]!r}")
    index = int("".join(groups))
    level = ENTRIES_LEVEL if level_text == "entries" else int(level_text)
    if level > MAX_LEVEL:
        raise TileError(f"malformed tile path: level {level} > {MAX_LEVEL}")
    width = int(width_text) if width_text else TILE_WIDTH
    if width_text and width >= TILE_WIDTH:
        raise TileError(f"malformed tile path: partial width {width} not in [1, 255]")
    return TileId(level, index, width)


def _tiles_at(level: int, count: int) -> list[TileId]:
    """Tiles holding ``count`` consecutive hashes (or entries) from 0: full ones then a partial."""
    tiles = [TileId(level, n) for n in range(count // TILE_WIDTH)]
    if count % TILE_WIDTH:
        tiles.append(TileId(level, count // TILE_WIDTH, count % TILE_WIDTH))
    return tiles


def tiles_for_size(size: int) -> list[TileId]:
    """Every hash tile, all levels, of the tree of ``size`` leaves (level by level, left to right).

    At level L there are ``size >> 8L`` complete nodes; 256 per full tile plus one partial for
    the rest (none if zero). E.g. size 256 → one full level-0 tile and a level-1 tile of width 1.
    """
    if size < 0:
        raise TileError(f"malformed tile request: negative size {size}")
    tiles: list[TileId] = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        tiles.extend(_tiles_at(level, size >> (TILE_HEIGHT * level)))
        level += 1
    return tiles


def entry_bundles_for_size(size: int) -> list[TileId]:
    """Every entry bundle of a log of ``size`` entries, left to right."""
    if size < 0:
        raise TileError(f"malformed tile request: negative size {size}")
    return _tiles_at(ENTRIES_LEVEL, size)


def tile_nodes(tile: TileId) -> list[tuple[int, int]]:
    """The stored Merkle nodes ``(level, index)`` a hash tile holds, in order."""
    if tile.is_entries:
        raise TileError("malformed tile request: an entry bundle holds no tree nodes")
    start = tile.index * TILE_WIDTH
    return [(TILE_HEIGHT * tile.level, start + i) for i in range(tile.width)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Concatenate 1..256 entries, each prefixed with its length as a big-endian uint16."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise TileError(f"malformed entry bundle: {len(entries)} entries, expected 1..256")
    parts: list[bytes] = []
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"malformed entry bundle: entry {i} is {len(entry)} bytes, max 65535")
        parts.append(struct.pack(">H", len(entry)))
        parts.append(bytes(entry))
    return b"".join(parts)


def decode_entry_bundle(data: bytes, count: int) -> list[bytes]:
    """Split a bundle into exactly ``count`` entries; trailing or missing bytes are an error."""
    if not 1 <= count <= TILE_WIDTH:
        raise TileError(f"malformed entry bundle: expected count 1..256, got {count}")
    entries: list[bytes] = []
    offset = 0
    for i in range(count):
        if offset + 2 > len(data):
            raise TileError(f"malformed entry bundle: expected {count} entries, got {i}")
        (length,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if offset + length > len(data):
            raise TileError(
                f"malformed entry bundle: entry {i} needs {length} bytes, {len(data) - offset} left"
            )
        entries.append(bytes(data[offset : offset + length]))
        offset += length
    if offset != len(data):
        raise TileError(
            f"malformed entry bundle: {len(data) - offset} trailing bytes after {count} entries"
        )
    return entries


def decode_hash_tile(data: bytes, width: int) -> list[bytes]:
    """Split a hash tile into its ``width`` 32-byte hashes; the length must be exact."""
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"malformed hash tile: expected width 1..256, got {width}")
    if len(data) != width * HASH_SIZE:
        raise TileError(f"malformed hash tile: expected {width * HASH_SIZE} bytes, got {len(data)}")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]
