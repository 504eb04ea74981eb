"""stock items, reservations, adjustments

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "stock_items",
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False, server_default="0"),
        _timestamp("updated_at"),
        sa.CheckConstraint("reserved >= 0", name="stock_reserved_nonnegative"),
        sa.CheckConstraint("on_hand >= reserved", name="stock_available_nonnegative"),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'COMMITTED', 'RELEASED', 'EXPIRED')", name="reservations_status"
        ),
    )
    # The expiry sweep only ever looks at active reservations.
    op.create_index(
        "reservations_active_expiry",
        "reservations",
        ["expires_at"],
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_table(
        "reservation_lines",
        sa.Column(
            "reservation_id",
            sa.Uuid(),
            sa.ForeignKey("reservations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="reservation_lines_quantity_positive"),
    )
    op.create_table(
        "stock_adjustments",
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        _timestamp("created_at"),
    )


def downgrade() -> None:
    op.drop_table("stock_adjustments")
    op.drop_table("reservation_lines")
    op.drop_table("reservations")
    op.drop_table("stock_items")
