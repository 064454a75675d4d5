"""Create the inventory, tracker and report tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables and indexes that the models had when irp first used alembic."""
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_product_name", "product", ["name"], unique=True)

    op.create_table(
        "stream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("compliance_priority", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.UniqueConstraint("product_id", "name"),
    )
    op.create_index("ix_stream_product_id", "stream", ["product_id"])

    op.create_table(
        "component",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("purl", sa.String(), nullable=True),
        sa.Column("cpe", sa.String(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["stream_id"], ["stream.id"]),
    )
    op.create_index("ix_component_name", "component", ["name"])
    op.create_index("ix_component_purl", "component", ["purl"])
    op.create_index("ix_component_stream_id", "component", ["stream_id"])

    op.create_table(
        "tracker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("product", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("fixed_in", sa.String(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "product", "stream"),
    )
    op.create_index("ix_tracker_incident_id", "tracker", ["incident_id"])

    op.create_table(
        "report",
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("file", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_report_incident_id", "report", ["incident_id"])


def downgrade() -> None:
    """Drop every table of the initial schema."""
    op.drop_table("report")
    op.drop_table("tracker")
    op.drop_table("component")
    op.drop_table("stream")
    op.drop_table("product")
