"""The operation limits every subgraph enforces: the router's, measured the router's way.

The subgraphs' ports can be reached without the router (compose.yaml used to
publish them), so each one bounds a document before validating it, with
`router.measure` and a `router.config.LimitsConfig`. The defaults are the
router's, except for the three figures the router's own planner grows when it
writes a fetch: fragments are inlined (more tokens and fields than the client
sent) and fields it renames get aliases of its own. Those are twice the
router's, so the router's traffic is never refused while a direct caller is
still held to a few hundred aliases.

SHOPGRAPH_SUBGRAPH_LIMITS overrides them, as comma-separated `name=value`
pairs of LimitsConfig fields, e.g. `max_aliases=256,max_depth=48` (raise them
with the router's, if the router's are raised).
"""

from __future__ import annotations

import dataclasses
import os

from router.config import LimitsConfig

from .settings import LimitsSettingError

ENV = "SHOPGRAPH_SUBGRAPH_LIMITS"
_TUNABLE = frozenset(
    {
        "max_depth",
        "max_aliases",
        "max_root_fields",
        "max_tokens",
        "max_nesting",
        "max_fields",
        "max_fragments",
    }
)


def default_limits() -> LimitsConfig:
    """The router's default limits, doubled where its planner can grow a fetch."""
    router = LimitsConfig()
    return dataclasses.replace(
        router,
        max_aliases=router.max_aliases * 2,
        max_tokens=router.max_tokens * 2,
        max_fields=router.max_fields * 2,
    )


def parse_limits(setting: str, base: LimitsConfig) -> LimitsConfig:
    """`base` with the `name=value` pairs of `setting` applied; LimitsSettingError if bad."""
    changes: dict[str, int] = {}
    for pair in filter(None, (part.strip() for part in setting.split(","))):
        name, _, value = pair.partition("=")
        name = name.strip()
        if name not in _TUNABLE:
            known = ", ".join(sorted(_TUNABLE))
            raise LimitsSettingError(f"{ENV}: unknown limit {name!r} (known: {known})")
        try:
            changes[name] = int(value)
        except ValueError:
            raise LimitsSettingError(f"{ENV}: {name} must be an integer, got {value!r}") from None
    limits = dataclasses.replace(base, **changes)
    problems = limits.problems()
    if problems:
        raise LimitsSettingError(
            f"{ENV}: " + "; ".join(f"{name} {message}" for name, message in problems)
        )
    return limits


def subgraph_limits() -> LimitsConfig:
    """The limits for this process: the defaults, with SHOPGRAPH_SUBGRAPH_LIMITS applied."""
    return parse_limits(os.environ.get(ENV, ""), default_limits())
