"""Health answers in one format for the router and the subgraphs.

`{"status": "pass" | "fail", "service": name, "checks": {name: {"status": …, "output": why}}}`,
after the IETF "Health Check Response Format for HTTP APIs" draft: 200 when every check
passes, 503 otherwise, so an orchestrator can read the status code alone. Every member is
always there (`checks` may be empty), so one client reads every service's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

MEDIA_TYPE = "application/health+json"
PASS = "pass"
FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One component's state; `output` says why it fails."""

    passed: bool
    output: str | None = None

    def as_json(self) -> dict[str, str]:
        """The check as the body lists it."""
        body = {"status": PASS if self.passed else FAIL}
        if self.output:
            body["output"] = self.output
        return body


def health_answer(service: str, checks: Mapping[str, Check] | None = None) -> tuple[int, bytes]:
    """The HTTP status and body of `service` for these checks (none: the process is alive)."""
    checks = checks or {}
    passed = all(check.passed for check in checks.values())
    body: dict[str, Any] = {
        "status": PASS if passed else FAIL,
        "service": service,
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    return (200 if passed else 503), orjson.dumps(body)
