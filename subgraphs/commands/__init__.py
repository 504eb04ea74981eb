"""The shop's `shopgraph` sub-commands (`dev`, `schema`, `test`), registered through
the `shopgraph.commands` entry-point group so the router never imports the shop.

Each module imports only the standard library and the router at import time, so
`shopgraph --help` works without the extras; `run` checks its extra first, against
the requirements the installed package declares for it.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, requires, version

DISTRIBUTION = "shopgraph"
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
HOW_TO_INSTALL = {
    "shop": "python3 -m pip install 'shopgraph[shop]' (or -e '.[shop]' in a source checkout)",
    "dev": "python3 -m pip install -e '.[dev]' inside the source checkout",
}


def extra_requirements(extra: str) -> list[str]:
    """The distributions `extra` asks for, with the package's own extras it names expanded."""
    found: list[str] = []
    for requirement in requires(DISTRIBUTION) or ():
        spec, _, marker = requirement.partition(";")
        wanted = _EXTRA_MARKER.search(marker)
        match = _REQUIREMENT.match(spec)
        if wanted is None or wanted.group(1) != extra or match is None:
            continue
        name, extras = match.group(1), match.group(2) or ""
        if name.lower() == DISTRIBUTION:
            for inner in filter(None, (e.strip() for e in extras.split(","))):
                found += extra_requirements(inner)
        else:
            found.append(name)
    return found


def _installed(name: str) -> bool:
    try:
        version(name)
    except PackageNotFoundError:
        return False
    return True


def missing_extra(command: str, extra: str) -> int | None:
    """None when `extra` is installed; else print what to install and return exit status 2."""
    try:
        missing = [name for name in extra_requirements(extra) if not _installed(name)]
    except PackageNotFoundError:
        return None  # running from a source tree that was never installed: nothing to check
    if not missing:
        return None
    print(
        f"shopgraph {command} needs the `{extra}` extra (missing: {', '.join(missing)}); "
        f"install it with: {HOW_TO_INSTALL[extra]}",
        file=sys.stderr,
    )
    return 2
