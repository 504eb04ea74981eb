"""Moments a client sends (DateTime inputs, cursors' timestamps) checked before SQL.

A `timestamptz` value goes to PostgreSQL through asyncpg, in UTC. Two kinds of
moment Python holds do not survive that trip:

- one whose UTC time falls outside Python's years 1-9999
  (`9999-12-31T23:59:59-14:00` is already year 10000 in UTC): asyncpg's
  `astimezone` raises OverflowError, a 500 for a client's input;
- Python's very first and very last moments in UTC (0001-01-01T00:00:00Z and
  9999-12-31T23:59:59.999999Z): asyncpg writes them as PostgreSQL's -infinity
  and infinity, and reads those back as naive datetimes that no aware one can be
  compared with, so the stored row would fail every later read.

Checked here, each is the client's error naming its field.
"""

from __future__ import annotations

from datetime import UTC, datetime

OFFSET_MISSING = "must carry its UTC offset, e.g. 2026-12-01T00:00:00Z"
OUT_OF_RANGE = "must fall after 0001-01-01T00:00:00Z and before 9999-12-31T23:59:59.999999Z"
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


def moment_problem(value: datetime) -> str | None:
    """Why `value` cannot be stored as a timestamptz (a phrase to follow the field's
    name), or None if it can: it carries its offset and falls strictly between
    Python's first and last moments in UTC."""
    if value.utcoffset() is None:
        return OFFSET_MISSING
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        return OUT_OF_RANGE
    if not _FIRST < in_utc < _LAST:
        return OUT_OF_RANGE
    return None
