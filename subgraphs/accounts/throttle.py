"""Sign-in throttling per account and per client address, kept in PostgreSQL.

Each `login` first takes a slot: in one transaction, holding an advisory lock
per account and per address, it counts that account's and that address's
attempts of the last `window_seconds` and, below both limits, records one
attempt for each. Only then is the password verified. So concurrent attempts
count as they arrive (the 41st of 40 parallel guesses is refused without an
argon2 verification), and every process and worker of accounts sees the same
counts. A successful sign-in deletes the account's attempts and its own
address attempt; failures stay until they leave the window (a periodic job
deletes old rows).

Over a limit, `login` fails with TOO_MANY_REQUESTS and `extensions.retryAfter`
(seconds until the oldest counted attempt leaves the window). Refused attempts
are not counted, so a throttled account frees up on its own. Unknown emails are
throttled exactly like known ones, so throttling tells nothing about which
accounts exist.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, text

from subgraphs.common.database import Database
from subgraphs.common.errors import ApiError

from .models import LoginFailureRow

ACCOUNT = "account"
ADDRESS = "address"

_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
# Seconds until the `limit`-th most recent attempt in the window leaves it; no row
# means fewer than `limit` attempts, so there is room.
_WAIT = text(
    """
    SELECT EXTRACT(EPOCH FROM created_at + make_interval(secs => :window) - now())
    FROM login_failures
    WHERE scope = :scope AND subject = :subject
      AND created_at > now() - make_interval(secs => :window)
    ORDER BY created_at DESC
    OFFSET :skip LIMIT 1
    """
)
_PRUNE = text("DELETE FROM login_failures WHERE created_at <= now() - make_interval(secs => :w)")


class TooManyRequests(ApiError):
    """Sign-in refused for now; `retryAfter` in the error's extensions says for how long."""

    code = "TOO_MANY_REQUESTS"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-in attempts; try again in {retry_after} seconds")
        self.retry_after = retry_after
        self.extensions["retryAfter"] = retry_after


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
    return value


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 10  # failed sign-ins to one email within the window
    per_address: int = 100  # failed sign-ins from one client address, any emails
    window_seconds: int = 900

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LoginLimits:
        """The limits from SHOPGRAPH_LOGIN_MAX_FAILURES_PER_ACCOUNT, ..._PER_ADDRESS and
        SHOPGRAPH_LOGIN_WINDOW_SECONDS (ValueError for one that is not a positive integer)."""
        source = os.environ if env is None else env
        return cls(
            per_account=_positive(source, "SHOPGRAPH_LOGIN_MAX_FAILURES_PER_ACCOUNT", 10),
            per_address=_positive(source, "SHOPGRAPH_LOGIN_MAX_FAILURES_PER_ADDRESS", 100),
            window_seconds=_positive(source, "SHOPGRAPH_LOGIN_WINDOW_SECONDS", 900),
        )


@dataclass(frozen=True)
class Attempt:
    """A slot taken by one sign-in, released by `LoginThrottle.succeeded`."""

    account: str
    address_row: int


def account_subject(email: str) -> str:
    """What an account's attempts are filed under: the normalised email's SHA-256.

    A digest keeps the table free of the (possibly made-up, possibly huge) emails
    that attackers try.
    """
    return hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()


class LoginThrottle:
    def __init__(self, db: Database, limits: LoginLimits) -> None:
        self.db = db
        self.limits = limits

    async def begin(self, email: str, address: str) -> Attempt:
        """Take a sign-in slot for `email` from `address`, or raise TooManyRequests."""
        account = account_subject(email)
        keys = (
            (ACCOUNT, account, self.limits.per_account),
            (ADDRESS, address, self.limits.per_address),
        )
        async with self.db.session() as session, session.begin():
            # Always the account's lock first, then the address's: no two attempts
            # can each hold the lock the other waits for.
            for scope, subject, _ in keys:
                await session.execute(_LOCK, {"key": f"login:{scope}:{subject}"})
            waits = [
                await session.scalar(
                    _WAIT,
                    {
                        "scope": scope,
                        "subject": subject,
                        "window": float(self.limits.window_seconds),
                        "skip": limit - 1,
                    },
                )
                for scope, subject, limit in keys
            ]
            counted = [float(wait) for wait in waits if wait is not None]
            if counted:
                raise TooManyRequests(max(1, math.ceil(max(counted))))
            rows = [
                LoginFailureRow(scope=ACCOUNT, subject=account),
                LoginFailureRow(scope=ADDRESS, subject=address),
            ]
            session.add_all(rows)
            await session.flush()
            return Attempt(account, rows[1].id)

    async def succeeded(self, attempt: Attempt) -> None:
        """Forget the account's failures and this attempt's own address slot."""
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(LoginFailureRow).where(
                    or_(
                        and_(
                            LoginFailureRow.scope == ACCOUNT,
                            LoginFailureRow.subject == attempt.account,
                        ),
                        LoginFailureRow.id == attempt.address_row,
                    )
                )
            )

    async def prune(self) -> None:
        """Delete attempts that have left the window."""
        async with self.db.session() as session, session.begin():
            await session.execute(_PRUNE, {"w": float(self.limits.window_seconds)})
