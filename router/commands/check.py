"""`shopgraph check`: classify schema changes against the committed schema/ snapshots.

The current SDL of each subgraph comes from its code (the schema object named by
its `schema: module:attribute` in subgraphs.yaml, answering `_service { sdl }`
through `execute_sync`, as Strawberry schemas do), from live URLs (`--url name=URL`) or from
a folder of files (`--dir`). Every change is BREAKING, DANGEROUS or SAFE; the
exit status is 1 when any change is breaking or the new SDLs do not compose.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from router.commands.compose import (
    SCHEMA_DIR,
    SDL_QUERY,
    SourceError,
    SubgraphEntry,
    fetch_sdl,
    parse_url_options,
    print_result,
    read_config,
)
from router.composition import SubgraphSource, compose
from router.composition.diff import BREAKING, SchemaReadError, diff_subgraph

HELP = "classify subgraph schema changes (breaking/dangerous/safe) against schema/"


def sdl_from_code(entry: SubgraphEntry) -> str:
    """Ask the subgraph's own schema object, exactly as a router would over HTTP."""
    if entry.code is None:
        raise SourceError(f"{entry.name}: no `schema: module:attribute` in subgraphs.yaml; "
                          "give --url or --dir")
    module_name, _, attribute = entry.code.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SourceError(
            f"{entry.name}: cannot import {module_name} ({exc}); install what it needs, or "
            "take the SDLs from files (--dir) or live servers (--url)"
        ) from None
    schema = getattr(module, attribute, None)
    if schema is None or not hasattr(schema, "execute_sync"):
        raise SourceError(f"{entry.name}: {entry.code} is not a schema with execute_sync")
    result = schema.execute_sync(SDL_QUERY)
    if result.errors:
        raise SourceError(f"{entry.name}: _service query failed: {result.errors[0].message}")
    return result.data["_service"]["sdl"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare `--schema-dir`, `--url` and `--dir`."""
    parser.add_argument("--schema-dir", type=Path, default=SCHEMA_DIR,
                        help="committed snapshots and subgraphs.yaml (default: ./schema)")
    parser.add_argument("--url", action="append", default=[], metavar="NAME=URL",
                        help="take this subgraph's current SDL from a live server (repeatable)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="take current SDLs from <dir>/<subgraph>.graphql files")


def run(args: argparse.Namespace) -> int:
    """Diff each subgraph against its snapshot and compose; 1 on breaking changes."""
    folder: Path = args.schema_dir
    try:
        entries = read_config(folder / "subgraphs.yaml")
        urls = {e.name: e.url for e in parse_url_options(args.url)}
        current: dict[str, str] = {}
        for entry in entries:
            if entry.name in urls:
                current[entry.name] = fetch_sdl(urls[entry.name])
            elif args.dir is not None:
                current[entry.name] = (args.dir / f"{entry.name}.graphql").read_text()
            elif not args.url:
                current[entry.name] = sdl_from_code(entry)
        for name in urls.keys() - {e.name for e in entries}:
            entries.append(SubgraphEntry(name, urls[name]))
            current[name] = fetch_sdl(urls[name])
    except (SourceError, OSError) as exc:
        print(f"shopgraph check: {exc}", file=sys.stderr)
        return 2
    breaking = 0
    for entry in entries:
        if entry.name not in current:
            continue
        snapshot = folder / f"{entry.name}.graphql"
        if not snapshot.exists():
            print(f"{entry.name}: new subgraph (no snapshot {snapshot})")
            continue
        try:
            changes = diff_subgraph(snapshot.read_text(), current[entry.name], entry.name)
        except SchemaReadError as exc:
            print(f"{entry.name}: cannot read the SDL: {exc}", file=sys.stderr)
            breaking += 1
            continue
        print(f"{entry.name}: {len(changes) or 'no'} change(s)")
        for change in changes:
            print(f"  {change}")
        breaking += sum(1 for c in changes if c.level == BREAKING)
    sources = [SubgraphSource(e.name, e.url, current.get(e.name) or
                              (folder / f"{e.name}.graphql").read_text()) for e in entries
               if e.name in current or (folder / f"{e.name}.graphql").exists()]
    result = compose(sources)
    print_result(result, quiet_hints=True)
    if breaking:
        print(f"{breaking} breaking change(s)", file=sys.stderr)
    return 1 if breaking or result.errors else 0
