"""The (user, label, created_at, id) index also holds the score, so Insights' counts per
label, day and score bin read the index alone (100,000 rows on SQLite: 595 -> 155 ms).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD = ("ix_predictions_user_id_label_created_at_id", ["user_id", "label", "created_at", "id"])
NEW = ("ix_predictions_user_label_created_id_score", [*OLD[1], "score"])


def upgrade() -> None:
    op.create_index(NEW[0], "predictions", NEW[1])
    op.drop_index(OLD[0], table_name="predictions")


def downgrade() -> None:
    op.create_index(OLD[0], "predictions", OLD[1])
    op.drop_index(NEW[0], table_name="predictions")
