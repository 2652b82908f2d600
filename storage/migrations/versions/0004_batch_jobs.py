"""Batches as durable jobs: batch_jobs, batch_chunks, batch_blobs; on PostgreSQL also the
schema of procrastinate, the engine that hands chunks to workers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
STATUSES = "status IN ('queued', 'running', 'done', 'failed', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("text_column", sa.String(255), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_rows", sa.Integer, nullable=False),
        sa.Column("rows_done", sa.Integer, nullable=False),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("chunks_done", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=True),
        sa.Column("count_negative", sa.Integer, nullable=False),
        sa.Column("count_neutral", sa.Integer, nullable=False),
        sa.Column("count_positive", sa.Integer, nullable=False),
        sa.Column("truncated", sa.Integer, nullable=False),
        sa.Column("score_sum", sa.Float, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp),
        sa.Column("finished_at", Timestamp),
        sa.Column("files_expire_at", Timestamp, nullable=False),
        sa.Column("files_removed", sa.Boolean, nullable=False),
        sa.CheckConstraint(STATUSES, name=op.f("ck_batch_jobs_status")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_batch_jobs_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_batch_jobs_batch_id_batches"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_jobs")),
    )
    op.create_index("ix_batch_jobs_user_id_created_at", "batch_jobs", ["user_id", "created_at"])
    op.create_index("ix_batch_jobs_status", "batch_jobs", ["status"])
    op.create_table(
        "batch_chunks",
        sa.Column("job_id", sa.String(24), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["batch_jobs.id"],
            name=op.f("fk_batch_chunks_job_id_batch_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "number", name=op.f("pk_batch_chunks")),
    )
    op.create_table(
        "batch_blobs",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("job_id", sa.String(24), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["batch_jobs.id"],
            name=op.f("fk_batch_blobs_job_id_batch_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_batch_blobs")),
    )
    op.create_index("ix_batch_blobs_job_id", "batch_blobs", ["job_id"])
    if op.get_bind().dialect.name == "postgresql":
        from storage.procrastinate_schema import apply_schema

        apply_schema(op.get_bind())


def downgrade() -> None:
    op.drop_table("batch_blobs")
    op.drop_table("batch_chunks")
    op.drop_table("batch_jobs")
