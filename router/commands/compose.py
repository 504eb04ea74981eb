"""`shopgraph compose`: compose the subgraphs into schema/supergraph.graphql.

Reads schema/<name>.graphql for every subgraph listed in schema/subgraphs.yaml,
or asks live subgraphs for their SDL (`--url name=URL`, via `_service { sdl }`).
Errors go to stderr with a non-zero exit; hints are printed separately.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from router.composition import CompositionResult, SubgraphSource, compose

HELP = "compose subgraph SDLs (files or live URLs) into schema/supergraph.graphql"

SCHEMA_DIR = Path("schema")  # relative to where the command runs
SDL_QUERY = "query SubgraphSdl { _service { sdl } }"


@dataclass(frozen=True)
class SubgraphEntry:
    """One subgraph of subgraphs.yaml: its name, its routing URL and, optionally, the
    Python object serving its schema (`package.module:attribute`) for `shopgraph check`."""

    name: str
    url: str
    code: str | None = None


class SourceError(Exception):
    """A subgraph's SDL cannot be read (file, URL, config or code)."""


def read_config(path: Path) -> list[SubgraphEntry]:
    """The `subgraphs:` list of a subgraphs.yaml (`name`, `url`, optional `schema`)."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    entries = data.get("subgraphs") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SourceError(f"{path}: expected a `subgraphs:` list of {{name, url}}")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("url"):
            raise SourceError(f"{path}: every subgraph needs a name and a url, got {entry!r}")
        code = entry.get("schema")
        if code is not None and (not isinstance(code, str) or ":" not in code):
            raise SourceError(f"{path}: {entry['name']}: `schema` must be 'module:attribute'")
        out.append(SubgraphEntry(str(entry["name"]), str(entry["url"]), code))
    return out


def parse_url_options(values: list[str]) -> list[SubgraphEntry]:
    """`NAME=URL` command-line values as entries."""
    out = []
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url:
            raise SourceError(f"--url expects NAME=URL, got {value!r}")
        out.append(SubgraphEntry(name, url))
    return out


def fetch_sdl(url: str, timeout: float = 10.0) -> str:
    """A live subgraph's SDL through the federation `_service { sdl }` query."""
    try:
        response = httpx.post(url, json={"query": SDL_QUERY}, timeout=timeout)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SourceError(f"{url}: cannot fetch the SDL: {exc}") from None
    sdl = ((body or {}).get("data") or {}).get("_service", {}) or {}
    if not isinstance(sdl, dict) or not isinstance(sdl.get("sdl"), str):
        raise SourceError(f"{url}: no `_service {{ sdl }}` in the response: "
                          f"{str(body)[:300]}")
    return sdl["sdl"]


def sources_from_files(entries: list[SubgraphEntry], folder: Path) -> list[SubgraphSource]:
    """Each entry's SDL from `<folder>/<name>.graphql`."""
    out = []
    for entry in entries:
        path = folder / f"{entry.name}.graphql"
        try:
            out.append(SubgraphSource(entry.name, entry.url, path.read_text()))
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    return out


def sources_from_urls(entries: list[SubgraphEntry]) -> list[SubgraphSource]:
    """Each entry's SDL asked of the live subgraph at its URL."""
    return [SubgraphSource(e.name, e.url, fetch_sdl(e.url)) for e in entries]


def print_result(result: CompositionResult, quiet_hints: bool = False) -> None:
    """Hints to stdout (unless quiet), errors to stderr."""
    if not quiet_hints and result.hints:
        print(f"{len(result.hints)} hint(s):")
        for hint in result.hints:
            print(f"  hint: {hint}")
    if result.errors:
        print(f"composition failed with {len(result.errors)} error(s):", file=sys.stderr)
        for error in result.errors:
            print(f"  error: {error}", file=sys.stderr)


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare `--schema-dir`, `--url`, `--out`, `--check` and `--no-hints`."""
    parser.add_argument("--schema-dir", type=Path, default=SCHEMA_DIR,
                        help="folder with subgraphs.yaml and <subgraph>.graphql (default: schema/)")
    parser.add_argument("--url", action="append", default=[], metavar="NAME=URL",
                        help="compose this live subgraph (repeatable); replaces the file list")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the supergraph (default: <schema-dir>/"
                             "supergraph.graphql; '-' for stdout)")
    parser.add_argument("--check", action="store_true",
                        help="do not write: exit 1 if the written supergraph is stale")
    parser.add_argument("--no-hints", action="store_true", help="do not print hints")


def run(args: argparse.Namespace) -> int:
    """Compose and write (or check) the supergraph; 1 when composition fails or it is stale."""
    folder: Path = args.schema_dir
    try:
        if args.url:
            sources = sources_from_urls(parse_url_options(args.url))
        else:
            sources = sources_from_files(read_config(folder / "subgraphs.yaml"), folder)
    except SourceError as exc:
        print(f"shopgraph compose: {exc}", file=sys.stderr)
        return 2
    result = compose(sources)
    print_result(result, args.no_hints)
    if result.supergraph_sdl is None:
        return 1
    out = args.out or folder / "supergraph.graphql"
    if str(out) == "-":
        sys.stdout.write(result.supergraph_sdl)
        return 0
    if args.check:
        current = out.read_text() if out.exists() else ""
        if current != result.supergraph_sdl:
            print(f"{out} is stale: run `shopgraph compose`", file=sys.stderr)
            return 1
        print(f"{out} is up to date ({len(sources)} subgraphs)")
        return 0
    out.write_text(result.supergraph_sdl)
    print(f"wrote {out} ({len(sources)} subgraphs)")
    return 0
