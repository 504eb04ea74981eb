"""The human summary and the JSON report of a differential run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.differential.compare import Verdict
from bench.differential.harness import OperationResult, ScenarioResult


def totals(results: Sequence[ScenarioResult]) -> dict[str, int]:
    """Run-wide counts."""
    return {
        "scenarios": len(results),
        "scenarios_failed": sum(r.error is not None for r in results),
        "operations": sum(len(r.operations) for r in results),
        "discarded_invalid": sum(r.stats.invalid for r in results),
        "discarded_duplicates": sum(r.stats.duplicates for r in results),
        "agreements": sum(r.count(Verdict.AGREE) for r in results),
        "disagreements": sum(r.count(Verdict.DISAGREE) for r in results),
        "reference_bugs": sum(r.count(Verdict.REFERENCE_BUG) for r in results),
        "reference_splits": sum(r.count(Verdict.SPLIT) for r in results),
        **{
            f"splits_ours_like_{side}": sum(
                o.verdict is Verdict.SPLIT and o.side == side
                for r in results for o in r.operations
            )
            for side in ("apollo", "hive", "neither", "mixed")
        },
        "reference_unavailable": sum(r.count(Verdict.UNAVAILABLE) for r in results),
        "gateway_crashes": sum(len(c) for r in results for c in r.crashes.values()),
    }


def progress_line(result: ScenarioResult) -> str:
    """One line per scenario as it finishes."""
    if result.error is not None:
        return f"  {result.name}: FAILED TO RUN: {result.error.splitlines()[0]}"
    flag = "  <-- disagreements" if result.count(Verdict.DISAGREE) else ""
    unavailable = result.count(Verdict.UNAVAILABLE)
    crashes = ", ".join(f"{name} crashed {len(tails)}x" for name, tails in result.crashes.items())
    return (
        f"  {result.name}: {len(result.operations)} ops, {result.count(Verdict.AGREE)} agree,"
        f" {result.count(Verdict.DISAGREE)} disagree, {result.count(Verdict.SPLIT)} split"
        + (f", {bugs} reference bugs" if (bugs := result.count(Verdict.REFERENCE_BUG)) else "")
        + (f", {unavailable} unjudged ({crashes or 'no answer'})" if unavailable else "")
        + f" ({result.seconds:.1f}s){flag}"
    )


def summary(results: Sequence[ScenarioResult], seed: int, count: int, seconds: float) -> str:
    """The human summary: totals, then the scenarios with disagreements or splits."""
    total = totals(results)
    lines = [
        f"differential run: seed {seed}, {count} operations per scenario, {seconds:.0f}s",
        f"  scenarios         {total['scenarios']}"
        + (f" ({total['scenarios_failed']} failed to run)" if total["scenarios_failed"] else ""),
        f"  operations        {total['operations']}"
        f" (+{total['discarded_invalid']} drafts discarded as invalid)",
        f"  agreements        {total['agreements']}",
        f"  disagreements     {total['disagreements']}  (references agree, ours differs)",
        f"  reference bugs    {total['reference_bugs']}  (both references wrong alike, checked"
        " by hand: bench/differential/reference_bugs.yaml)",
        f"  reference splits  {total['reference_splits']}  (Apollo and Hive differ; informational)",
        f"    ours answers like Apollo {total['splits_ours_like_apollo']},"
        f" like Hive {total['splits_ours_like_hive']},"
        f" like neither {total['splits_ours_like_neither']}"
        + (f", mixed {total['splits_ours_like_mixed']}" if total["splits_ours_like_mixed"] else ""),
    ]
    if total["reference_unavailable"]:
        lines.append(
            f"  unjudged          {total['reference_unavailable']}  (a reference gave no answer;"
            f" {total['gateway_crashes']} gateway crashes, restarted)"
        )
    noted = [
        r for r in results
        if r.error or r.count(Verdict.DISAGREE) or r.count(Verdict.SPLIT)
        or r.count(Verdict.UNAVAILABLE) or r.count(Verdict.REFERENCE_BUG)
    ]
    if noted:
        width = max(len(r.name) for r in noted)
        lines.append("")
        lines.append(
            f"  {'scenario':<{width}}  disagree  split (ours like neither)  unjudged"
            "  sources where ours differs"
        )
        for r in noted:
            if r.error:
                lines.append(f"  {r.name:<{width}}  failed to run: {r.error.splitlines()[0]}")
                continue
            sources = sorted({s for o in r.operations for s in o.differing})
            lines.append(
                f"  {r.name:<{width}}  {r.count(Verdict.DISAGREE):>8}  {r.count(Verdict.SPLIT):>5}"
                f" {f'({_unlike_both(r)})':>19}  {r.count(Verdict.UNAVAILABLE):>8}"
                f"  {', '.join(sources)}"
            )
    return "\n".join(lines)


def _unlike_both(result: ScenarioResult) -> int:
    return sum(
        o.verdict is Verdict.SPLIT and o.side not in ("apollo", "hive") for o in result.operations
    )


def _operation_entry(scenario: str, result: OperationResult) -> dict[str, Any]:
    responses = result.responses
    entry: dict[str, Any] = {
        "scenario": scenario,
        "id": result.id,
        "query": result.operation.query,
        "variables": result.operation.variables,
    }
    if result.verdict in (Verdict.DISAGREE, Verdict.REFERENCE_BUG):
        entry["ours_differs_on"] = result.differing
    if result.sides:
        entry["ours_like"] = {f"{source}-supergraph": side for source, side in result.sides.items()}
    entry.update({
        "apollo": responses["apollo"],
        "hive": responses["hive"],
        "ours": {
            "apollo-supergraph": responses["ours@apollo"],
            "shopgraph-supergraph": responses["ours@shopgraph"],
        },
    })
    return entry


def write_json(
    path: Path,
    results: Sequence[ScenarioResult],
    *,
    seed: int,
    count: int,
    seconds: float,
    versions: dict[str, str],
) -> None:
    """The JSON report: totals, per-scenario counts, every disagreement and split in full."""
    report = {
        "seed": seed,
        "count": count,
        "wall_seconds": round(seconds, 1),
        "versions": versions,
        "totals": totals(results),
        "scenarios": {
            r.name: {
                "operations": len(r.operations),
                "discarded_invalid": r.stats.invalid,
                "discarded_duplicates": r.stats.duplicates,
                "agreements": r.count(Verdict.AGREE),
                "disagreements": r.count(Verdict.DISAGREE),
                "reference_bugs": r.count(Verdict.REFERENCE_BUG),
                "reference_splits": r.count(Verdict.SPLIT),
                "splits_ours_like_neither": _unlike_both(r),
                "reference_unavailable": r.count(Verdict.UNAVAILABLE),
                "gateway_crashes": r.crashes,
                "seconds": round(r.seconds, 1),
                "error": r.error,
            }
            for r in results
        },
        **{
            key: [
                _operation_entry(r.name, o)
                for r in results for o in r.operations if o.verdict is kind
            ]
            for key, kind in (
                ("disagreements", Verdict.DISAGREE),
                ("reference_bugs", Verdict.REFERENCE_BUG),
                ("reference_splits", Verdict.SPLIT),
                ("reference_unavailable", Verdict.UNAVAILABLE),
            )
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
