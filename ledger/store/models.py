"""Table definitions. The schema itself is created and changed only by the Alembic migrations
in ``migrations/``; these models must match them (a test compares the two).

Columns hold no personal data: the log holds signed entries that carry pseudonyms and
commitments only, and API tokens are stored as SHA-256 hashes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, MetaData, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ActorKeyRow", "ApiToken", "Base", "CheckpointRow", "EntryRow", "LogState", "TreeNode"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LogState(Base):
    """One row (id = 1): the integrated tree size. Writers lock it to serialise integration."""

    __tablename__ = "log_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)


class EntryRow(Base):
    """An integrated entry: its index, the canonical bytes (the Merkle leaf) and their leaf hash."""

    __tablename__ = "entries"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class TreeNode(Base):
    """Every complete subtree hash: (level, idx) covers leaves [idx·2^level, (idx+1)·2^level)."""

    __tablename__ = "tree_nodes"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class CheckpointRow(Base):
    """Every checkpoint the log signed, one per tree size, as the exact signed-note text."""

    __tablename__ = "checkpoints"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[str] = mapped_column(String(20), nullable=False)


class ActorKeyRow(Base):
    """Actor keys admitted by ``trust.key_added`` entries: who may write which entry types."""

    __tablename__ = "actor_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    types: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of type patterns
    added_at: Mapped[int] = mapped_column(BigInteger, nullable=False)  # log index of the entry


class ApiToken(Base):
    """A bearer token, stored only as SHA-256 of the token (tokens are 256-bit random)."""

    __tablename__ = "api_tokens"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[str] = mapped_column(String(20), nullable=False)
    revoked_at: Mapped[str | None] = mapped_column(String(20), nullable=True)
