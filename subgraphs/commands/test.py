"""`shopgraph test`: install what the test suite needs, then run pytest.

On a fresh machine this is the only thing to run after `pip install -e '.[dev]'`
in a source checkout: it brings in system packages (Chromium for the playground
test) and the npm tools some tests use, then runs the suite. Each step is skipped
when already satisfied, so repeated runs cost nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from subgraphs.commands import missing_extra

HELP = "install test prerequisites (chromium, npm tools) and run the test suite"
PASSES_UNKNOWN_ARGS = True  # everything not ours goes to pytest

# npm projects whose node_modules some tests need; each holds a package.json
# and package-lock.json so installs are reproducible.
NPM_PROJECTS: tuple[str, ...] = ("tests/conformance/tools", "tests/http_audit", "tests/clients")
APT_PACKAGES: dict[str, str] = {"chromium": "chromium"}  # executable -> Debian package


class NotACheckout(Exception):
    """The command was run outside a shopgraph source checkout."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare `--no-install`; every other argument goes to pytest."""
    parser.add_argument("--no-install", action="store_true", help="skip installing prerequisites")


def checkout_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding shopgraph's pyproject.toml and tests/."""
    for folder in (start, *start.parents):
        project = folder / "pyproject.toml"
        if (
            project.is_file()
            and (folder / "tests").is_dir()
            and 'name = "shopgraph"' in project.read_text()
        ):
            return folder
    raise NotACheckout(f"no shopgraph source checkout at or above {start}")


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def install_prerequisites(root: Path) -> None:
    """Install Chromium (Debian) and the tests' npm projects when they are missing."""
    missing = [pkg for exe, pkg in APT_PACKAGES.items() if shutil.which(exe) is None]
    if missing and shutil.which("apt-get"):
        _run(["apt-get", "update", "-q"])
        env_cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        subprocess.run(env_cmd, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if shutil.which("npm"):
        for project in NPM_PROJECTS:
            folder = root / project
            if not (folder / "node_modules").is_dir():
                _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder)


def run(args: argparse.Namespace) -> int:
    """Install the prerequisites unless told not to, then run pytest in the checkout."""
    refused = missing_extra("test", "dev")
    if refused is not None:
        return refused
    try:
        root = checkout_root(Path.cwd())
    except NotACheckout as exc:
        print(f"shopgraph test: {exc}; run it inside the repository", file=sys.stderr)
        return 2
    if not args.no_install:
        install_prerequisites(root)
    pytest_args = [a for a in args.extra_args if a != "--"]
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=root)
