"""`shopgraph schema`: regenerate schema/<subgraph>.graphql from the subgraphs' code."""

from __future__ import annotations

import argparse

HELP = "write each subgraph's served SDL to schema/<name>.graphql (--check: only compare)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a snapshot differs, without writing"
    )


def run(args: argparse.Namespace) -> int:
    from subgraphs import sdl

    if args.check:
        stale = sdl.stale_snapshots()
        for name in stale:
            print(f"schema/{name}.graphql is out of date; run `{sdl.REGENERATE}`")
        return 1 if stale else 0
    changed = sdl.write_snapshots()
    for name in sdl.SCHEMAS:
        print(f"schema/{name}.graphql {'updated' if name in changed else 'unchanged'}")
    return 0
