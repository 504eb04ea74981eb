"""carts, orders, payments

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    # Long on purpose: a migration is a frozen record of the schema at one revision, read
    # table by table; splitting it would only scatter that record.
    op.create_table(
        "carts",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        _timestamp("updated_at"),
    )
    op.create_table(
        "cart_lines",
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey("carts.user_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _timestamp("added_at"),
        sa.CheckConstraint("quantity > 0", name="cart_lines_quantity_positive"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("subtotal", sa.Numeric(12, 2), nullable=False),
        sa.Column("total", sa.Numeric(12, 2), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _timestamp("paid_at", nullable=True),
        _timestamp("fulfilled_at", nullable=True),
        _timestamp("cancelled_at", nullable=True),
        sa.Column("cancel_reason", sa.String(20), nullable=True),
        sa.UniqueConstraint("user_id", "idempotency_key", name="orders_user_idempotency_key"),
        sa.CheckConstraint(
            "status IN ('PENDING_PAYMENT', 'PAID', 'FULFILLED', 'CANCELLED')", name="orders_status"
        ),
    )
    op.create_index("orders_user_created", "orders", ["user_id", "created_at", "id"])
    op.create_index("orders_created", "orders", ["created_at", "id"])
    op.create_index(
        "orders_pending_expiry",
        "orders",
        ["expires_at"],
        postgresql_where=sa.text("status = 'PENDING_PAYMENT'"),
    )
    op.create_table(
        "order_lines",
        sa.Column(
            "order_id", sa.Uuid(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("line_number", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.CheckConstraint("quantity > 0", name="order_lines_quantity_positive"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "order_id", sa.Uuid(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provider_reference", sa.String(200), nullable=True),
        _timestamp("created_at"),
        sa.UniqueConstraint("order_id", "idempotency_key", name="payments_order_idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("cart_lines")
    op.drop_table("carts")
