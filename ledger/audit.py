"""Re-derive and check a whole tlog-tiles log from its public resources, without trusting it.

:func:`audit_log` is what an independent auditor runs: it needs only the log's verifier key and
a ``fetch(path)`` function (paths relative to the log prefix: ``checkpoint``,
``tile/0/000.p/5``, ``tile/entries/000.p/5``); it does no I/O itself. It:

1. fetches the checkpoint and verifies the log's signature (and origin); without a verified
   checkpoint nothing else can be judged, so the audit stops there;
2. checks the checkpoint against the previous audit's state: same origin, no shrinking
   (rollback), and the old root equal to the root of the first ``previous.size`` leaves (fork);
3. fetches every entry bundle and level-0 tile, recomputes each leaf hash from its entry and
   compares it with the tile, and calls ``check_entry`` for each entry;
4. recomputes every higher-level tile from the leaves (never from the served lower tiles, so one
   bad tile is reported once) and compares it with the served tile;
5. recomputes the root from all leaves and compares it with the checkpoint.

Every problem found is reported (not only the first), each naming the entry index or tile path.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger import merkle
from ledger.errors import InvalidDataError, MalformedError, UnavailableError
from ledger.formats.checkpoint import Checkpoint, open_checkpoint
from ledger.formats.note import Verifier
from ledger.formats.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileId,
    decode_entry_bundle,
    decode_hash_tile,
    entry_bundles_for_size,
    tile_path,
    tiles_for_size,
)

__all__ = ["AuditReport", "AuditState", "FetchError", "audit_log"]

CHECKPOINT_PATH = "checkpoint"


class FetchError(UnavailableError):
    """A resource of the log could not be fetched (not found or unavailable)."""


@dataclass
class AuditState:
    """What the auditor saw last time: the verified checkpoint's origin, size and root."""

    origin: str
    size: int
    root: bytes

    def to_json(self) -> str:
        return json.dumps(
            {
                "origin": self.origin,
                "size": self.size,
                "root": base64.b64encode(self.root).decode(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> AuditState:
        """Parse :meth:`to_json` output; MalformedError "malformed audit state: …" otherwise."""
        try:
            data = json.loads(text)
            origin, size = data["origin"], data["size"]
            root = base64.b64decode(data["root"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise MalformedError(f"malformed audit state: {type(exc).__name__}") from None
        if not isinstance(origin, str) or not isinstance(size, int) or isinstance(size, bool):
            raise MalformedError("malformed audit state: origin must be a string, size an integer")
        if size < 0 or len(root) != merkle.HASH_SIZE:
            raise MalformedError(f"malformed audit state: size {size}, root of {len(root)} bytes")
        return cls(origin=origin, size=size, root=root)

    @classmethod
    def from_checkpoint(cls, cp: Checkpoint) -> AuditState:
        return cls(origin=cp.origin, size=cp.size, root=cp.root)


@dataclass
class AuditReport:
    """The outcome. ``checkpoint`` is None only when no checkpoint could be verified;
    ``state`` is what to pass as ``previous`` next time (None unless ``ok``)."""

    ok: bool
    checkpoint: Checkpoint | None
    problems: list[str] = field(default_factory=list)
    entries_checked: int = 0
    tiles_checked: int = 0
    state: AuditState | None = None


def _fetch(fetch: Callable[[str], bytes], path: str, problems: list[str]) -> bytes | None:
    try:
        return fetch(path)
    except FetchError as exc:
        problems.append(f"{path}: unavailable: {exc}")
        return None


def audit_log(
    fetch: Callable[[str], bytes],
    verifier: Verifier,
    origin: str | None,
    previous: AuditState | None,
    *,
    progress: Callable[[int, int], None] | None = None,
    check_entry: Callable[[int, bytes], str | None] | None = None,
) -> AuditReport:
    """Audit the whole log; see the module docstring. ``progress(done, total)`` is called after
    each entry bundle with entry counts. ``fetch`` must raise :class:`FetchError` for missing
    resources; any other exception propagates."""
    problems: list[str] = []

    # 1. The checkpoint.
    raw = _fetch(fetch, CHECKPOINT_PATH, problems)
    if raw is None:
        return AuditReport(ok=False, checkpoint=None, problems=problems)
    try:
        cp = open_checkpoint(raw, verifier, origin)
    except InvalidDataError as exc:
        problems.append(f"checkpoint: {exc}")
        return AuditReport(ok=False, checkpoint=None, problems=problems)
    size = cp.size

    # 2. Against the previous audit (root comparison comes once the leaves are known).
    check_prefix = False
    if previous is not None:
        if previous.origin != cp.origin:
            problems.append(
                f"checkpoint: origin changed: previous {previous.origin!r}, now {cp.origin!r}"
            )
        elif previous.size > size:
            problems.append(f"rollback: checkpoint size {size} < previous size {previous.size}")
        else:
            check_prefix = True

    # 3. Entries and level-0 tiles.
    leaves: list[bytes | None] = [None] * size
    entries_checked = 0
    tiles_checked = 0
    for bundle in entry_bundles_for_size(size):
        start = bundle.index * TILE_WIDTH
        tile = TileId(0, bundle.index, bundle.width)
        tile_hashes = _fetch_tile(fetch, tile, problems)
        if tile_hashes is not None:
            tiles_checked += 1
        data = _fetch(fetch, tile_path(bundle), problems)
        entries: list[bytes] | None = None
        if data is not None:
            try:
                entries = decode_entry_bundle(data, bundle.width)
            except MalformedError as exc:
                problems.append(f"{tile_path(bundle)}: {exc}")
        for i in range(bundle.width):
            index = start + i
            if entries is not None:
                entry = entries[i]
                leaf = merkle.leaf_hash(entry)
                leaves[index] = leaf
                entries_checked += 1
                if check_entry is not None:
                    verdict = check_entry(index, entry)
                    if verdict is not None:
                        problems.append(f"entry {index}: {verdict}")
                if tile_hashes is not None and tile_hashes[i] != leaf:
                    problems.append(f"entry {index}: leaf hash does not match {tile_path(tile)}")
            elif tile_hashes is not None:
                leaves[index] = tile_hashes[i]  # fall back to the served hash (already reported)
        if progress is not None:
            progress(start + bundle.width, size)

    missing = sum(1 for leaf in leaves if leaf is None)
    if missing:
        problems.append(f"log: {missing} leaves unavailable; cannot recompute tiles or root")
    else:
        known: list[bytes] = [leaf for leaf in leaves if leaf is not None]
        # 4. Higher-level tiles, recomputed level by level from the leaves.
        levels: dict[int, list[bytes]] = {0: known}
        for tile in tiles_for_size(size):
            if tile.level == 0:
                continue
            if tile.level not in levels:
                below = levels[tile.level - 1]
                levels[tile.level] = [
                    merkle.root(below[j : j + TILE_WIDTH])
                    for j in range(0, len(below) - TILE_WIDTH + 1, TILE_WIDTH)
                ]
            level_hashes = levels[tile.level]
            served = _fetch_tile(fetch, tile, problems)
            if served is None:
                continue
            tiles_checked += 1
            start = tile.index * TILE_WIDTH
            for i, got in enumerate(served):
                if got != level_hashes[start + i]:
                    node = (TILE_HEIGHT * tile.level, start + i)
                    problems.append(
                        f"{tile_path(tile)}: hash {i} does not match recomputed node {node}"
                    )
        # 5. The root, and the previous root as a prefix.
        computed = merkle.root(known)
        if computed != cp.root:
            problems.append(
                f"checkpoint: root does not match the root recomputed from {size} leaves"
            )
        if check_prefix and previous is not None:
            old = merkle.root(known[: previous.size])
            if old != previous.root:
                problems.append(
                    f"fork: previous root at size {previous.size} does not match the root of "
                    f"the first {previous.size} leaves"
                )

    ok = not problems
    return AuditReport(
        ok=ok,
        checkpoint=cp,
        problems=problems,
        entries_checked=entries_checked,
        tiles_checked=tiles_checked,
        state=AuditState.from_checkpoint(cp) if ok else None,
    )


def _fetch_tile(
    fetch: Callable[[str], bytes], tile: TileId, problems: list[str]
) -> list[bytes] | None:
    path = tile_path(tile)
    data = _fetch(fetch, path, problems)
    if data is None:
        return None
    try:
        return decode_hash_tile(data, tile.width)
    except MalformedError as exc:
        problems.append(f"{path}: {exc}")
        return None
