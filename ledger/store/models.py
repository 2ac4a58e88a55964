"""Table definitions. The schema itself is created and changed only by the Alembic migrations
in ``migrations/``; these models must match them (a test compares the two).

Columns hold no personal data: the log holds signed entries that carry pseudonyms and
commitments only, and API tokens are stored as SHA-256 hashes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccessEventRow",
    "ActorKeyRow",
    "ApiToken",
    "Base",
    "CheckpointRow",
    "CredentialRow",
    "DocumentRow",
    "EntryRow",
    "IssuerKeyRow",
    "LogState",
    "SeenPresentationRow",
    "StatusListRow",
    "SubjectRow",
    "TreeNode",
]

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
    issuer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # officer's consulate
    subject_id: Mapped[str | None] = mapped_column(String(26), nullable=True)  # a subject's own


class IssuerKeyRow(Base):
    """A consulate's issuer keys (BBS + Ed25519), sealed; only public parts in the clear."""

    __tablename__ = "issuer_keys"
    issuer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(3), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    ciphersuite: Mapped[str] = mapped_column(String(32), nullable=False)
    list_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    bbs_public_key: Mapped[bytes] = mapped_column(LargeBinary(96), nullable=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[str] = mapped_column(String(20), nullable=False)


class SubjectRow(Base):
    """A registered national: the personal record encrypted under its own data key, which is
    wrapped by the vault key. Erasure deletes the wrapped key and the ciphertext."""

    __tablename__ = "subjects"
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(32), nullable=False)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    registered_at: Mapped[str] = mapped_column(String(20), nullable=False)
    erased_at: Mapped[str | None] = mapped_column(String(20), nullable=True)


class DocumentRow(Base):
    """One consular ID document: a batch of credentials that share their attributes."""

    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(26), nullable=False, index=True)
    issuer_id: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    issued_at: Mapped[str] = mapped_column(String(20), nullable=False)


class CredentialRow(Base):
    """One credential of a batch and its place in a status list."""

    __tablename__ = "credentials"
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(26), nullable=False, index=True)
    status_list_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status_index: Mapped[int] = mapped_column(Integer, nullable=False)
    __table_args__ = (UniqueConstraint("status_list_id", "status_index"),)


class StatusListRow(Base):
    """An issuer's status list: revocation and suspension bits, and their signed documents."""

    __tablename__ = "status_lists"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(32), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    used: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    revocation: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    suspension: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    revocation_doc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    suspension_doc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AccessEventRow(Base):
    """The subject's own access history: one row per ``record.accessed`` entry (same nonce),
    written before the entry is logged, so no logged read is ever missing from it."""

    __tablename__ = "access_events"
    nonce: Mapped[str] = mapped_column(String(16), primary_key=True)
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    subject_id: Mapped[str] = mapped_column(String(26), nullable=False, index=True)
    accessor: Mapped[str] = mapped_column(String(16), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[str] = mapped_column(String(20), nullable=False)


class SeenPresentationRow(Base):
    """Digests of presentations accepted by the online verifier, to refuse replays."""

    __tablename__ = "seen_presentations"
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    seen_at: Mapped[str] = mapped_column(String(20), nullable=False)
