"""Conformance suite plumbing: import path, and the per-semantic summary at the end."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

# scenario modules and record.py import `tests.conformance.*`; make that name
# resolvable however pytest was started, so the kit is imported exactly once
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

_semantic_of: dict[str, str] = {}
_outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec else None
        semantic = getattr(case, "semantic", None)
        if isinstance(semantic, str):
            _semantic_of[item.nodeid] = semantic


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    semantic = _semantic_of.get(report.nodeid)
    if semantic is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes[semantic][report.outcome] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _outcomes:
        return
    passed = {s: o.get("passed", 0) for s, o in _outcomes.items()}
    ran = {s: sum(o.values()) for s, o in _outcomes.items()}
    width = max(len(s) for s in ran)
    terminalreporter.section("conformance cases per semantic")
    terminalreporter.write_line(f"  {'semantic':<{width}}  passed / ran")
    for semantic in sorted(ran):
        line = f"  {semantic:<{width}}  {passed[semantic]:>6} / {ran[semantic]}"
        terminalreporter.write_line(line)
    total_passed, total_ran = sum(passed.values()), sum(ran.values())
    terminalreporter.write_line(f"  {'total':<{width}}  {total_passed:>6} / {total_ran}")
