"""accounts: users, registration, login."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum

import strawberry
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from subgraphs.common.auth import ADMIN, CUSTOMER, TokenCodec
from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema, in_chunks
from subgraphs.common.errors import NotFound
from subgraphs.common.ids import parse_uuid
from subgraphs.common.types import UserError, UserErrorCode, user_error

from .addresses import plain_address
from .models import UserRow
from .passwords import MAX_LOGIN_LENGTH, password_problem
from .services import AccountsServices


@strawberry.enum
class Role(Enum):
    CUSTOMER = CUSTOMER
    ADMIN = ADMIN


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    email: str
    name: str
    role: Role
    created_at: datetime

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            name=row.name,
            role=Role(row.role),
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> User | None:
        info.context.auth.require_self_or_admin(str(id))
        return await load_user(info.context, str(id))


async def load_user(context: Context, user_id: str) -> User | None:
    async def load(ids: Sequence[str]) -> list[User | None]:
        wanted = list(dict.fromkeys(u for u in (parse_uuid(i) for i in ids) if u is not None))
        rows: list[UserRow] = []
        async with context.db.session() as session:
            for part in in_chunks(wanted):
                rows += (await session.scalars(select(UserRow).where(UserRow.id.in_(part)))).all()
        by_id = {str(row.id): User.from_row(row) for row in rows}
        return [by_id.get(str(parse_uuid(i))) if parse_uuid(i) else None for i in ids]

    return await context.loader("users", load).load(user_id)


def _services(info: strawberry.Info[Context, None]) -> AccountsServices:
    services: AccountsServices = info.context.services
    return services


def _codec(info: strawberry.Info[Context, None]) -> TokenCodec:
    return _services(info).codec


async def _authenticate(
    context: Context, services: AccountsServices, email: str, password: str
) -> UserRow | None:
    """The user with this email and password, or None.

    Exactly one argon2 verification either way (against a dummy hash when the
    email is unknown), so the answer's timing does not tell which accounts exist.
    """
    if len(password) > MAX_LOGIN_LENGTH:
        return None  # matches no account; refused before any hashing, known email or not
    async with context.db.session() as session:
        row = await session.scalar(select(UserRow).where(UserRow.email == email))
    stored = row.password_hash if row is not None else services.dummy_hash
    try:
        await asyncio.to_thread(services.hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return row


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class AuthPayload:
    token: str | None = None
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in user; null for a guest (no token). An invalid or expired "
        "token is an UNAUTHENTICATED error, not a guest."
    )
    async def me(self, info: strawberry.Info[Context, None]) -> User | None:
        # A storefront asks for `me` on every page: a guest is no one, not an error.
        viewer = info.context.auth.optional_viewer()
        if viewer is None:
            return None
        return await load_user(info.context, viewer.user_id)

    @strawberry.field(description="A user by id: admins, or the user themself.")
    async def user(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> User | None:
        info.context.auth.require_self_or_admin(str(id))
        found = await load_user(info.context, str(id))
        if found is None:
            raise NotFound(f"No user with id {id}")
        return found


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register(
        self, info: strawberry.Info[Context, None], input: RegisterInput
    ) -> AuthPayload:
        email = input.email.strip().lower()
        errors = []
        if plain_address(email) is None:
            message = "Not a valid email address (one plain address, like name@example.com)"
            errors.append(user_error(UserErrorCode.INVALID_INPUT, message, "input", "email"))
        problem = password_problem(input.password)
        if problem is not None:
            errors.append(user_error(UserErrorCode.WEAK_PASSWORD, problem, "input", "password"))
        name = input.name.strip()
        if not name or len(name) > 200:
            errors.append(
                user_error(
                    UserErrorCode.INVALID_INPUT, "Name must be 1-200 characters", "input", "name"
                )
            )
        if errors:
            return AuthPayload(user_errors=errors)
        password_hash = await asyncio.to_thread(_services(info).hasher.hash, input.password)
        row = UserRow(
            id=uuid.uuid4(), email=email, name=name, role=CUSTOMER, password_hash=password_hash
        )
        try:
            async with info.context.db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return AuthPayload(
                user_errors=[
                    user_error(
                        UserErrorCode.EMAIL_TAKEN,
                        "An account with this email exists",
                        "input",
                        "email",
                    )
                ]
            )
        return AuthPayload(token=_codec(info).issue(str(row.id), row.role), user=User.from_row(row))

    @strawberry.mutation
    async def login(self, info: strawberry.Info[Context, None], input: LoginInput) -> AuthPayload:
        services = _services(info)
        email = input.email.strip().lower()
        address = services.proxies.client(info.context.peer, info.context.forwarded_for)
        # The slot is taken before the password is checked, so parallel guesses count.
        attempt = await services.throttle.begin(email, address)
        row = await _authenticate(info.context, services, email, input.password)
        if row is None:
            return AuthPayload(
                user_errors=[
                    user_error(UserErrorCode.INVALID_CREDENTIALS, "Wrong email or password")
                ]
            )
        await services.throttle.succeeded(attempt)
        return AuthPayload(token=_codec(info).issue(str(row.id), row.role), user=User.from_row(row))


schema = EntitySchema(query=Query, mutation=Mutation, federation_version="2.7")
