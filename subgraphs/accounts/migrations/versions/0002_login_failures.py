"""login_failures: sign-in attempts counted per account and per client address

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("scope IN ('account', 'address')", name="login_failures_scope_check"),
    )
    op.create_index(
        "login_failures_subject_time", "login_failures", ["scope", "subject", "created_at"]
    )
    # The periodic prune deletes by age alone.
    op.create_index("login_failures_time", "login_failures", ["created_at"])


def downgrade() -> None:
    op.drop_table("login_failures")
