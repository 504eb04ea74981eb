"""The shop's `shopgraph` sub-commands (`dev`, `schema`, `test`), registered through
the `shopgraph.commands` entry-point group so the router never imports the shop.

Each module imports only the standard library and the router at import time, so
`shopgraph --help` works without the extras; `run` checks its extra first.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "shop": ("quart", "strawberry", "sqlalchemy", "asyncpg", "alembic", "pgserver", "argon2"),
    "dev": ("pytest", "pytest_asyncio", "playwright", "vulture"),
}


def missing_extra(command: str, extra: str) -> int | None:
    """None when `extra` is installed; else print what to install and return exit status 2."""
    missing = [name for name in EXTRA_MODULES[extra] if find_spec(name) is None]
    if not missing:
        return None
    print(
        f"shopgraph {command} needs the `{extra}` extra (missing: {', '.join(missing)}); "
        f"install it with: python3 -m pip install 'shopgraph[{extra}]' "
        f"(or -e '.[{extra}]' in a source checkout)",
        file=sys.stderr,
    )
    return 2
