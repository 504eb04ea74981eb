"""`shopgraph schema`: regenerate schema/<subgraph>.graphql from the subgraphs' code."""

from __future__ import annotations

import argparse
from pathlib import Path

from subgraphs.commands import missing_extra

HELP = "write each subgraph's served SDL to schema/<name>.graphql (--check: only compare)"


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare `--check` and `--schema-dir`."""
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a snapshot differs, without writing"
    )
    parser.add_argument("--schema-dir", type=Path, default=Path("schema"),
                        help="folder of the <subgraph>.graphql snapshots (default: ./schema)")


def run(args: argparse.Namespace) -> int:
    """Compare or rewrite the snapshots; 1 when `--check` finds a stale one."""
    refused = missing_extra("schema", "shop")
    if refused is not None:
        return refused
    from subgraphs import sdl

    folder: Path = args.schema_dir
    if args.check:
        stale = sdl.stale_snapshots(folder)
        for name in stale:
            print(f"{sdl.snapshot_path(name, folder)} is out of date; run `{sdl.REGENERATE}`")
        return 1 if stale else 0
    changed = sdl.write_snapshots(folder)
    for name in sdl.SCHEMAS:
        state = "updated" if name in changed else "unchanged"
        print(f"{sdl.snapshot_path(name, folder)} {state}")
    return 0
