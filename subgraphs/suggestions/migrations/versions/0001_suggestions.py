"""suggestions: baskets, their counts, and the event tables

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from subgraphs.common.events.tables import create_event_tables, drop_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _baskets() -> None:
    op.create_table(
        "baskets",
        sa.Column("order_id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("placed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("bought", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "counted",
            sa.Boolean(),
            sa.Computed("placed AND bought AND NOT cancelled", persisted=True),
            nullable=False,
        ),
        _timestamp("updated_at"),
    )
    # recommendedProducts reads a user's counted baskets
    op.create_index(
        "baskets_counted_user", "baskets", ["user_id"], postgresql_where=sa.text("counted")
    )
    op.create_table(
        "basket_lines",
        sa.Column(
            "order_id",
            sa.Uuid(),
            sa.ForeignKey("baskets.order_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="basket_lines_quantity"),
    )


def _counts() -> None:
    op.create_table(
        "co_purchases",
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("other_id", sa.Uuid(), primary_key=True),
        sa.Column("baskets", sa.Integer(), nullable=False),
    )
    # a product's suggestions: its pairs, most baskets first, ties by id
    op.create_index(
        "co_purchases_ranked",
        "co_purchases",
        ["product_id", sa.text("baskets DESC"), "other_id"],
    )
    op.create_table(
        "product_sales",
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("baskets", sa.Integer(), nullable=False),
    )
    op.create_table(
        "counts_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
        sa.CheckConstraint("id = 1", name="counts_state_single_row"),
    )
    op.execute("INSERT INTO counts_state (id, version) VALUES (1, 0)")


def upgrade() -> None:
    _baskets()
    _counts()
    create_event_tables(op)


def downgrade() -> None:
    drop_event_tables(op)
    for table in ("counts_state", "product_sales", "co_purchases", "basket_lines", "baskets"):
        op.drop_table(table)
