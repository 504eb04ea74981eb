"""event_outbox, event_handled, event_dead_letters: orders' events (subgraphs.common.events)

Revision ID: 0004
"""

from alembic import op

from subgraphs.common.events.tables import create_event_tables, drop_event_tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables(op)


def downgrade() -> None:
    drop_event_tables(op)
