"""Positive-number settings from the environment, all read by one rule with one message.

The subgraphs' bounds (body bytes, representations, resolutions, seconds) are
each a positive number from a SHOPGRAPH_* variable, the default when it is
unset or blank. A bad value stops the process at start with LimitsSettingError
naming the variable, the allowed range and the value, rather than running with
a bound nobody chose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

N = TypeVar("N", int, float)


class LimitsSettingError(ValueError):
    """A SHOPGRAPH_SUBGRAPH_* limit setting names an unknown limit or holds a bad value."""


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """`env[name]` as an integer >= 1 (`default` if unset or blank)."""
    return _positive(env, name, int, default, "a positive integer")


def positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    """`env[name]` as a finite number > 0 (`default` if unset or blank)."""
    return _positive(env, name, float, default, "a positive number")


def _positive(
    env: Mapping[str, str], name: str, parse: Callable[[str], N], default: N, what: str
) -> N:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = parse(text)
    except ValueError:
        raise LimitsSettingError(f"{name} must be {what}, got {text!r}") from None
    # float() takes "inf" and "nan": neither bounds anything
    if not (value > 0 and math.isfinite(value)):
        raise LimitsSettingError(f"{name} must be {what}, got {text!r}")
    return value
