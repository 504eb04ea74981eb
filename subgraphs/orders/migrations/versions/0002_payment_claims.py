"""orders.payment_claim*: a payment in flight, claimed without holding a row lock

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("payment_claim", sa.Uuid(), nullable=True))
    op.add_column("orders", sa.Column("payment_claim_key", sa.String(200), nullable=True))
    op.add_column(
        "orders", sa.Column("payment_claimed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        "orders_payment_claim_complete",
        "orders",
        "(payment_claim IS NULL AND payment_claim_key IS NULL AND payment_claimed_at IS NULL)"
        " OR (payment_claim IS NOT NULL AND payment_claim_key IS NOT NULL"
        " AND payment_claimed_at IS NOT NULL AND status = 'PENDING_PAYMENT')",
    )
    op.create_index(
        "orders_payment_claimed",
        "orders",
        ["payment_claimed_at"],
        postgresql_where=sa.text("payment_claim IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("orders_payment_claimed", table_name="orders")
    op.drop_constraint("orders_payment_claim_complete", "orders", type_="check")
    op.drop_column("orders", "payment_claimed_at")
    op.drop_column("orders", "payment_claim_key")
    op.drop_column("orders", "payment_claim")
