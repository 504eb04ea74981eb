"""products

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("price_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("price_amount >= 0", name="products_price_check"),
    )
    # Keyset pagination orders by (sort column, id).
    op.create_index("products_name_id", "products", ["name", "id"])
    op.create_index("products_price_id", "products", ["price_amount", "id"])
    op.create_index("products_created_id", "products", ["created_at", "id"])
    op.create_index("products_category", "products", ["category"])


def downgrade() -> None:
    op.drop_table("products")
