"""python -m bench.differential: see the package docstring (bench/differential/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.differential import gateways, harness, report, slices
from bench.differential.compare import Verdict
from tests.conformance.scenarios import load_scenarios

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REPORT = ROOT / "bench" / "results" / "differential.json"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.differential",
        description="Differential test of shopgraph's router against Apollo Gateway and"
        " Hive Gateway on generated operations over every conformance scenario.",
    )
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME",
                        help="run only this scenario (repeatable; default: all)")
    parser.add_argument("--scenarios-dir", type=Path, default=None, metavar="DIR",
                        help="scenario folders to run (default tests/conformance/scenarios)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--count", type=int, default=None,
                        help="operations per scenario (default 50; with --record-slice"
                        f" {slices.SLICE_COUNT})")
    parser.add_argument("--random", action="store_true",
                        help="draw a random seed (printed, so the run can be repeated)")
    parser.add_argument("--report", type=Path, default=None,
                        help=f"JSON report path (default {DEFAULT_REPORT.relative_to(ROOT)};"
                        " with --record-slice none unless given)")
    parser.add_argument("--keep-going", action="store_true",
                        help="go on when a scenario cannot run (a gateway fails to start, ...)")
    parser.add_argument("--record-slice", action="store_true",
                        help="write the fixed-seed slice replayed by"
                        " tests/conformance/test_differential_slice.py")
    parser.add_argument("--update-known-failures", action="store_true",
                        help="replay the recorded slice through our router (no gateways) and"
                        " rewrite its known_failures.txt")
    args = parser.parse_args(argv)
    if args.random:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    if args.count is None:
        args.count = slices.SLICE_COUNT if args.record_slice else 50
    if args.report is None and not args.record_slice:
        args.report = DEFAULT_REPORT
    return args


def update_known_failures() -> int:
    """Rewrite the slice's known failures from what our router answers now."""
    operations = slices.load()
    before = set(slices.known_failures())
    now = asyncio.run(slices.replay_failures(operations))
    slices.write_known_failures(now)
    for line in sorted(before - set(now)):
        print(f"  fixed: {line}")
    for line in sorted(set(now) - before):
        print(f"  new failure: {line}")
    print(f"{len(operations)} recorded operations, {len(now)} known failures"
          f" -> {slices.KNOWN_FAILURES}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.update_known_failures:
        return update_known_failures()
    scenarios = (
        load_scenarios(args.scenario, root=args.scenarios_dir)
        if args.scenarios_dir else load_scenarios(args.scenario)
    )
    print(f"seed {args.seed} (repeat with --seed {args.seed}), {args.count} operations"
          f" per scenario, {len(scenarios)} scenarios", flush=True)

    def progress(result: harness.ScenarioResult) -> None:
        print(report.progress_line(result), flush=True)

    started = time.monotonic()
    results = asyncio.run(
        harness.run(scenarios, args.seed, args.count, args.keep_going, progress)
    )
    seconds = time.monotonic() - started
    print()
    print(report.summary(results, args.seed, args.count, seconds))
    if args.report is not None:
        report.write_json(args.report, results, seed=args.seed, count=args.count,
                          seconds=seconds, versions=gateways.gateway_versions())
        print(f"\nreport: {args.report}")
    if args.record_slice:
        written = slices.record(results, seed=args.seed, versions=gateways.gateway_versions())
        print(f"slice: {written}")
    failed = any(r.error is not None for r in results) or len(results) < len(scenarios)
    disagreed = any(r.count(Verdict.DISAGREE) for r in results)
    if args.record_slice:
        return 1 if failed else 0  # disagreements become known failures of the slice
    return 1 if failed or disagreed else 0


if __name__ == "__main__":
    sys.exit(main())
