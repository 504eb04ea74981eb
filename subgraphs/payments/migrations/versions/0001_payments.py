"""payments, the fake gateway's charges and the event tables

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from subgraphs.common.events.tables import create_event_tables, drop_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = ("PENDING", "AUTHORIZED", "CAPTURED", "DECLINED", "REFUNDED", "FAILED")


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _payments() -> None:
    statuses = ", ".join(f"'{status}'" for status in STATUSES)
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("gateway", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(f"status IN ({statuses})", name="payments_status"),
        sa.CheckConstraint("amount > 0", name="payments_amount"),
    )
    op.create_index("ix_payments_order_id", "payments", ["order_id"])
    # The sweep looks for attempts left in flight.
    op.create_index(
        "payments_in_flight",
        "payments",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('PENDING', 'AUTHORIZED')"),
    )


def _fake_gateway_charges() -> None:
    op.create_table(
        "fake_gateway_charges",
        sa.Column("reference", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(12, 2), nullable=False, server_default="0"),
        _timestamp("created_at"),
    )


def upgrade() -> None:
    _payments()
    _fake_gateway_charges()
    create_event_tables(op)


def downgrade() -> None:
    drop_event_tables(op)
    op.drop_table("fake_gateway_charges")
    op.drop_table("payments")
