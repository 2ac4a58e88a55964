"""The log's storage: integrating batches of admitted entries and reading tiles, entries and
proofs back.

Integration is one database transaction that holds the log's write lock (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so several processes may append to one database
and still get one sequence: each batch reads the tree size, assigns the next indexes, stores the
entries and every newly completed subtree hash, signs the checkpoint of the new size and commits
it all together. A checkpoint is therefore visible only once everything it covers is durable,
and no size is ever signed twice.

Every complete subtree hash is stored, so an inclusion or consistency proof is one indexed
read of O(log n) rows, and a tlog-tiles tile is one range read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from ledger import merkle
from ledger.entries import ActorInfo, Admitted
from ledger.errors import ConflictError, LedgerError, MalformedError, NotFoundError
from ledger.formats.entry import format_time
from ledger.store.database import WRITE, is_sqlite
from ledger.store.models import ActorKeyRow, CheckpointRow, EntryRow, LogState, TreeNode

__all__ = ["CheckpointSigner", "Integrated", "LogStore", "StoredCheckpoint"]

#: Signs the checkpoint of a tree: (size, root) -> the signed note text.
CheckpointSigner = Callable[[int, bytes], str]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

_INSERT_ENTRIES = {
    True: "INSERT INTO entries (idx, leaf_hash, type, actor, data) VALUES (?, ?, ?, ?, ?)",
    False: "INSERT INTO entries (idx, leaf_hash, type, actor, data) VALUES (%s, %s, %s, %s, %s)",
}
_INSERT_NODES = {
    True: "INSERT INTO tree_nodes (level, idx, hash) VALUES (?, ?, ?)",
    False: "INSERT INTO tree_nodes (level, idx, hash) VALUES (%s, %s, %s)",
}
_CHECKPOINT = select(
    CheckpointRow.size, CheckpointRow.root, CheckpointRow.note, CheckpointRow.created_at
)


@dataclass(frozen=True)
class Integrated:
    """Where an entry landed; ``checkpoint_size`` is a signed checkpoint that covers it."""

    index: int
    leaf_hash: bytes
    checkpoint_size: int
    duplicate: bool = False


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    created_at: str


class LogStore:
    """Reads and writes the log tables. Thread-safe; share one per process."""

    def __init__(self, engine: Engine, sign_checkpoint: CheckpointSigner) -> None:
        self._engine = engine
        self._sign = sign_checkpoint
        self._edge_lock = threading.Lock()
        self._edge: merkle.CompactRange | None = None
        self._checkpoints: dict[int, StoredCheckpoint] = {}
        self._checkpoints_lock = threading.Lock()
        self._pending_checkpoint: StoredCheckpoint | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    # --- writing ------------------------------------------------------------------------------

    def integrate(self, batch: Sequence[Admitted]) -> list[Integrated | LedgerError]:
        """Sequence ``batch`` in order; returns one outcome per entry, in the same order.

        An entry already in the log (same leaf hash) gets its existing index back, so a client
        may safely retry. An entry that contradicts the log's state (e.g. a key added twice)
        gets a :class:`ConflictError` and is left out; the rest of the batch goes on. When this
        returns, every :class:`Integrated` outcome is durable and covered by a signed checkpoint.
        """
        with self._edge_lock, self._engine.connect() as conn:
            conn.execution_options(**WRITE)
            self._pending_checkpoint = None
            with conn.begin():
                outcomes, edge = self._integrate_locked(conn, batch)
            self._edge = edge
            if self._pending_checkpoint is not None:  # committed: serve it from memory
                self._remember(self._pending_checkpoint)
        return outcomes

    def _integrate_locked(
        self, conn: Connection, batch: Sequence[Admitted]
    ) -> tuple[list[Integrated | LedgerError], merkle.CompactRange]:
        state = select(LogState.size).where(LogState.id == 1)
        if not is_sqlite(conn):
            state = state.with_for_update()
        size = conn.execute(state).scalar_one()
        edge = self._load_edge(conn, size)

        leaf_hashes = [merkle.leaf_hash(item.data) for item in batch]
        existing = (
            dict(
                conn.execute(
                    select(EntryRow.leaf_hash, EntryRow.idx).where(
                        EntryRow.leaf_hash.in_(set(leaf_hashes))
                    )
                ).all()
            )
            if leaf_hashes
            else {}
        )
        new_keys = self._new_keys(conn, batch)

        outcomes: list[Integrated | LedgerError | None] = []
        entry_rows: list[tuple[int, bytes, str, str, bytes]] = []
        node_rows: list[tuple[int, int, bytes]] = []
        key_rows: list[dict[str, object]] = []
        placed: dict[bytes, int] = {}
        for item, leaf in zip(batch, leaf_hashes, strict=True):
            if leaf in existing:
                outcomes.append(Integrated(existing[leaf], leaf, 0, duplicate=True))
                continue
            if leaf in placed:
                outcomes.append(Integrated(placed[leaf], leaf, 0, duplicate=True))
                continue
            grant = item.body.admitted_actor()
            if grant is not None:
                problem = new_keys.get(grant.key_id)
                if problem is not None:
                    outcomes.append(ConflictError(problem))
                    continue
                new_keys[grant.key_id] = f"actor key {grant.key_id} is already in the log"
                key_rows.append(
                    {
                        "key_id": grant.key_id,
                        "public_key": grant.public_key,
                        "name": grant.name,
                        "types": json.dumps(list(grant.types)),
                        "added_at": edge.size,
                    }
                )
            index = edge.size
            placed[leaf] = index
            entry_rows.append((index, leaf, item.entry.type, item.entry.actor, item.data))
            node_rows.extend((level, idx, node) for (level, idx), node in edge.append(leaf))
            outcomes.append(Integrated(index, leaf, 0))

        new_size = edge.size
        if entry_rows:
            # Driver-level executemany: SQLAlchemy's per-row work was most of integration time.
            qmark = conn.dialect.paramstyle == "qmark"
            conn.exec_driver_sql(_INSERT_ENTRIES[qmark], entry_rows)
            conn.exec_driver_sql(_INSERT_NODES[qmark], node_rows)
            if key_rows:
                conn.execute(insert(ActorKeyRow), key_rows)
            root = edge.root()
            signed = StoredCheckpoint(
                new_size, root, self._sign(new_size, root), format_time(datetime.now(UTC))
            )
            conn.execute(
                insert(CheckpointRow).values(
                    size=signed.size,
                    root=signed.root,
                    note=signed.note,
                    created_at=signed.created_at,
                )
            )
            self._pending_checkpoint = signed
            conn.execute(update(LogState).where(LogState.id == 1).values(size=new_size))
        final: list[Integrated | LedgerError] = []
        for outcome in outcomes:
            if isinstance(outcome, Integrated):
                covering = new_size if not outcome.duplicate else max(new_size, size)
                outcome = Integrated(outcome.index, outcome.leaf_hash, covering, outcome.duplicate)
            assert outcome is not None
            final.append(outcome)
        return final, edge

    def _load_edge(self, conn: Connection, size: int) -> merkle.CompactRange:
        cached = self._edge
        if cached is not None and cached.size == size:
            return merkle.CompactRange(size, cached.hashes())
        ids = merkle.range_nodes(0, size)
        found = self._read_nodes(conn, ids)
        missing = [node for node in ids if node not in found]
        if missing:
            raise LedgerError(f"log storage is inconsistent: missing tree nodes {missing[:4]}")
        return merkle.CompactRange(size, [found[node] for node in ids])

    def _new_keys(self, conn: Connection, batch: Sequence[Admitted]) -> dict[str, str]:
        grants = (item.body.admitted_actor() for item in batch)
        wanted = {grant.key_id for grant in grants if grant is not None}
        if not wanted:
            return {}
        rows = conn.execute(select(ActorKeyRow.key_id).where(ActorKeyRow.key_id.in_(wanted)))
        return {key_id: f"actor key {key_id} is already in the log" for (key_id,) in rows}

    # --- reading ------------------------------------------------------------------------------

    def size(self) -> int:
        """The integrated tree size (every entry below it is durable and checkpointed)."""
        with self._engine.connect() as conn:
            return conn.execute(select(LogState.size).where(LogState.id == 1)).scalar_one()

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._engine.connect() as conn:
            row = conn.execute(_CHECKPOINT.order_by(CheckpointRow.size.desc()).limit(1)).first()
        return None if row is None else StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3])

    def checkpoint(self, size: int) -> StoredCheckpoint:
        """The checkpoint signed at ``size`` (immutable, so recent ones are kept in memory)."""
        cached = self._checkpoints.get(size)
        if cached is not None:
            return cached
        with self._engine.connect() as conn:
            row = conn.execute(_CHECKPOINT.where(CheckpointRow.size == size)).first()
        if row is None:
            raise NotFoundError(f"no checkpoint for tree size {size}")
        found = StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3])
        self._remember(found)
        return found

    def _remember(self, checkpoint: StoredCheckpoint) -> None:
        with self._checkpoints_lock:
            self._checkpoints[checkpoint.size] = checkpoint
            while len(self._checkpoints) > 64:
                self._checkpoints.pop(next(iter(self._checkpoints)))

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``start`` ≤ index < ``end``, all of which must be integrated."""
        self._check_range(start, end, self.size())
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(EntryRow.data)
                .where(EntryRow.idx >= start, EntryRow.idx < end)
                .order_by(EntryRow.idx)
            ).all()
        return [bytes(data) for (data,) in rows]

    def index_of(self, leaf_hash: bytes) -> int:
        with self._engine.connect() as conn:
            index = conn.execute(
                select(EntryRow.idx).where(EntryRow.leaf_hash == leaf_hash)
            ).scalar_one_or_none()
        if index is None:
            raise NotFoundError("no entry with that leaf hash")
        return index

    def leaf_hash(self, index: int) -> bytes:
        nodes = self.nodes([(0, index)])
        if (0, index) not in nodes:
            raise NotFoundError(f"no entry at index {index}")
        return nodes[(0, index)]

    def nodes(self, ids: Sequence[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        with self._engine.connect() as conn:
            return self._read_nodes(conn, ids)

    @staticmethod
    def _read_nodes(conn: Connection, ids: Sequence[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        """The stored hashes of ``ids`` (missing ones are simply absent from the answer).

        One statement of ``(level = ? AND idx IN (?, …)) OR …``, which SQLite and PostgreSQL
        both answer from the primary key (a row-value IN list makes SQLite scan the table).
        It is written as driver SQL: proofs are the hot read path, and their shapes vary too
        much for SQLAlchemy's statement cache.
        """
        if not ids:
            return {}
        by_level: dict[int, set[int]] = {}
        for level, idx in ids:
            by_level.setdefault(level, set()).add(idx)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        clauses, params = [], []
        for level, idxs in sorted(by_level.items()):
            clauses.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(idxs))}))")
            params.append(level)
            params.extend(sorted(idxs))
        # only placeholders are interpolated; every value is a bound parameter
        sql = "SELECT level, idx, hash FROM tree_nodes WHERE " + " OR ".join(clauses)  # noqa: S608
        rows = conn.exec_driver_sql(sql, tuple(params))
        return {(level, idx): bytes(node) for level, idx, node in rows}

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size``."""
        if not 0 <= index < tree_size:
            raise MalformedError(f"index {index} is outside a tree of size {tree_size}")
        return self._prove(merkle.inclusion_proof_plan(index, tree_size), tree_size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """The RFC 9162 consistency proof between two tree sizes of this log."""
        if not 0 < old_size <= new_size:
            raise MalformedError(
                f"consistency needs 0 < first ≤ second, got first={old_size} second={new_size}"
            )
        return self._prove(merkle.consistency_proof_plan(old_size, new_size), new_size)

    def _prove(self, plan: Sequence[Sequence[merkle.NodeId]], tree_size: int) -> list[bytes]:
        wanted = [node for element in plan for node in element]
        found = self.nodes(wanted)
        if len(found) != len(set(wanted)):
            self._check_size(tree_size)  # the usual reason: a size the log has not reached
            raise LedgerError("log storage is inconsistent: a proof node is missing")
        return [merkle.fold_range([found[node] for node in element]) for element in plan]

    def hash_tile(self, level: int, index: int, width: int) -> bytes:
        """tlog-tiles hash tile: nodes at tree level 8·level, ``index``·256 … +width−1."""
        first = index * TILE_WIDTH
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(TreeNode.hash)
                .where(
                    TreeNode.level == level * TILE_HEIGHT,
                    TreeNode.idx >= first,
                    TreeNode.idx < first + width,
                )
                .order_by(TreeNode.idx)
            ).all()
        if len(rows) != width:
            raise NotFoundError(f"tile {level}/{index} of width {width} does not exist yet")
        return b"".join(bytes(node) for (node,) in rows)

    def entry_bundle(self, index: int, width: int) -> list[bytes]:
        """The entries of tlog-tiles entry bundle ``index`` (``width`` of them)."""
        first = index * TILE_WIDTH
        if first + width > self.size():
            raise NotFoundError(f"entry bundle {index} of width {width} does not exist yet")
        return self.entries(first, first + width)

    def actor(self, key_id: str) -> ActorInfo | None:
        """The actor key with this id, if a ``trust.key_added`` entry admitted it."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(
                    ActorKeyRow.key_id, ActorKeyRow.public_key, ActorKeyRow.types, ActorKeyRow.name
                ).where(ActorKeyRow.key_id == key_id)
            ).first()
        if row is None:
            return None
        return ActorInfo.from_types_json(row[0], bytes(row[1]), row[2], row[3])

    def count_by_type(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(EntryRow.type, func.count()).group_by(EntryRow.type))
            return {kind: count for kind, count in rows}

    # --- checks -------------------------------------------------------------------------------

    def _check_size(self, tree_size: int) -> None:
        current = self.size()
        if tree_size > current:
            raise NotFoundError(f"tree size {tree_size} is beyond the log's size {current}")

    @staticmethod
    def _check_range(start: int, end: int, size: int) -> None:
        if not 0 <= start < end:
            raise MalformedError(f"bad range: need 0 ≤ start < end, got start={start} end={end}")
        if end > size:
            raise NotFoundError(f"range end {end} is beyond the log's size {size}")
