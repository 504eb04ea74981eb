"""promotions

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KINDS = ("PERCENTAGE_OFF_CATEGORY", "FIXED_AMOUNT_OVER_THRESHOLD", "BUY_N_GET_M_FREE")


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    op.create_table(
        "promotions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parameters", JSONB(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(f"kind IN ({kinds})", name="promotions_kind"),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="promotions_schedule"),
    )
    # quoteDiscounts reads the promotions not disabled on every cart view.
    op.create_index(
        "promotions_enabled_start",
        "promotions",
        ["starts_at"],
        postgresql_where=sa.text("disabled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("promotions")
