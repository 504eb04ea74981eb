"""`@policy`: which policies a request is granted, as decided by a hook the operator
configures (`authorization.policy_hook: "module:function"`).

The hook is called once per request whose operation names policies, with those policy
names and the request's verified JWT claims (None without a token); it returns the
policies it grants (any iterable of names), directly or as an awaitable. Whatever it
grants beyond the names asked is ignored; a hook that raises grants nothing (and is
logged): authorization fails closed. Without a hook no policy is granted.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from router.authorization.access import Access
from router.config import AuthorizationConfig, ConfigError

log = logging.getLogger("shopgraph.router.authorization")

PolicyHook = Callable[
    [frozenset[str], Mapping[str, Any] | None], Iterable[str] | Awaitable[Iterable[str]]
]


def load_policy_hook(spec: str) -> PolicyHook:
    """The function `module:function` names; ConfigError when there is none."""
    module_name, _, attribute = spec.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"authorization.policy_hook: cannot load {spec}: {error}") from None
    if not callable(found):
        raise ConfigError(f"authorization.policy_hook: {spec} is not callable")
    hook: PolicyHook = found
    return hook


class Authorizer:
    """Turns a request's verified claims into its `Access` (scopes, granted policies)."""

    def __init__(self, config: AuthorizationConfig) -> None:
        """The policy hook is loaded here: ConfigError if it cannot be."""
        self.hook = load_policy_hook(config.policy_hook) if config.policy_hook else None

    async def access(
        self, claims: Mapping[str, Any] | None, policies: frozenset[str]
    ) -> Access:
        """The access of a request with `claims`, asked about the policies `policies`."""
        granted: frozenset[str] = frozenset()
        if policies and self.hook is not None:
            granted = await self._granted(policies, claims)
        return Access.of(claims, granted)

    async def _granted(
        self, policies: frozenset[str], claims: Mapping[str, Any] | None
    ) -> frozenset[str]:
        assert self.hook is not None
        try:
            answer = self.hook(policies, claims)
            if inspect.isawaitable(answer):
                answer = await answer
            return policies & frozenset(n for n in answer if isinstance(n, str))
        except Exception:  # the operator's code: a failure denies, never crashes a request
            log.exception("the authorization policy hook failed; no policy granted")
            return frozenset()
