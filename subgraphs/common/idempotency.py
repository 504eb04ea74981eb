"""The one rule for the idempotency keys clients send with mutations that must not repeat."""

from __future__ import annotations

from .types import UserError, UserErrorCode, user_error

# Keys are stored (and indexed) with what they protect; 200 characters hold a UUID
# or any label a client sensibly picks.
MAX_KEY_LENGTH = 200


def clean_idempotency_key(value: str) -> tuple[str, UserError | None]:
    """`value` without surrounding blanks, and the userError if it is empty or too long."""
    key = value.strip()
    if key and len(key) <= MAX_KEY_LENGTH:
        return key, None
    return key, user_error(
        UserErrorCode.INVALID_INPUT,
        f"idempotencyKey must be 1-{MAX_KEY_LENGTH} characters",
        "input",
        "idempotencyKey",
    )
