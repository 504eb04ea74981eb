"""What accounts' resolvers need besides the database: keys, hasher, throttle, trusted hops."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

from subgraphs.common.auth import TokenCodec

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
