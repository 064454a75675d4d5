"""Mark trackers public or private: private while their incident is under embargo.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `tracker.public`; trackers filed before it existed were public."""
    op.add_column("tracker", sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    """Drop `tracker.public`."""
    with op.batch_alter_table("tracker") as batch:
        batch.drop_column("public")
