"""event tables: the outbox, the handled-event log and the dead letters (issue 13)

Revision ID: 0003
"""

from alembic import op

from subgraphs.common.events.tables import create_event_tables, drop_event_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables(op)


def downgrade() -> None:
    drop_event_tables(op)
