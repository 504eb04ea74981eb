"""Ids from clients: every id in the shop is a UUID, and a malformed one names nothing."""

from __future__ import annotations

import uuid


def parse_uuid(value: str) -> uuid.UUID | None:
    """The UUID `value` spells, or None: lookups by an id that is not one find nothing."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
