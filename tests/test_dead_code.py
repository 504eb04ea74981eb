"""No dead code: vulture over the router, the shop and the bench finds nothing unused.

The tests count as users: the router's public API for embedders and operators
(`Router.plan_text`, the plan-cache counters, `PlanningQueue.waiting` …) is exercised
there rather than by the product itself. Names only frameworks use by name are listed,
each with who uses it, in tests/dead_code_allowlist.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import REPO

vulture = pytest.importorskip("vulture", reason="the dev extra installs vulture")

CHECKED = ("router", "subgraphs", "bench")
# Decorated functions the frameworks register and call: Strawberry resolvers, Quart routes.
FRAMEWORK_DECORATORS = ["@strawberry.*", "@*.route", "@*.get", "@*.post", "@*.errorhandler",
                        "@*.before_serving", "@*.after_serving", "@*.while_serving",
                        "@pytest.fixture"]
# Alembic reads revision/down_revision and calls upgrade/downgrade by name.
EXCLUDED = ["*/node_modules/*", "*/migrations/versions/*"]


def test_vulture_finds_no_dead_code():
    finder = vulture.Vulture(ignore_decorators=FRAMEWORK_DECORATORS)
    finder.scavenge(
        [str(REPO / name) for name in (*CHECKED, "tests")]
        + [str(Path(__file__).with_name("dead_code_allowlist.py"))],
        exclude=EXCLUDED,
    )
    assert finder.exit_code != vulture.core.ExitCode.InvalidInput, "a file vulture cannot read"
    unused = [
        f"{Path(item.filename).relative_to(REPO)}:{item.first_lineno}: {item.message}"
        for item in finder.get_unused_code(min_confidence=60)
        if Path(item.filename).relative_to(REPO).parts[0] in CHECKED
    ]
    assert unused == []
