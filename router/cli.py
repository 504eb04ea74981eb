"""The `shopgraph` command line: a thin dispatcher over `router.commands`.

Sub-command modules are imported only when chosen so that `shopgraph --help`
and quick commands stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

COMMANDS: dict[str, str] = {
    "dev": "router.commands.dev",
    "router": "router.commands.router",
    "plan": "router.commands.plan",
    "compose": "router.commands.compose",
    "check": "router.commands.check",
    "test": "router.commands.test",
    "schema": "router.commands.schema",
}


def _load(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])


def _usage() -> str:
    lines = ["usage: shopgraph <command> [options]", "", "commands:"]
    for name in COMMANDS:
        try:
            summary = getattr(_load(name), "HELP", "")
        except ImportError:
            summary = "(not available)"
        lines.append(f"  {name:<10} {summary}")
    lines.append("")
    lines.append("Run `shopgraph <command> --help` for a command's options.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"shopgraph: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = _load(name)
    parser = argparse.ArgumentParser(prog=f"shopgraph {name}", description=module.HELP)
    module.configure(parser)
    if getattr(module, "PASSES_UNKNOWN_ARGS", False):
        parsed, extra = parser.parse_known_args(rest)
        parsed.extra_args = extra
    else:
        parsed = parser.parse_args(rest)
    return int(module.run(parsed) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
