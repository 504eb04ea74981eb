"""orders.discount_total and order_promotions: an order's discounts, frozen at checkout;
orders.checkout_fingerprint, payments.token_hash, orders.payment_claim_token_hash: what an
idempotency key was first used for

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Orders placed before promotions existed had no discount: 0, and total = subtotal.
    op.add_column(
        "orders",
        sa.Column("discount_total", sa.Numeric(12, 2), nullable=False, server_default="0"),
    )
    op.create_check_constraint(
        "orders_total_after_discounts",
        "orders",
        "discount_total >= 0 AND total = GREATEST(subtotal - discount_total, 0)",
    )
    op.add_column("orders", sa.Column("checkout_fingerprint", sa.String(64), nullable=True))
    op.create_table(
        "order_promotions",
        sa.Column(
            "order_id", sa.Uuid(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    )
    op.add_column("payments", sa.Column("token_hash", sa.String(64), nullable=True))
    op.add_column("orders", sa.Column("payment_claim_token_hash", sa.String(64), nullable=True))
    op.create_index("payments_idempotency_key", "payments", ["idempotency_key"])


def downgrade() -> None:
    op.drop_index("payments_idempotency_key", table_name="payments")
    op.drop_column("orders", "payment_claim_token_hash")
    op.drop_column("payments", "token_hash")
    op.drop_table("order_promotions")
    op.drop_column("orders", "checkout_fingerprint")
    op.drop_constraint("orders_total_after_discounts", "orders", type_="check")
    op.drop_column("orders", "discount_total")
