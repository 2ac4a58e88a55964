"""Identity and credentials: issuer keys, the subjects vault, documents and credentials,
status lists, access events, seen presentations; tokens bound to a consulate or a subject.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("issuer_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.String(26), nullable=True))
    op.create_table(
        "issuer_keys",
        sa.Column("issuer_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(3), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ciphersuite", sa.String(32), nullable=False),
        sa.Column("list_key", sa.LargeBinary(32), nullable=False),
        sa.Column("bbs_public_key", sa.LargeBinary(96), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", name="pk_issuer_keys"),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("issuer_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("registered_at", sa.String(20), nullable=False),
        sa.Column("erased_at", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subjects"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("subject_id", sa.String(26), nullable=False),
        sa.Column("issuer_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
    )
    op.create_index("ix_documents_subject_id", "documents", ["subject_id"])
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("document_id", sa.String(26), nullable=False),
        sa.Column("status_list_id", sa.String(64), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.UniqueConstraint("status_list_id", "status_index", name="uq_credentials_status_list_id"),
    )
    op.create_index("ix_credentials_document_id", "credentials", ["document_id"])
    op.create_table(
        "status_lists",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("issuer_id", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revocation", sa.LargeBinary(), nullable=False),
        sa.Column("suspension", sa.LargeBinary(), nullable=False),
        sa.Column("revocation_doc", sa.LargeBinary(), nullable=False),
        sa.Column("suspension_doc", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_lists"),
    )
    op.create_table(
        "access_events",
        sa.Column("nonce", sa.String(16), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("subject_id", sa.String(26), nullable=False),
        sa.Column("accessor", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("at", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_access_events"),
    )
    op.create_index("ix_access_events_subject_id", "access_events", ["subject_id"])
    op.create_table(
        "seen_presentations",
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("seen_at", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_seen_presentations"),
    )


def downgrade() -> None:
    for table in (
        "seen_presentations",
        "access_events",
        "status_lists",
        "credentials",
        "documents",
        "subjects",
        "issuer_keys",
    ):
        op.drop_table(table)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("subject_id")
        batch.drop_column("issuer_id")
