"""The `shopgraph` command line: a thin dispatcher over sub-command modules.

The router's own commands live in `router.commands`. Other installed packages add
commands through the `shopgraph.commands` entry-point group (the shop adds `dev`,
`schema` and `test`), so the router never imports them. Modules are imported only
when chosen so that `shopgraph --help` and quick commands stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType

ROUTER_COMMANDS: dict[str, str] = {
    "router": "router.commands.router",
    "plan": "router.commands.plan",
    "compose": "router.commands.compose",
    "check": "router.commands.check",
    "persisted-queries": "router.commands.persisted_queries",
}
ENTRY_POINT_GROUP = "shopgraph.commands"


def available_commands() -> dict[str, str]:
    """Command name -> module: the router's own, then those other packages register."""
    found = dict(ROUTER_COMMANDS)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def _usage(commands: dict[str, str]) -> str:
    lines = ["usage: shopgraph <command> [options]", "", "commands:"]
    for name, module in commands.items():
        try:
            summary = getattr(importlib.import_module(module), "HELP", "")
        except ImportError as exc:
            summary = f"(not available: {exc})"
        lines.append(f"  {name:<10} {summary}")
    lines.append("")
    lines.append("Run `shopgraph <command> --help` for a command's options.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named by the first argument; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = available_commands()
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage(commands))
        return 0
    name, rest = args[0], args[1:]
    if name not in commands:
        print(f"shopgraph: unknown command {name!r}\n\n{_usage(commands)}", file=sys.stderr)
        return 2
    module: ModuleType = importlib.import_module(commands[name])
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
