"""The accounts subgraph as a Quart app."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from quart import Quart

from subgraphs.common.app import PeriodicJob, SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.events import EventsSpec
from subgraphs.common.mail import MailSettings
from subgraphs.common.migrations import migrations_of

from .client_address import TrustedProxies
from .mailer import CONSUMERS
from .passwords import new_hasher
from .schema import schema
from .services import AccountsServices
from .throttle import LoginLimits, LoginThrottle

NAME = "accounts"
MIGRATIONS = migrations_of(__package__)
PRUNE_INTERVAL = 60.0


def create_app(
    database_url: str,
    codec: TokenCodec | None = None,
    *,
    hasher: PasswordHasher | None = None,
    login_limits: LoginLimits | None = None,
    trusted_proxies: TrustedProxies | None = None,
    mail: MailSettings | None = None,
) -> Quart:
    """The accounts app; limits, trusted hops and mail default to the environment's settings.

    It runs the mailer's consumers (order confirmations, stock-low alerts).
    """
    codec = codec or TokenCodec.from_env()
    hasher = hasher or new_hasher()
    db = Database(database_url)
    throttle = LoginThrottle(db, login_limits or LoginLimits.from_env())
    services = AccountsServices(
        codec=codec,
        hasher=hasher,
        dummy_hash=hasher.hash(secrets.token_urlsafe(32)),
        throttle=throttle,
        proxies=trusted_proxies or TrustedProxies.from_env(),
        mail=mail or MailSettings.from_env(),
    )
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec,
        services=services,
        jobs=[PeriodicJob("prune-login-failures", PRUNE_INTERVAL, throttle.prune)],
        events=EventsSpec(consumers=CONSUMERS),
    )
    return create_subgraph_app(spec, db)
