"""The events tables plus `effects`, the side effect the test handlers write

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from subgraphs.common.events.tables import create_event_tables, drop_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables(op)
    # No unique key on purpose: a doubled effect must be visible as two rows.
    op.create_table(
        "effects",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("consumer", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("effects")
    drop_event_tables(op)
