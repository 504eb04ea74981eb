"""What accounts' resolvers and consumers need besides the database: keys, hasher, throttle,
trusted hops, and where to send mail."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher

from subgraphs.common.auth import TokenCodec
from subgraphs.common.mail import MailSettings

from .client_address import TrustedProxies
from .throttle import LoginThrottle


@dataclass(frozen=True)
class AccountsServices:
    codec: TokenCodec
    hasher: PasswordHasher
    # Verified when the email is unknown, so that sign-in costs one argon2
    # verification with the same parameters whether or not the account exists.
    dummy_hash: str
    throttle: LoginThrottle
    proxies: TrustedProxies
    mail: MailSettings = field(default_factory=MailSettings.from_env)
