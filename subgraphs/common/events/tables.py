"""The three tables every database that uses events holds, and the migration helpers.

- event_outbox: events written in the same transaction as the change, until published
  (and for a retention period after, for inspection);
- event_handled: (consumer, event id) pairs already handled: what makes handlers idempotent;
- event_dead_letters: messages a consumer gave up on, with the error.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

TYPE_LENGTH = 100  # event_outbox.type and event_dead_letters.type


def _now(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _outbox_columns() -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("type", sa.String(TYPE_LENGTH), nullable=False),
        sa.Column("body", JSONB(), nullable=False),
        _now("created_at"),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _handled_columns() -> list[Any]:
    return [
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        _now("handled_at"),
    ]


def _dead_letter_columns() -> list[Any]:
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        # Null when the body could not be decoded at all.
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("consumer", sa.String(200), nullable=False),
        sa.Column("type", sa.String(TYPE_LENGTH), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _now("created_at"),
    ]


outbox = sa.Table("event_outbox", metadata, *_outbox_columns())
handled = sa.Table("event_handled", metadata, *_handled_columns())
dead_letters = sa.Table("event_dead_letters", metadata, *_dead_letter_columns())

# The relay reads only unpublished rows, in order; retention deletes old published ones.
_PENDING_INDEX = ("event_outbox_pending", ["created_at"], "published_at IS NULL")
_PUBLISHED_INDEX = ("event_outbox_published", ["published_at"], "published_at IS NOT NULL")


def create_event_tables(op: Any) -> None:
    """Create the event tables (call from a subgraph's Alembic `upgrade()` with its `op`)."""
    op.create_table("event_outbox", *_outbox_columns())
    for name, columns, where in (_PENDING_INDEX, _PUBLISHED_INDEX):
        op.create_index(name, "event_outbox", columns, postgresql_where=sa.text(where))
    op.create_table("event_handled", *_handled_columns())
    op.create_table("event_dead_letters", *_dead_letter_columns())
    # One dead letter per (consumer, event) even if a crash makes us dead-letter it twice.
    op.create_index(
        "event_dead_letters_once",
        "event_dead_letters",
        ["consumer", "event_id"],
        unique=True,
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )


def drop_event_tables(op: Any) -> None:
    """Drop the event tables (call from a subgraph's Alembic `downgrade()`)."""
    for table in ("event_dead_letters", "event_handled", "event_outbox"):
        op.drop_table(table)
